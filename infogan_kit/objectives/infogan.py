"""InfoGAN objective: non-saturating GAN loss plus the mutual-information terms.

Phases (scheduled by the loop, see ``training/loop.py``):

* ``D``: real/fake logistic loss on the discriminator (trunk + real/fake head)::

      Loss/D = softplus(-D(x_real)) + softplus(D(G(z, c))) [+ info_in_d * (NLL_cat + NLL_cont)]

  The bracketed term (``model.info_in_d > 0``, the InfoGAN-CR reference's ``info_coe_infod``)
  lets the MI loss train the shared trunk and Q with D's optimizer.

* ``G``: the generator and the Q head (the InfoGAN convention: Q's parameters are optimized
  with G; the shared trunk is not updated in this phase)::

      Loss/G = softplus(-D(G(z, c))) + lambda_cat * NLL_cat + lambda_cont * NLL_cont

  with the NLLs of :mod:`~infogan_kit.objectives.mutual_info`, each code weighted by its
  latent-spec weight. Logged: ``Loss/G``, ``Loss/G/adversarial``, ``Loss/Q/categorical``,
  ``Loss/Q/continuous``, ``MI/categorical`` (the lower bound ``H(c) - NLL``), ``D/real`` and
  ``D/fake`` (mean sigmoid outputs).

The objective owns every forward and backward pass of its phases; the loop only provides the
batch, the latent RNG, autocast and the (scaled) backward through a :class:`PhaseContext`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ..models.latent import Latents, LatentSpec
from ..training.stats import report
from .mutual_info import categorical_entropy, categorical_nll, gaussian_nll

if TYPE_CHECKING:
    from ..training.context import Batch, PhaseContext


class InfoGANObjective:
    """Losses of InfoGAN for the phases ``D`` and ``G``.

    Args:
        generator: G, latent input -> images in [0, 1].
        discriminator: D with ``forward(images) -> (logits, q_params)``.
        latent: the latent specification.
        lambda_cont: weight of the continuous-code NLL.
        lambda_cat: weight of the categorical-code NLL.
        learned_variance: Q predicts log-variances of continuous codes.
        info_in_d: weight of the MI loss in the ``D`` phase (0: Q is trained with G only).
    """

    phases = ("D", "G")

    def __init__(
        self,
        generator: nn.Module,
        discriminator: nn.Module,
        latent: LatentSpec,
        lambda_cont: float,
        lambda_cat: float,
        learned_variance: bool,
        info_in_d: float = 0.0,
    ) -> None:
        self.generator = generator
        self.info_in_d = info_in_d
        self.discriminator = discriminator
        self.latent = latent
        self.lambda_cont = lambda_cont
        self.lambda_cat = lambda_cat
        self.learned_variance = learned_variance
        self._cont_weights: torch.Tensor | None = None

    # ------------------------------------------------------------------ pieces
    def mi_loss(
        self, q_params: torch.Tensor, latents: Latents, lambda_cont: float | None = None, lambda_cat: float | None = None, log: bool = True
    ) -> torch.Tensor:
        """Weighted MI loss (scalar, fp32) of Q's output for the latents that made the images.

        ``lambda_cont`` / ``lambda_cat`` default to the objective's weights; ``log`` reports the
        NLLs (``Loss/Q/...``)."""
        lambda_cont = self.lambda_cont if lambda_cont is None else lambda_cont
        lambda_cat = self.lambda_cat if lambda_cat is None else lambda_cat
        logits, means, logvars = self.latent.split_q(q_params.float(), self.learned_variance)
        total = q_params.new_zeros((), dtype=torch.float32)
        if logits:
            nll_cat = torch.stack(
                [w * categorical_nll(l, latents.codes_cat[:, i]).mean() for i, (l, w) in enumerate(zip(logits, self.latent.cat_weights))]
            ).sum()
            if log:
                entropy = sum(categorical_entropy(k) for k in self.latent.cat_sizes)
                report("Loss/Q/categorical", nll_cat)
                report("MI/categorical", entropy - sum(categorical_nll(l, latents.codes_cat[:, i]).mean() for i, l in enumerate(logits)))
            total = total + lambda_cat * nll_cat
        if self.latent.num_cont:
            if self._cont_weights is None or self._cont_weights.device != means.device:
                self._cont_weights = self.latent.cont_weights.to(means.device)
            nll_cont = (gaussian_nll(means, latents.codes_cont, logvars).mean(0) * self._cont_weights).sum()
            if log:
                report("Loss/Q/continuous", nll_cont)
            total = total + lambda_cont * nll_cont
        return total

    def generate(self, batch_size: int, ctx: "PhaseContext") -> tuple[torch.Tensor, Latents]:
        """Sample latents from the loop's RNG and return (fake images, latents)."""
        latents = self.latent.sample(batch_size, ctx.generator, ctx.device)
        with ctx.autocast():
            fake_images = self.generator(self.latent.to_input(latents))
        return ctx.to_memory_format(fake_images), latents

    # ------------------------------------------------------------------ phases
    def accumulate_gradients(self, phase: str, batch: "Batch", ctx: "PhaseContext") -> None:
        """Run the forward and backward passes of ``phase`` on ``batch``."""
        if phase == "D":
            self._discriminator_phase(batch, ctx)
        elif phase == "G":
            self._generator_phase(batch, ctx)
        else:
            raise ValueError(f"InfoGAN has no phase {phase!r}")

    def _discriminator_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        with torch.no_grad():
            fake_images, latents = self.generate(len(batch), ctx)
        with ctx.autocast():
            logits_real, _ = self.discriminator(batch.real_images)
            logits_fake, q_params = self.discriminator(fake_images)
        logits_real, logits_fake = logits_real.float(), logits_fake.float()
        loss_d = F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()
        if self.info_in_d > 0:
            loss_d = loss_d + self.mi_loss(q_params, latents, self.info_in_d, self.info_in_d, log=False)
        report("Loss/D", loss_d)
        report("D/real", torch.sigmoid(logits_real))
        report("D/fake", torch.sigmoid(logits_fake))
        ctx.backward(loss_d)

    def _generator_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        fake_images, latents = self.generate(len(batch), ctx)
        with ctx.autocast():
            logits_fake, q_params = self.discriminator(fake_images)
        loss_adv = F.softplus(-logits_fake.float()).mean()
        loss_g = loss_adv + self.mi_loss(q_params, latents)
        report("Loss/G/adversarial", loss_adv)
        report("Loss/G", loss_g)
        ctx.backward(loss_g)
