"""The terms of the VAE-family losses, as pure fp32 functions (disentanglement_lib's formulas).

For an encoder posterior ``q(z | x) = N(mu, diag(exp(log_var)))`` and the prior ``N(0, I)``:

* reconstruction: Bernoulli negative log-likelihood of the image under the decoder's logits,
  ``sum_pixels sigmoid_cross_entropy(logits, x)`` per image (``losses.bernoulli_loss``; the true
  images are not binary, so its minimum is their entropy, not 0);
* KL per latent: ``0.5 (mu^2 + exp(log_var) - log_var - 1)`` (``compute_gaussian_kl`` before the
  sum over latents);
* annealed capacity ``C(t) = min(C_max, C_max t / T)`` (``anneal``);
* dimension-wise permutation of a batch of codes (``shuffle_codes``): each latent is shuffled
  across the batch independently, which keeps every marginal and breaks the dependence between
  dimensions (a sample of the product of the marginals);
* total correlation by minibatch-weighted sampling (``total_correlation``), without the constant
  ``(D - 1) log(batch_size x dataset_size)`` that disentanglement_lib drops as well;
* DIP-VAE covariance penalties (``compute_covariance_z_mean``, ``regularize_diag_off_diag_dip``).

Every function takes and returns float tensors; callers cast network outputs with ``.float()``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def bernoulli_reconstruction_loss(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """Per-image Bernoulli NLL: sigmoid cross-entropy summed over every pixel and channel.

    The value is ``F.binary_cross_entropy_with_logits`` summed per image (to fp32 rounding), but
    forward and backward are written out: PyTorch's CPU kernel goes through ``log1p``, which is
    not vectorized and made this term about a tenth of a VAE step, and its autograd keeps more
    intermediates than the closed-form gradient ``sigmoid(logits) - images`` needs.

    Args:
        logits: decoder output ``[n, C, H, W]`` (any float dtype; computed in fp32).
        images: targets ``[n, C, H, W]`` in [0, 1].

    Returns:
        ``[n]`` fp32 losses in nats (the objectives average them over the batch).

    The written-out form is a CPU optimization: on any other device PyTorch's fused
    ``binary_cross_entropy_with_logits`` kernel (one kernel forward, one backward) is used.
    """
    if logits.device.type != "cpu":
        return stock_bernoulli_reconstruction_loss(logits, images)
    return _BernoulliNLL.apply(logits, images)


def stock_bernoulli_reconstruction_loss(logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
    """:func:`bernoulli_reconstruction_loss` through PyTorch's fused kernel (the GPU path): ``[n]`` fp32."""
    losses = F.binary_cross_entropy_with_logits(logits.float(), images.float(), reduction="none")
    return losses.flatten(1).sum(1)


def _log1p_of_unit_interval(values: torch.Tensor) -> torch.Tensor:
    """``log1p(values)`` for ``values`` in [0, 1] from the vectorized ``log``, with the classic
    correction ``log(u) - ((u - 1) - x) / u`` (``u = 1 + x``), accurate to fp32 rounding."""
    shifted = 1.0 + values
    return torch.log(shifted) - ((shifted - 1.0) - values) / shifted


class _BernoulliNLL(torch.autograd.Function):
    """``sum_pixels max(l, 0) - l x + log1p(exp(-|l|))`` per image; gradient ``sigmoid(l) - x``."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, logits: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        logits32, images32 = logits.float(), images.float()
        per_pixel = logits32.clamp_min(0.0) - logits32 * images32 + _log1p_of_unit_interval(torch.exp(-logits32.abs()))
        ctx.save_for_backward(logits, images)
        return per_pixel.flatten(1).sum(1)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad_per_image: torch.Tensor) -> tuple[torch.Tensor | None, None]:
        logits, images = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None
        scale = grad_per_image.reshape(-1, *([1] * (logits.dim() - 1)))
        grad = (torch.sigmoid(logits.float()) - images.float()) * scale
        return grad.to(logits.dtype), None


def sample_latents(means: torch.Tensor, log_variances: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Reparameterized samples ``mu + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)`` from ``generator``.

    Args:
        means, log_variances: ``[n, D]`` on the generator's device.

    Returns:
        ``[n, D]`` samples, differentiable with respect to the means and log variances.
    """
    noise = torch.randn(means.shape, generator=generator, device=means.device, dtype=means.dtype)
    return means + torch.exp(0.5 * log_variances) * noise


def permute_dims(latents: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Shuffle every column of ``latents [n, D]`` across the batch with its own random permutation.

    Returns:
        ``[n, D]``: column ``l`` holds the values of ``latents[:, l]`` in a new order, drawn
        independently of the other columns.
    """
    keys = torch.rand(latents.shape, generator=generator, device=latents.device)
    return latents.gather(0, keys.argsort(dim=0))


def gaussian_log_density(samples: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
    """Elementwise ``log N(samples; means, exp(log_variances))`` (broadcasting shapes)."""
    error = samples - means
    return -0.5 * (error * error * torch.exp(-log_variances) + log_variances + LOG_2PI)


def total_correlation(latents: torch.Tensor, means: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
    """Minibatch-weighted-sampling estimate of ``TC = KL(q(z) || prod_l q(z_l))`` on one batch.

    With ``log q(z_j | x_i)`` for every pair (j, i) of the batch::

        TC = mean_j [ logsumexp_i sum_l log q(z_jl | x_i) - sum_l logsumexp_i log q(z_jl | x_i) ]

    exactly disentanglement_lib's ``total_correlation``: the normalizers ``log(M N)`` (batch size
    M, dataset size N) are left out, so the value is the estimate minus ``(D - 1) log(M N)``.
    Gradients are those of the full estimate. Example: a batch of M identical rows (codes, means
    and variances) gives ``(1 - D) log M``.

    Args:
        latents: sampled codes ``[M, D]``.
        means, log_variances: the encoder's posterior parameters ``[M, D]``.

    Returns:
        a scalar tensor (nats).
    """
    log_q_pairs = gaussian_log_density(latents.unsqueeze(1), means.unsqueeze(0), log_variances.unsqueeze(0))
    log_q_product_of_marginals = torch.logsumexp(log_q_pairs, dim=1).sum(dim=1)
    log_q_joint = torch.logsumexp(log_q_pairs.sum(dim=2), dim=1)
    return (log_q_joint - log_q_product_of_marginals).mean()


def covariance_of_means(means: torch.Tensor) -> torch.Tensor:
    """Biased batch covariance ``E[mu mu^T] - E[mu] E[mu]^T`` of encoder means ``[n, D]`` -> ``[D, D]``."""
    centered = means - means.mean(dim=0, keepdim=True)
    return centered.T @ centered / means.shape[0]


def covariance_of_latents(means: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
    """DIP-VAE-II's ``Cov_q(z)[z] = E_x[diag(exp(log_var))] + Cov_x[mu]`` -> ``[D, D]``."""
    return torch.diag(log_variances.exp().mean(dim=0)) + covariance_of_means(means)


def dip_penalties(covariance: torch.Tensor, lambda_od: float, lambda_d: float) -> tuple[torch.Tensor, torch.Tensor]:
    """DIP-VAE's pull of a covariance ``[D, D]`` towards the identity.

    Returns:
        ``(lambda_od * sum_{i != j} cov_ij^2, lambda_d * sum_i (cov_ii - 1)^2)``, scalar tensors;
        their sum is disentanglement_lib's ``regularize_diag_off_diag_dip``.
    """
    diagonal = torch.diagonal(covariance)
    off_diagonal = covariance - torch.diag(diagonal)
    return lambda_od * off_diagonal.square().sum(), lambda_d * (diagonal - 1.0).square().sum()
