"""InfoGAN objective: non-saturating GAN loss plus the mutual-information terms.

Phases (declared in :meth:`InfoGANObjective.declare_phases`, scheduled by the loop):

* ``D``: real/fake logistic loss on the discriminator (trunk + real/fake head)::

      Loss/D = softplus(-D(x_real)) + softplus(D(G(z, c))) [+ info_in_d * (NLL_cat + NLL_cont)]

  The bracketed term (``model.info_in_d > 0``, the InfoGAN-CR reference's ``info_coe_infod``)
  lets the MI loss train the shared trunk and Q with D's optimizer.

* ``G``: the generator and the Q head (the InfoGAN convention: Q's parameters are optimized
  with G; the shared trunk is not updated in this phase)::

      Loss/G = softplus(-D(G(z, c))) + lambda_cat * NLL_cat + lambda_cont * NLL_cont

  with the NLLs of :class:`~infogan_kit.models.info_codes.InfoCodes` (each code weighted by its
  latent-spec weight). Logged: ``Loss/G``, ``Loss/G/adversarial``, ``Loss/Q/categorical``,
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

from ..models.info_codes import InfoCodes
from ..models.latent import Latents
from ..training.stats import report
from .base import Objective, Phase

if TYPE_CHECKING:
    from ..training.context import Batch, PhaseContext


class InfoGANObjective(Objective):
    """Losses of InfoGAN for the phases ``D`` and ``G``.

    Args:
        generator: G, latent input -> images in [0, 1].
        discriminator: D with ``forward(images) -> (logits, q_params)``.
        codes: the InfoGAN codes (spec, weights, MI loss).
        info_in_d: weight of the MI loss in the ``D`` phase (0: Q is trained with G only).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, codes: InfoCodes, info_in_d: float = 0.0) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.codes = codes
        self.info_in_d = info_in_d
        super().__init__()

    def declare_phases(self) -> list[Phase]:
        return [Phase("D", "D", self.discriminator_phase), Phase("G", "G", self.generator_phase)]

    # ------------------------------------------------------------------ pieces
    def mi_loss(self, q_params: torch.Tensor, latents: Latents) -> torch.Tensor:
        """The codes' weighted MI loss (scalar, fp32), reporting ``Loss/Q/...`` and ``MI/categorical``."""
        loss = self.codes.mi_loss(q_params, latents)
        if loss.nll_cat is not None:
            report("Loss/Q/categorical", loss.nll_cat)
            report("MI/categorical", loss.mi_cat)
        if loss.nll_cont is not None:
            report("Loss/Q/continuous", loss.nll_cont)
        return loss.total

    def generate(self, batch_size: int, ctx: "PhaseContext") -> tuple[torch.Tensor, Latents]:
        """Sample latents from the loop's RNG and return (fake images, latents)."""
        latents = self.codes.sample(batch_size, ctx.rng, ctx.device)
        with ctx.autocast():
            fake_images = self.generator(self.codes.to_input(latents))
        return ctx.to_memory_format(fake_images), latents

    # ------------------------------------------------------------------ phases
    def discriminator_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``D``: the logistic real/fake loss (plus ``info_in_d`` times the MI loss)."""
        with torch.no_grad():
            fake_images, latents = self.generate(len(batch), ctx)
        with ctx.autocast():
            logits_real, _ = self.discriminator(batch.real_images)
            logits_fake, q_params = self.discriminator(fake_images)
        logits_real, logits_fake = logits_real.float(), logits_fake.float()
        loss_d = F.softplus(-logits_real).mean() + F.softplus(logits_fake).mean()
        if self.info_in_d > 0:
            loss_d = loss_d + self.codes.mi_loss(q_params, latents, self.info_in_d, self.info_in_d).total
        report("Loss/D", loss_d)
        report("D/real", torch.sigmoid(logits_real))
        report("D/fake", torch.sigmoid(logits_fake))
        ctx.backward(loss_d)

    def generator_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``G``: the non-saturating adversarial loss plus the MI loss (G and the Q head)."""
        fake_images, latents = self.generate(len(batch), ctx)
        with ctx.autocast():
            logits_fake, q_params = self.discriminator(fake_images)
        loss_adv = F.softplus(-logits_fake.float()).mean()
        loss_g = loss_adv + self.mi_loss(q_params, latents)
        report("Loss/G/adversarial", loss_adv)
        report("Loss/G", loss_g)
        ctx.backward(loss_g)
