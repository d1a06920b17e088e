"""Objective of ``stylegan-info``: non-saturating GAN loss, InfoGAN MI terms, lazy regularizers.

Phases (scheduled by the loop; intervals from the model config):

* ``D`` (every step): ``softplus(D(aug(G(z, c)))) + softplus(-D(aug(x_real)))``. Both reals and
  fakes go through the same differentiable augmentation (probability ``p``, adapted from the
  signs of ``D(aug(x_real))``). Logged: ``Loss/D``, ``D/real``, ``D/fake``, ``Augment/p``,
  ``Augment/sign_real``.
* ``Dreg`` (every ``r1_interval`` = 16 steps): R1 on (augmented) reals, ``gamma / 2 * ||grad||^2``
  times the interval. Logged: ``Loss/R1``.
* ``G`` (every step): ``softplus(-D(aug(G(z, c))))`` + the InfoGAN MI terms of Q on the
  *un-augmented* fakes (an augmentation such as a translation would change the codes Q must
  recover). Style mixing regularization draws a second ``w`` with the same codes. Logged as
  InfoGAN: ``Loss/G``, ``Loss/G/adversarial``, ``Loss/Q/...``.
* ``Greg`` (every ``pl_interval`` = 4 steps): path length on half the batch (``Loss/PL``,
  ``PL/mean``), the Hessian penalty (``Loss/Hessian``) and OroJaR (``Loss/OroJaR``) w.r.t. the
  continuous codes with fixed noise, each times its ramped weight, all times the interval.
  OroJaR averages the squared directional derivatives over pixels (resolution-independent weight).

The regularizer phases run in fp32 (no autocast) and call the networks' methods and
``forward`` directly, never the module call that ``torch.compile`` replaces, because double
backward (R1, path length) is not supported through compiled graphs; the main phases call the
modules (compiled when ``train.compile`` is on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from ..models.info_codes import InfoCodes
from ..models.latent import Latents
from ..training.stats import report
from .base import Phase
from .infogan import InfoGANObjective
from .regularizers.augment import AdaptiveAugmentProbability, augment
from .regularizers.hessian import hessian_penalty
from .regularizers.orojar import orojar_penalty
from .regularizers.path_length import PathLengthRegularizer, path_lengths
from .regularizers.r1 import r1_penalty
from .schedule import Schedule, ScheduledValue

if TYPE_CHECKING:
    from ..training.context import Batch, PhaseContext


@dataclass
class RegularizerSettings:
    """Weights, intervals and estimator settings of the regularizers.

    Attributes:
        r1: R1 weight ``gamma`` (a :class:`~infogan_kit.objectives.schedule.Schedule`, ramped);
        r1_interval: steps between ``Dreg`` phases.
        path_length: path-length weight (ramped); pl_interval: steps between ``Greg`` phases;
        pl_batch_shrink: ``Greg`` uses ``batch // shrink`` samples; pl_decay: EMA rate of pl_mean.
        hessian, orojar: weights (ramped); hessian_k/orojar_k: directions; *_epsilon: steps.
        hessian_layers: block resolutions whose features are penalized besides the output
            (empty: the output image only); include_output: penalize the image too.
        mixing_prob: style-mixing probability of the G passes.
    """

    r1: Schedule = field(default_factory=lambda: Schedule.constant(0.0))
    r1_interval: int = 16
    path_length: Schedule = field(default_factory=lambda: Schedule.constant(0.0))
    pl_interval: int = 4
    pl_batch_shrink: int = 2
    pl_decay: float = 0.01
    hessian: Schedule = field(default_factory=lambda: Schedule.constant(0.0))
    hessian_k: int = 2
    hessian_epsilon: float = 0.1
    hessian_layers: tuple[int, ...] = ()
    include_output: bool = True
    orojar: Schedule = field(default_factory=lambda: Schedule.constant(0.0))
    orojar_k: int = 2
    orojar_epsilon: float = 0.1
    mixing_prob: float = 0.9

    @property
    def g_regularized(self) -> bool:
        """True when the ``Greg`` phase has anything to do."""
        return self.path_length.enabled or self.hessian.enabled or self.orojar.enabled


class StyleGANInfoObjective(InfoGANObjective):
    """Losses of the phases ``D``, ``Dreg``, ``G``, ``Greg`` (see the module docstring).

    Args:
        generator: a :class:`~infogan_kit.models.stylegan.StyleGenerator`.
        discriminator: a :class:`~infogan_kit.models.stylegan.ResidualDiscriminator`.
        codes: the InfoGAN codes (spec, MI weights, MI loss).
        settings: regularizer settings.
        augmentation: the probability controller; operations: augmentation operations.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, codes: InfoCodes, settings: RegularizerSettings,
                 augmentation: AdaptiveAugmentProbability, operations: tuple[str, ...]) -> None:
        self.settings = settings
        self.augmentation = augmentation
        self.operations = operations
        self.path_length = PathLengthRegularizer(settings.pl_decay)
        device = self.device_of(generator, discriminator)
        self.weights = {name: ScheduledValue(getattr(settings, name), device) for name in ("r1", "path_length", "hessian", "orojar")}
        super().__init__(generator, discriminator, codes)

    def declare_phases(self) -> list[Phase]:
        settings = self.settings
        phases = [Phase("D", "D", self.discriminator_phase)]
        if settings.r1.enabled:
            phases.append(Phase("Dreg", "D", self.r1_phase, interval=settings.r1_interval))
        phases.append(Phase("G", "G", self.generator_phase))
        if settings.g_regularized:
            phases.append(Phase("Greg", "G", self.generator_regularization_phase, interval=settings.pl_interval))
        return phases

    def start_step(self, step: int) -> None:
        """Weight ramps (written into their device tensors) and the augmentation controller see the
        step before its phases run."""
        super().start_step(step)
        for weight in self.weights.values():
            weight.update(step)
        self.augmentation.maybe_update(step)

    def state_dict(self) -> dict[str, Any]:
        """``pl_mean`` and the augmentation probability (with its pending statistics)."""
        return {"path_length": self.path_length.state_dict(), "augment": self.augmentation.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        if "path_length" in state:
            self.path_length.load_state_dict(state["path_length"])
        if "augment" in state:
            self.augmentation.load_state_dict(state["augment"])

    def augment(self, images: torch.Tensor, ctx: "PhaseContext") -> torch.Tensor:
        """The D-side augmentation at the current probability (identity at p = 0)."""
        return augment(images, self.augmentation.p, self.operations, ctx.rng)

    def generate(self, batch_size: int, ctx: "PhaseContext", update_w_avg: bool = False) -> tuple[torch.Tensor, Latents]:
        """Fake images (style mixing on, no truncation) and their latents."""
        latents = self.codes.sample(batch_size, ctx.rng, ctx.device)
        with ctx.autocast():
            fake_images = self.generator(self.codes.to_input(latents), truncation_psi=1.0,
                                         mixing_prob=self.settings.mixing_prob, update_w_avg=update_w_avg)
        return ctx.to_memory_format(fake_images), latents

    # ------------------------------------------------------------------ phases
    def discriminator_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``D``: the logistic loss on augmented reals and fakes; feeds the ADA statistics."""
        with torch.no_grad():
            fake_images, _ = self.generate(len(batch), ctx)
        with ctx.autocast():
            logits_fake, _ = self.discriminator(self.augment(fake_images, ctx))
            logits_real, _ = self.discriminator(self.augment(batch.real_images, ctx))
        logits_real, logits_fake = logits_real.float(), logits_fake.float()
        loss_d = F.softplus(logits_fake).mean() + F.softplus(-logits_real).mean()
        self.augmentation.accumulate(logits_real)
        report("Loss/D", loss_d)
        report("D/real", torch.sigmoid(logits_real))
        report("D/fake", torch.sigmoid(logits_fake))
        report("Augment/p", self.augmentation.p)
        report("Augment/sign_real", torch.sign(logits_real.detach()))
        ctx.backward(loss_d)

    def r1_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``Dreg``: lazy R1 on (augmented) reals."""
        gamma = self.weights["r1"].tensor
        # fp32 and eager (the double backward): call forward, not the (possibly compiled) module.
        signed_images = (batch.real_images.float() * 2 - 1).detach().requires_grad_(True)
        logits, _ = self.discriminator.forward(self.augment((signed_images + 1) / 2, ctx))
        penalty = r1_penalty(signed_images, logits)
        report("Loss/R1", penalty)
        ctx.backward(penalty.mean() * (gamma / 2) * self.settings.r1_interval)

    def generator_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``G``: the adversarial loss on augmented fakes plus the MI loss on un-augmented ones."""
        fake_images, latents = self.generate(len(batch), ctx, update_w_avg=True)
        with ctx.autocast():
            if self.augmentation.p > 0:
                logits_fake, _ = self.discriminator(self.augment(fake_images, ctx))
                _, q_params = self.discriminator(fake_images)
            else:
                logits_fake, q_params = self.discriminator(fake_images)
        loss_adv = F.softplus(-logits_fake.float()).mean()
        loss_g = loss_adv + self.mi_loss(q_params, latents)
        report("Loss/G/adversarial", loss_adv)
        report("Loss/G", loss_g)
        ctx.backward(loss_g)

    def generator_regularization_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``Greg``: path length, Hessian penalty and OroJaR (lazy)."""
        settings = self.settings
        count = max(1, len(batch) // settings.pl_batch_shrink)
        latents = self.codes.sample(count, ctx.rng, ctx.device)
        total = torch.zeros((), device=ctx.device)
        if settings.path_length.enabled:
            inputs = self.generator.layer_inputs(self.codes.to_input(latents), 1.0, settings.mixing_prob)
            images = self.generator.synthesize(inputs, "random")
            penalty = self.path_length.penalty(path_lengths(images, inputs.ws, ctx.rng))
            report("Loss/PL", penalty)
            report("PL/mean", self.path_length.pl_mean)
            total = total + penalty.mean() * self.weights["path_length"].tensor
        if self.codes.spec.num_cont and (settings.hessian.enabled or settings.orojar.enabled):
            total = total + self._code_penalties(latents, ctx)
        ctx.backward(total * settings.pl_interval)

    def _code_penalties(self, latents: Latents, ctx: "PhaseContext") -> torch.Tensor:
        """Hessian penalty and OroJaR w.r.t. the continuous codes (fixed noise, fp32, eager)."""
        settings, count = self.settings, len(latents)

        def render(codes_cont: torch.Tensor) -> list[torch.Tensor]:
            """Continuous codes ``[m, num_cont]`` (m a multiple of count) -> images (+ block features)."""
            repeats = codes_cont.shape[0] // count
            rows = Latents(latents.codes_cat.repeat(repeats, 1), codes_cont, latents.noise.repeat(repeats, 1))
            inputs = self.generator.layer_inputs(self.codes.to_input(rows), 1.0, 0.0)
            images, features = self.generator.synthesize(inputs, "const", return_features=True)
            by_resolution = {f.shape[-1]: f for f in features}
            chosen = [by_resolution[r] for r in settings.hessian_layers]
            return ([images] if settings.include_output else []) + chosen

        total = torch.zeros((), device=ctx.device)
        if settings.hessian.enabled:
            penalty = hessian_penalty(render, latents.codes_cont, settings.hessian_k, settings.hessian_epsilon, "max", ctx.rng)
            report("Loss/Hessian", penalty)
            total = total + penalty * self.weights["hessian"].tensor
        if settings.orojar.enabled:
            penalty = orojar_penalty(render, latents.codes_cont, settings.orojar_k, settings.orojar_epsilon, "max", ctx.rng,
                                     average=True)
            report("Loss/OroJaR", penalty)
            total = total + penalty * self.weights["orojar"].tensor
        return total
