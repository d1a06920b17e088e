"""Shared pieces of the finite-difference regularizers (Hessian penalty, OroJaR).

Both evaluate a function ``fn`` at ``z`` and at ``z`` moved along ``k`` random Rademacher
directions, *in one batched call* (``[(2k+1) n, d]`` or ``[(k+1) n, d]`` rows), which is much
faster than ``2k + 1`` separate forward passes and keeps every evaluation in the same graph.
``fn`` may return one tensor or a list of tensors (several layers), each with the batch first.
"""

from __future__ import annotations

from typing import Callable, Union

import torch

Outputs = Union[torch.Tensor, list[torch.Tensor]]
REDUCTIONS = ("max", "mean", "none")


def rademacher(shape: tuple[int, ...], generator: torch.Generator | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """A float tensor of ``shape`` with entries -1 or +1, each with probability 1/2."""
    draw_device = generator.device if generator is not None else (device or "cpu")
    bits = torch.randint(0, 2, shape, generator=generator, device=draw_device)
    return (bits * 2 - 1).float().to(device or draw_device)


def as_list(outputs: Outputs) -> list[torch.Tensor]:
    """Wrap a single tensor in a list (several layers are already a list)."""
    return list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]


def evaluate_batched(fn: Callable[[torch.Tensor], Outputs], points: list[torch.Tensor]) -> list[list[torch.Tensor]]:
    """Evaluate ``fn`` once on the concatenated points; returns ``[per point][per layer] [n, ...]``."""
    n = points[0].shape[0]
    outputs = as_list(fn(torch.cat(points, dim=0)))
    return [[out[i * n : (i + 1) * n] for out in outputs] for i in range(len(points))]


def reduce_variance(per_sample: torch.Tensor, reduction: str) -> torch.Tensor:
    """Reduce a variance tensor ``[n, ...]``: ``max`` or ``mean`` over everything, ``none`` keeps it."""
    if reduction == "max":
        return per_sample.max()
    if reduction == "mean":
        return per_sample.mean()
    if reduction == "none":
        return per_sample
    raise ValueError(f"reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")


def check_arguments(k: int, epsilon: float) -> None:
    """Both estimators need ``k >= 2`` directions (a variance) and ``epsilon > 0``."""
    if k < 2:
        raise ValueError(f"k must be >= 2 (the estimator is a variance over directions), got {k}")
    if not epsilon > 0:
        raise ValueError(f"epsilon must be > 0, got {epsilon}")
