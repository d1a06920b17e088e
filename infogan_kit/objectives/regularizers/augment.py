"""Differentiable augmentation for the discriminator (DiffAugment / ADA), via kornia.

Every image D sees, real or fake, goes through the same random pipeline; each operation is
applied to each image independently with probability ``p``:

* ``translation``: an integer shift of up to 1/8 of the image size per axis, zero padding (an
  index gather: exact, and differentiable to any order; a grid-sampler warp such as kornia's
  ``translate`` goes through cuDNN's grid sampler on CUDA, which has no double backward, so R1
  through augmented reals would fail there);
* ``cutout``: a square of half the image size at a random centre set to 0;
* ``color``: brightness ``+ N(0, 0.2)`` (``kornia.enhance.adjust_brightness``), contrast
  ``x 2^N(0, 0.5)`` around the image mean (``kornia.enhance.adjust_contrast``) and, for RGB,
  saturation ``x 2^N(0, 1)`` (``kornia.enhance.adjust_saturation``). No clamping: fakes may lie
  outside [0, 1] and must keep their gradients.

All operations are differentiable with respect to the images (G is trained through them).
Images not selected for an operation pass through it *exactly*, and ``p = 0`` returns the input
tensor itself. Random parameters come from the caller's ``torch.Generator`` (the loop's latent
RNG, checkpointed), so a resumed run augments exactly as an uninterrupted one.

**Adaptive p** (Karras et al. 2020, ADA): D overfits when it is confidently right on the reals
it trains on. The heuristic ``r_t = E[sign(D(real))]`` is accumulated over ``interval`` steps;
then ``p += sign(r_t - target) * images / speed_images`` (``target`` 0.6; ``speed_images``: the
images it takes p to move by 1), clamped to [0, 1]. ``p`` and the accumulators are checkpointed;
under DDP the statistics are summed over ranks, so every rank uses the same ``p``.
"""

from __future__ import annotations

from typing import Any

import torch
from kornia.enhance import adjust_brightness, adjust_contrast, adjust_saturation

from ...errors import ConfigError

OPERATIONS = ("translation", "cutout", "color")


def parse_operations(text: str) -> tuple[str, ...]:
    """``"translation,cutout,color"`` -> a tuple of operation names (checked)."""
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [n for n in names if n not in OPERATIONS]
    if unknown or not names:
        raise ConfigError(f"augmentation operations must be a comma-separated subset of {', '.join(OPERATIONS)}, got {text!r}")
    return names


def _selected(n: int, p: float, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """Bool ``[n, 1, 1, 1]``: which images get an operation (probability ``p`` each)."""
    draw = generator.device if generator is not None else device
    return (torch.rand(n, generator=generator, device=draw) < p).to(device).reshape(n, 1, 1, 1)


def _uniform(n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    draw = generator.device if generator is not None else device
    return torch.rand(n, generator=generator, device=draw).to(device)


def _normal(n: int, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    draw = generator.device if generator is not None else device
    return torch.randn(n, generator=generator, device=draw).to(device)


def augment_translation(images: torch.Tensor, p: float, generator: torch.Generator | None = None, ratio: float = 0.125) -> torch.Tensor:
    """Integer shifts of up to ``ratio`` of the size per axis; ``[n, C, H, W]`` -> same shape."""
    n, _, h, w = images.shape
    limit = torch.tensor([w * ratio, h * ratio], device=images.device)
    shifts = torch.stack([_uniform(n, generator, images.device), _uniform(n, generator, images.device)], 1)
    shifts = torch.round((shifts * 2 - 1) * limit).long()
    return torch.where(_selected(n, p, generator, images.device), shift_images(images, shifts), images)


def shift_images(images: torch.Tensor, shifts: torch.Tensor) -> torch.Tensor:
    """Move each image by whole pixels, zeros where nothing lands: ``out[y, x] = in[y - dy, x - dx]``.

    Args:
        images: ``[n, C, H, W]``.
        shifts: ``[n, 2]`` integers ``(dx, dy)`` (kornia's ``translate`` convention).
    """
    n, channels, h, w = images.shape
    rows = torch.arange(h, device=images.device).view(1, h, 1) - shifts[:, 1].view(n, 1, 1)
    cols = torch.arange(w, device=images.device).view(1, 1, w) - shifts[:, 0].view(n, 1, 1)
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    index = (rows.clamp(0, h - 1) * w + cols.clamp(0, w - 1)).view(n, 1, h * w).expand(n, channels, h * w)
    moved = images.reshape(n, channels, h * w).gather(2, index).view(n, channels, h, w)
    return moved * inside.unsqueeze(1).to(images.dtype)


def augment_cutout(images: torch.Tensor, p: float, generator: torch.Generator | None = None, ratio: float = 0.5) -> torch.Tensor:
    """Zero a ``ratio``-sized square at a random centre; ``[n, C, H, W]`` -> same shape."""
    n, _, h, w = images.shape
    device = images.device
    centre_y = _uniform(n, generator, device).reshape(n, 1, 1) * h
    centre_x = _uniform(n, generator, device).reshape(n, 1, 1) * w
    rows = torch.arange(h, device=device).reshape(1, h, 1) + 0.5
    cols = torch.arange(w, device=device).reshape(1, 1, w) + 0.5
    inside = ((rows - centre_y).abs() < h * ratio / 2) & ((cols - centre_x).abs() < w * ratio / 2)
    keep = (~inside).unsqueeze(1).to(images.dtype)  # [n, 1, H, W]
    return torch.where(_selected(n, p, generator, device), images * keep, images)


def augment_color(images: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Brightness, contrast (and saturation for RGB), each applied with probability ``p``."""
    n, channels = images.shape[:2]
    device = images.device
    brightness = _normal(n, generator, device) * 0.2
    out = torch.where(_selected(n, p, generator, device), adjust_brightness(images, brightness.to(images.dtype), clip_output=False), images)
    contrast = torch.exp2(_normal(n, generator, device) * 0.5).to(images.dtype)
    mean = out.mean(dim=(1, 2, 3), keepdim=True)
    contrasted = mean + adjust_contrast(out - mean, contrast, clip_output=False)
    out = torch.where(_selected(n, p, generator, device), contrasted, out)
    if channels == 3:
        saturation = torch.exp2(_normal(n, generator, device)).to(images.dtype)
        out = torch.where(_selected(n, p, generator, device), adjust_saturation(out, saturation), out)
    return out


_FUNCTIONS = {"translation": augment_translation, "cutout": augment_cutout, "color": augment_color}


def augment(images: torch.Tensor, p: float, operations: tuple[str, ...] = OPERATIONS, generator: torch.Generator | None = None) -> torch.Tensor:
    """The augmentation pipeline: ``[n, C, H, W]`` -> same shape; ``p = 0`` returns ``images`` itself."""
    if p <= 0:
        return images
    for name in operations:
        images = _FUNCTIONS[name](images, p, generator)
    return images


class AdaptiveAugmentProbability:
    """The augmentation probability ``p`` and its ADA-style controller.

    Args:
        initial_p: starting (or, when not adaptive, fixed) probability.
        adaptive: adjust ``p`` from the sign of D on reals.
        target: wanted ``E[sign(D(real))]`` (0.6).
        interval: steps between adjustments.
        speed_images: images over which ``p`` can move by 1 (ADA: 500k; smaller for short runs).
    """

    def __init__(self, initial_p: float = 0.0, adaptive: bool = True, target: float = 0.6, interval: int = 4, speed_images: float = 100_000.0) -> None:
        self.p = float(initial_p)
        self.adaptive, self.target, self.interval, self.speed_images = adaptive, target, interval, speed_images
        self._sign_sum: torch.Tensor | None = None
        self._count = 0

    def accumulate(self, real_logits: torch.Tensor) -> None:
        """Add the signs of D's logits ``[n]`` on (augmented) reals, on their device, no sync."""
        if not self.adaptive:
            return
        signs = torch.sign(real_logits.detach().float()).sum()
        self._sign_sum = signs if self._sign_sum is None else self._sign_sum + signs
        self._count += real_logits.numel()

    def overfitting(self) -> float | None:
        """The current heuristic ``r_t`` (None before any accumulation)."""
        return None if self._sign_sum is None else float(self._sign_sum) / max(self._count, 1)

    def maybe_update(self, step: int) -> None:
        """On steps divisible by ``interval``, move ``p`` by the accumulated heuristic and reset."""
        if not self.adaptive or step % self.interval or self._sign_sum is None:
            return
        totals = torch.stack([self._sign_sum.float(), torch.tensor(float(self._count), device=self._sign_sum.device)])
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            torch.distributed.all_reduce(totals)  # every rank's reals: the same p everywhere
        sign_sum, count = totals.tolist()
        r_t = sign_sum / max(count, 1.0)
        direction = float((r_t > self.target) - (r_t < self.target))
        self.p = min(max(self.p + direction * count / self.speed_images, 0.0), 1.0)
        self._sign_sum, self._count = None, 0

    def state_dict(self) -> dict[str, Any]:
        """``p`` and the pending accumulators."""
        pending = None if self._sign_sum is None else float(self._sign_sum)
        return {"p": self.p, "sign_sum": pending, "count": self._count}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.p = float(state["p"])
        self._count = int(state.get("count", 0))
        pending = state.get("sign_sum")
        self._sign_sum = None if pending is None else torch.tensor(float(pending))
