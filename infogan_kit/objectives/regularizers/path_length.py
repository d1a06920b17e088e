"""Path-length regularization (StyleGAN2): a fixed-size step in ``w`` should move the image by a
fixed amount, whatever the direction and the point.

For images ``x = g(w)`` with ``w [n, L, w_dim]`` (one ``w`` per style layer) and a random image-space
direction ``y ~ N(0, I / (H W))``, the length ``a = sqrt(mean_l ||J_l^T y||^2)`` is computed with one
backward pass (``J^T y`` is the gradient of ``<x, y>`` w.r.t. ``w``). The penalty is

    (a - pl_mean)^2,     pl_mean <- pl_mean + decay * (mean(a) - pl_mean)     (decay 0.01)

so that lengths are pulled to their own running mean (a smooth, well-conditioned G), not to a
fixed constant. The running mean is state to checkpoint (:meth:`PathLengthRegularizer.state_dict`).
The gradient is taken with ``create_graph=True``: the phase that uses it needs a double backward,
so it runs eagerly (never through a compiled forward) and in fp32.

Following StyleGAN2, it runs lazily (every 4 steps, weight times the interval) on half the batch.

Analytic check (the tests): for a linear ``x = w A`` with a single layer, ``E[a^2] = ||A||_F^2 / (H W)``.
"""

from __future__ import annotations

import math
from typing import Any

import torch


def path_lengths(images: torch.Tensor, ws: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Per-sample path lengths ``[n]`` of images ``[n, C, H, W]`` produced from ``ws [n, L, w_dim]``.

    ``ws`` must be part of the graph that produced ``images``; the result stays differentiable.
    """
    draw = generator.device if generator is not None else images.device
    noise = torch.randn(images.shape, generator=generator, device=draw, dtype=torch.float32).to(images.device)
    noise = noise / math.sqrt(images.shape[2] * images.shape[3])
    (grads,) = torch.autograd.grad(outputs=(images.float() * noise).sum(), inputs=ws, create_graph=True)
    return grads.float().square().sum(dim=2).mean(dim=1).sqrt()


class PathLengthRegularizer:
    """Keeps ``pl_mean`` and turns path lengths into the penalty.

    Args:
        decay: EMA rate of ``pl_mean`` (0.01).
    """

    def __init__(self, decay: float = 0.01) -> None:
        self.decay = decay
        self.pl_mean = torch.zeros(())

    def penalty(self, lengths: torch.Tensor) -> torch.Tensor:
        """``(lengths - pl_mean)^2`` ``[n]`` after moving ``pl_mean`` towards ``mean(lengths)`` (on device, no sync)."""
        pl_mean = self.pl_mean.to(lengths.device).lerp(lengths.detach().mean(), self.decay)
        self.pl_mean = pl_mean.detach()
        return (lengths - pl_mean).square()

    def state_dict(self) -> dict[str, Any]:
        """``{"pl_mean": float}``."""
        return {"pl_mean": float(self.pl_mean)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.pl_mean = torch.tensor(float(state["pl_mean"]))
