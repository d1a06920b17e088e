"""InfoGAN-CR's contrastive regularizer (Lin et al., 2020).

A contrastive discriminator H sees a pair of generated images concatenated along channels and
predicts *which* regularized code the two share. Pairs are sampled so that:

* one code ``k`` (uniform over the regularized codes) has the same value in both images;
* every other regularized code differs by at least ``gap`` (continuous codes: ``|a - b| >= gap``;
  categorical codes: a different class whenever ``gap > 0``; with ``gap = 0`` they are drawn
  independently);
* the noise is identical.

G and H both minimize ``alpha * CE(H(x_a, x_b), k)`` (``Loss/CR``): H learns to tell which
code is shared, and G is pushed to make each code's effect distinguishable, i.e. disentangled.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models.latent import Latents, LatentSpec


def _sample_far(anchor: torch.Tensor, gap: float, generator: torch.Generator | None) -> torch.Tensor:
    """Uniform draws from ``{x in [-1, 1] : |x - anchor| >= gap}`` (elementwise; gap < 1)."""
    left = (anchor - gap + 1).clamp(min=0)  # length of [-1, anchor - gap]
    right = (1 - anchor - gap).clamp(min=0)  # length of [anchor + gap, 1]
    u = torch.rand(anchor.shape, generator=generator, device=anchor.device) * (left + right)
    return torch.where(u < left, -1 + u, anchor + gap + (u - left))


def sample_pairs(
    latent: LatentSpec, num_pairs: int, gap: float, generator: torch.Generator | None, device: torch.device | None = None
) -> tuple[Latents, Latents, torch.Tensor]:
    """Draw contrastive pairs.

    Args:
        latent: the latent specification.
        num_pairs: number of pairs n.
        gap: minimum distance of the non-shared continuous codes, in [0, 1).
        generator: RNG (its device is where the draws happen).

    Returns:
        ``(first, second, shared)``: two Latents batches of n and the index ``[n]`` of the shared
        code in ``latent.regularized`` order (categorical codes first, then continuous).
    """
    if not 0 <= gap < 1:
        raise ValueError(f"gap must be in [0, 1), got {gap}")
    first = latent.sample(num_pairs, generator, device)
    draw_device = first.noise.device
    num_cat = len(latent.cat_sizes)
    num_codes = num_cat + latent.num_cont
    shared = torch.randint(0, num_codes, (num_pairs,), generator=generator, device=draw_device)
    other = latent.sample(num_pairs, generator, draw_device)
    codes_cat = other.codes_cat.clone()
    if gap > 0 and num_cat:
        # A different class: shift by 1..k-1 (uniform over the other classes).
        sizes = torch.tensor(latent.cat_sizes, device=draw_device)
        shift = (torch.rand(num_pairs, num_cat, generator=generator, device=draw_device) * (sizes - 1)).long() + 1
        codes_cat = (first.codes_cat + shift) % sizes
    codes_cont = _sample_far(first.codes_cont, gap, generator) if gap > 0 else other.codes_cont.clone()
    code_index = torch.arange(num_codes, device=draw_device)[None]
    same = code_index == shared[:, None]  # [n, num_codes]
    codes_cat = torch.where(same[:, :num_cat], first.codes_cat, codes_cat)
    codes_cont = torch.where(same[:, num_cat:], first.codes_cont, codes_cont)
    second = Latents(codes_cat, codes_cont, first.noise.clone())
    return first, second, shared


def contrastive_loss(logits: torch.Tensor, shared: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy (fp32, mean) of H's logits ``[n, num_codes]`` against the shared code
    ``[n]``, and H's accuracy."""
    logits = logits.float()
    loss = F.cross_entropy(logits, shared)
    accuracy = (logits.argmax(1) == shared).float().mean()
    return loss, accuracy


def alpha_at(step: int, start: int, value: float) -> float:
    """The contrastive weight at ``step``: 0 before ``start``, ``value`` from it on."""
    return value if step >= start else 0.0


def gap_at(step: int, schedule: list[list[float]] | list[tuple[float, float]], default: float) -> float:
    """The gap at ``step`` from ``[(from_step, gap), ...]`` (sorted by step); ``default`` before."""
    gap = default
    for from_step, value in sorted(schedule, key=lambda item: item[0]):
        if step >= from_step:
            gap = float(value)
    return gap


def concat_latents(first: Latents, second: Latents) -> Latents:
    """Stack two latent batches along the batch dimension."""
    return Latents(
        torch.cat([first.codes_cat, second.codes_cat]),
        torch.cat([first.codes_cont, second.codes_cont]),
        torch.cat([first.noise, second.noise]),
    )
