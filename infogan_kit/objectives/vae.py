"""VAE-family objectives, one class each, as in disentanglement_lib (``methods/unsupervised/vae.py``).

Every objective minimizes ``reconstruction + regularizer`` on a batch of real images::

    reconstruction = mean_batch sum_pixels sigmoid_cross_entropy(decoder(z), x)
    KL             = mean_batch sum_latents KL(q(z_l | x) || N(0, 1)),   z ~ q(z | x)

    beta-VAE      regularizer = beta KL                                  (Higgins et al. 2017, eq. 4)
    AnnealedVAE   regularizer = gamma |KL - C(t)|, C(t) = min(C_max, C_max t / T)
                                                                         (Burgess et al. 2018, eq. 8)
    beta-TCVAE    regularizer = KL + (beta - 1) TC_mws                   (Chen et al. 2018, eq. 5, alpha = gamma = 1)
    DIP-VAE-I     regularizer = KL + lambda_od sum_{i!=j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2,
                                C = Cov_x[mu(x)]                         (Kumar et al. 2018, eq. 6)
    DIP-VAE-II    the same with C = E_x[diag(sigma^2(x))] + Cov_x[mu(x)] (eq. 7)
    FactorVAE     regularizer = KL + gamma TC_D (see :mod:`~infogan_kit.objectives.factor_vae`)

Phase ``VAE`` (declared in :meth:`VAEObjective.declare_phases`) trains the encoder and decoder. Networks run under the loop's autocast; every
loss is computed in fp32. Batch statistics (the TC estimate, DIP covariances) are taken over
each micro-batch when gradients are accumulated.

Logged through :func:`~infogan_kit.training.stats.report` (TensorBoard and ``stats.jsonl``):
``Loss/VAE`` (the minimized loss), ``Loss/VAE/reconstruction``, ``Loss/VAE/kl``,
``Loss/VAE/regularizer``, ``ELBO`` (``-(reconstruction + KL)``, as disentanglement_lib's
``elbo`` summary), ``KL/z1`` ... ``KL/zD`` (batch-mean KL of each latent), plus each
objective's own terms (listed on each class).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from ..models.vae_nets import gaussian_kl_per_latent
from ..training.stats import report
from .base import Objective, Phase
from .schedule import Schedule, ScheduledValue
from .vae_terms import (
    bernoulli_reconstruction_loss,
    covariance_of_latents,
    covariance_of_means,
    dip_penalties,
    sample_latents,
    total_correlation,
)

if TYPE_CHECKING:
    from ..training.context import Batch, PhaseContext


class VAEObjective(Objective):
    """Shared forward pass of the VAE family; subclasses define :meth:`regularizer`.

    Args:
        encoder: images ``[n, C, H, W]`` -> (means ``[n, D]``, log variances ``[n, D]``).
        decoder: latents ``[n, D]`` -> Bernoulli logits ``[n, C, H, W]``.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        self.encoder = encoder
        self.decoder = decoder
        super().__init__()

    def declare_phases(self) -> list[Phase]:
        return [Phase("VAE", "VAE", self.vae_phase)]

    # ------------------------------------------------------------------ pieces
    def encode(self, images: torch.Tensor, ctx: "PhaseContext") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode ``images [n, C, H, W]`` and sample from the posterior with the loop's latent RNG.

        Returns:
            fp32 ``(means [n, D], log_variances [n, D], latents [n, D])``.
        """
        with ctx.autocast():
            means, log_variances = self.encoder(images)
        means, log_variances = means.float(), log_variances.float()
        return means, log_variances, sample_latents(means, log_variances, ctx.rng)

    def regularizer(
        self, kl: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor, latents: torch.Tensor, ctx: "PhaseContext"
    ) -> torch.Tensor:
        """The objective's regularizer (scalar, fp32) from the batch KL and the posterior.

        Args:
            kl: batch-mean KL summed over latents (scalar).
            means, log_variances, latents: ``[n, D]`` posterior parameters and samples.
            ctx: the phase context (autocast for extra networks, the latent RNG).
        """
        raise NotImplementedError

    # ------------------------------------------------------------------ phases
    def vae_phase(self, batch: "Batch", ctx: "PhaseContext") -> None:
        """``VAE``: backward of :meth:`vae_loss` (encoder and decoder)."""
        ctx.backward(self.vae_loss(batch, ctx))

    def vae_loss(self, batch: "Batch", ctx: "PhaseContext") -> torch.Tensor:
        """``reconstruction + regularizer`` of ``batch`` (scalar, fp32); reports every term."""
        means, log_variances, latents = self.encode(batch.real_images, ctx)
        with ctx.autocast():
            logits = self.decoder(latents)
        reconstruction = bernoulli_reconstruction_loss(logits, batch.real_images).mean()
        kl_per_latent = gaussian_kl_per_latent(means, log_variances).mean(dim=0)
        kl = kl_per_latent.sum()
        regularizer = self.regularizer(kl, means, log_variances, latents, ctx)
        loss = reconstruction + regularizer
        report("Loss/VAE", loss)
        report("Loss/VAE/reconstruction", reconstruction)
        report("Loss/VAE/kl", kl)
        report("Loss/VAE/regularizer", regularizer)
        report("ELBO", -(reconstruction + kl))
        for index, value in enumerate(kl_per_latent.detach().unbind()):
            report(f"KL/z{index + 1}", value)
        return loss


class BetaVAEObjective(VAEObjective):
    """beta-VAE: ``reconstruction + beta KL``. Logs nothing beyond the shared terms."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, beta: float) -> None:
        super().__init__(encoder, decoder)
        self.beta = beta

    def regularizer(
        self, kl: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor, latents: torch.Tensor, ctx: "PhaseContext"
    ) -> torch.Tensor:
        """``beta * KL``."""
        return self.beta * kl


class AnnealedVAEObjective(VAEObjective):
    """AnnealedVAE: ``reconstruction + gamma |KL - C(t)|`` with the capacity ``C(t)`` of a
    :class:`~infogan_kit.objectives.schedule.Schedule` (the study's: ``Schedule.ramp(C_max, T)``,
    linear from 0 at step 0 to ``C_max`` at ``T`` = ``iteration_threshold``, then held), read
    from a device tensor so every step runs the same ops.

    Logs ``Annealed/capacity`` (C(t), nats) and ``Loss/VAE/capacity_gap`` (``|KL - C(t)|``).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, gamma: float, capacity: Schedule) -> None:
        super().__init__(encoder, decoder)
        self.gamma = gamma
        self.capacity_value = ScheduledValue(capacity, self.device_of(encoder, decoder))

    def start_step(self, step: int) -> None:
        """Write C(step) into the capacity tensor."""
        super().start_step(step)
        self.capacity_value.update(step)

    def capacity(self) -> float:
        """C(t) at the current step (nats)."""
        return self.capacity_value.value

    def regularizer(
        self, kl: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor, latents: torch.Tensor, ctx: "PhaseContext"
    ) -> torch.Tensor:
        """``gamma * |KL - C(t)|``."""
        capacity = self.capacity_value.tensor
        gap = (kl - capacity).abs()
        report("Annealed/capacity", capacity)
        report("Loss/VAE/capacity_gap", gap)
        return self.gamma * gap


class BetaTCVAEObjective(VAEObjective):
    """beta-TCVAE: ``reconstruction + KL + (beta - 1) TC`` with disentanglement_lib's
    minibatch-weighted-sampling TC (its constant left out, so the logged value can be negative;
    its changes are what counts). Logs ``Loss/TC`` (the TC estimate, unweighted)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, beta: float) -> None:
        super().__init__(encoder, decoder)
        self.beta = beta

    def regularizer(
        self, kl: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor, latents: torch.Tensor, ctx: "PhaseContext"
    ) -> torch.Tensor:
        """``KL + (beta - 1) * TC(latents)``."""
        tc = total_correlation(latents, means, log_variances)
        report("Loss/TC", tc)
        return kl + (self.beta - 1.0) * tc


class DIPVAEObjective(VAEObjective):
    """DIP-VAE base: ``reconstruction + KL + lambda_od off-diagonal + lambda_d diagonal`` penalties
    on a covariance chosen by :meth:`covariance`; ``lambda_d = lambda_d_factor * lambda_od``.

    Logs ``Loss/DIP/off_diagonal`` and ``Loss/DIP/diagonal`` (the weighted penalties).
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, lambda_od: float, lambda_d_factor: float) -> None:
        super().__init__(encoder, decoder)
        self.lambda_od = lambda_od
        self.lambda_d = lambda_d_factor * lambda_od

    def covariance(self, means: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
        """The ``[D, D]`` covariance pulled towards the identity."""
        raise NotImplementedError

    def regularizer(
        self, kl: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor, latents: torch.Tensor, ctx: "PhaseContext"
    ) -> torch.Tensor:
        """``KL + lambda_od sum_{i!=j} C_ij^2 + lambda_d sum_i (C_ii - 1)^2``."""
        off_diagonal, diagonal = dip_penalties(self.covariance(means, log_variances), self.lambda_od, self.lambda_d)
        report("Loss/DIP/off_diagonal", off_diagonal)
        report("Loss/DIP/diagonal", diagonal)
        return kl + off_diagonal + diagonal


class DIPVAEIObjective(DIPVAEObjective):
    """DIP-VAE-I: the covariance of the encoder means over the batch (``lambda_d_factor`` 10 in the study)."""

    def covariance(self, means: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
        """``Cov_x[mu(x)]`` ``[D, D]``."""
        return covariance_of_means(means)


class DIPVAEIIObjective(DIPVAEObjective):
    """DIP-VAE-II: the covariance of the aggregate posterior ``E[diag(sigma^2)] + Cov[mu]``
    (``lambda_d_factor`` 1 in the study)."""

    def covariance(self, means: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
        """``E_x[diag(sigma^2(x))] + Cov_x[mu(x)]`` ``[D, D]``."""
        return covariance_of_latents(means, log_variances)
