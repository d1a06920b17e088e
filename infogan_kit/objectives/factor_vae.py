"""FactorVAE (Kim & Mnih 2018), as in disentanglement_lib's ``FactorVAE.model_fn``.

Two phases per step, on the same batch:

* ``VAE`` (encoder + decoder; the discriminator frozen)::

      Loss/VAE = reconstruction + KL + gamma * TC,   TC = mean_batch [D(z)_0 - D(z)_1]

  ``D(z)`` are the discriminator's two logits on posterior samples ``z ~ q(z | x)``; the
  difference of the logits estimates ``log q(z) - log prod_l q(z_l)`` (the density-ratio trick).
* ``D`` (discriminator only, its own Adam: lr 1e-4, betas 0.5/0.9 in the study)::

      Loss/D = -(0.5 mean log p(z)_0 + 0.5 mean log p(perm(z))_1),   p = clip(softmax(D), 1e-6, 1 - 1e-6)

  on the very samples ``z`` of the ``VAE`` phase (detached) and their dimension-wise
  permutation ``perm(z)`` (each latent shuffled across the batch independently: a sample of the
  product of the marginals). Class 0 = "from q(z)", class 1 = "permuted".

Logged besides the shared VAE terms: ``Loss/TC`` (the TC estimate, unweighted), ``Loss/D``,
``D/accuracy`` (the discriminator's accuracy over both halves; 0.5 = it cannot tell them apart).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from ..training.stats import report
from .base import Phase
from .vae import VAEObjective
from .vae_terms import permute_dims

if TYPE_CHECKING:
    from ..training.context import Batch, PhaseContext

PROBABILITY_CLIP = 1e-6
"""disentanglement_lib clips the discriminator's probabilities to [1e-6, 1 - 1e-6] before the log."""


def discriminator_tc(logits: torch.Tensor) -> torch.Tensor:
    """TC estimate ``mean(logits[:, 0] - logits[:, 1])`` from the discriminator's logits ``[n, 2]`` (scalar)."""
    logits = logits.float()
    return (logits[:, 0] - logits[:, 1]).mean()


def discriminator_loss(logits_joint: torch.Tensor, logits_permuted: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of the discriminator: class 0 for codes of q(z), class 1 for permuted codes.

    Args:
        logits_joint: logits ``[n, 2]`` on posterior samples.
        logits_permuted: logits ``[n, 2]`` on their dimension-wise permutation.

    Returns:
        ``-(0.5 mean log p_joint[:, 0] + 0.5 mean log p_permuted[:, 1])`` (scalar), with the
        probabilities clipped to ``[1e-6, 1 - 1e-6]`` as in disentanglement_lib.
    """
    probs_joint = torch.softmax(logits_joint.float(), dim=1).clamp(PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    probs_permuted = torch.softmax(logits_permuted.float(), dim=1).clamp(PROBABILITY_CLIP, 1 - PROBABILITY_CLIP)
    return -(0.5 * probs_joint[:, 0].log().mean() + 0.5 * probs_permuted[:, 1].log().mean())


class FactorVAEObjective(VAEObjective):
    """FactorVAE's phases ``VAE`` and ``D``.

    Args:
        encoder, decoder: the VAE networks.
        discriminator: latents ``[n, D]`` -> logits ``[n, 2]``.
        gamma: weight of the TC term.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, discriminator: nn.Module, gamma: float) -> None:
        self.discriminator = discriminator
        self.gamma = gamma
        self._pending_latents: list[torch.Tensor] = []
        super().__init__(encoder, decoder)

    def declare_phases(self) -> list[Phase]:
        return super().declare_phases() + [Phase("D", "D", self.discriminator_phase)]

    def start_step(self, step: int) -> None:
        """Forget the previous step's latents (the ``D`` phase uses those of this step's ``VAE`` phase)."""
        super().start_step(step)
        self._pending_latents.clear()

    def regularizer(
        self, kl: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor, latents: torch.Tensor, ctx: "PhaseContext"
    ) -> torch.Tensor:
        """``KL + gamma * TC`` with TC from the (frozen) discriminator; keeps ``latents`` for ``D``."""
        self._pending_latents.append(latents.detach())
        with ctx.autocast():
            logits = self.discriminator(latents)
        tc = discriminator_tc(logits)
        report("Loss/TC", tc)
        return kl + self.gamma * tc

    def discriminator_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``D``: backward of :meth:`discriminator_phase_loss` (the discriminator only)."""
        ctx.backward(self.discriminator_phase_loss(batch, ctx))

    def discriminator_phase_loss(self, batch: "Batch", ctx: "PhaseContext") -> torch.Tensor:
        """The discriminator's loss on this micro-batch's posterior samples and their permutation.

        Uses the samples the ``VAE`` phase drew for the same micro-batch; when there are none
        (a ``D`` phase run on its own), encodes ``batch`` without gradients and samples anew.
        """
        if self._pending_latents and len(self._pending_latents[0]) == len(batch):
            latents = self._pending_latents.pop(0)
        else:
            with torch.no_grad():
                _, _, latents = self.encode(batch.real_images, ctx)
        permuted = permute_dims(latents, ctx.rng)
        with ctx.autocast():
            logits_joint = self.discriminator(latents)
            logits_permuted = self.discriminator(permuted)
        loss = discriminator_loss(logits_joint, logits_permuted)
        with torch.no_grad():
            correct = (logits_joint.argmax(1) == 0).float().mean() + (logits_permuted.argmax(1) == 1).float().mean()
        report("Loss/D", loss)
        report("D/accuracy", correct / 2)
        return loss
