"""InfoGAN-CR's contrastive regularizer (Lin et al., 2020).

A contrastive discriminator H sees a pair of generated images concatenated along channels and
predicts *which* regularized code the two share. Pairs are sampled so that:

* one code ``k`` (uniform over the regularized codes) has the same value in both images;
* every other regularized code differs by at least ``gap`` (continuous codes: ``|a - b| >= gap``,
  the pair drawn uniformly from that set; categorical codes: a different class whenever
  ``gap > 0``; with ``gap = 0`` they are drawn independently);
* the noise is identical.

G and H both minimize ``alpha * CE(H(x_a, x_b), k)`` (``Loss/CR``): H learns to tell which
code is shared, and G is pushed to make each code's effect distinguishable, i.e. disentangled.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..models.latent import Latents, LatentSpec


def _sample_far_pairs(shape: tuple[int, ...], gap: float, generator: torch.Generator | None, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """Pairs ``(a, b)`` uniform on ``{(a, b) in [-1, 1]^2 : |a - b| >= gap}`` (``0 <= gap < 2``).

    The region is two triangles with legs ``L = 2 - gap``; a point uniform in the unit
    square folded onto its lower triangle ``(x, y), x + y <= 1`` gives ``a = -1 + L x``,
    ``b = 1 - L y`` (so ``b - a >= gap``); a fair coin then swaps ``a`` and ``b``.
    """
    spread = 2.0 - gap
    x = torch.rand(shape, generator=generator, device=device)
    y = torch.rand(shape, generator=generator, device=device)
    fold = x + y > 1
    x, y = torch.where(fold, 1 - x, x), torch.where(fold, 1 - y, y)
    low, high = -1 + spread * x, 1 - spread * y
    swap = torch.rand(shape, generator=generator, device=device) < 0.5
    return torch.where(swap, high, low), torch.where(swap, low, high)


def sample_pairs(
    latent: LatentSpec, num_pairs: int, gap: float, generator: torch.Generator | None, device: torch.device | None = None
) -> tuple[Latents, Latents, torch.Tensor]:
    """Draw contrastive pairs.

    Args:
        latent: the latent specification.
        num_pairs: number of pairs n.
        gap: minimum distance ``|a - b|`` of every non-shared continuous code, in [0, 2)
            (0: the non-shared codes of the two images are independent prior draws; > 0: each
            such pair is uniform on ``{|a - b| >= gap}``, which pushes both towards the ends of
            [-1, 1] as the gap grows; categorical codes then differ).
        generator: RNG (its device is where the draws happen).

    Returns:
        ``(first, second, shared)``: two Latents batches of n and the index ``[n]`` of the shared
        code in ``latent.regularized`` order (categorical codes first, then continuous).
    """
    if not 0 <= gap < 2:
        raise ValueError(f"gap must be in [0, 2), got {gap}")
    first = latent.sample(num_pairs, generator, device)
    draw_device = first.noise.device
    num_cat = len(latent.cat_sizes)
    num_codes = num_cat + latent.num_cont
    shared = torch.randint(0, num_codes, (num_pairs,), generator=generator, device=draw_device)
    other = latent.sample(num_pairs, generator, draw_device)
    codes_cat_first, codes_cat = first.codes_cat, other.codes_cat.clone()
    codes_cont_first, codes_cont = first.codes_cont, other.codes_cont.clone()
    if gap > 0:
        if num_cat:  # a different class: shift by 1..k-1 (uniform over the other classes)
            sizes = torch.tensor(latent.cat_sizes, device=draw_device)
            shift = (torch.rand(num_pairs, num_cat, generator=generator, device=draw_device) * (sizes - 1)).long() + 1
            codes_cat = (codes_cat_first + shift) % sizes
        far_first, far_second = _sample_far_pairs(codes_cont_first.shape, gap, generator, draw_device)
        codes_cont_first = far_first
        codes_cont = far_second
    code_index = torch.arange(num_codes, device=draw_device)[None]
    same = code_index == shared[:, None]  # [n, num_codes]
    codes_cont_first = torch.where(same[:, num_cat:], first.codes_cont, codes_cont_first)
    codes_cat = torch.where(same[:, :num_cat], codes_cat_first, codes_cat)
    codes_cont = torch.where(same[:, num_cat:], codes_cont_first, codes_cont)
    first = Latents(codes_cat_first, codes_cont_first, first.noise)
    second = Latents(codes_cat, codes_cont, first.noise.clone())
    return first, second, shared


def contrastive_loss(logits: torch.Tensor, shared: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Cross-entropy (fp32, mean) of H's logits ``[n, num_codes]`` against the shared code
    ``[n]``, and H's accuracy."""
    logits = logits.float()
    loss = F.cross_entropy(logits, shared)
    accuracy = (logits.argmax(1) == shared).float().mean()
    return loss, accuracy


def concat_latents(first: Latents, second: Latents) -> Latents:
    """Stack two latent batches along the batch dimension."""
    return Latents(
        torch.cat([first.codes_cat, second.codes_cat]),
        torch.cat([first.codes_cont, second.codes_cont]),
        torch.cat([first.noise, second.noise]),
    )
