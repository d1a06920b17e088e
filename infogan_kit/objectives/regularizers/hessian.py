"""Hessian penalty (Peebles et al., ECCV 2020): make each input dimension act independently.

A generator output ``G(z)`` is *disentangled in z* in the sense of the Hessian penalty when the
Hessian ``H = d^2 G / dz^2`` of every output element is diagonal: moving ``z_i`` then changes how
the output responds to nothing but ``z_i`` itself. The penalty is the sum of squared
off-diagonal Hessian entries, estimated without second derivatives:

1. **Hutchinson-style identity.** For a Rademacher vector ``v`` (entries +-1 with probability 1/2)
   and a symmetric matrix ``H``::

       v^T H v = sum_i H_ii + 2 sum_{i<j} H_ij v_i v_j
       E[v^T H v] = tr(H),     Var[v^T H v] = 4 sum_{i<j} H_ij^2 = 2 sum_{i!=j} H_ij^2

   (the products ``v_i v_j`` of distinct pairs are uncorrelated with variance 1). So the variance
   over directions of the second directional derivative is zero exactly when ``H`` is diagonal.
2. **Central finite differences** for the second directional derivative, with ``x = epsilon v``::

       v^T H v  ~=  (G(z + x) - 2 G(z) + G(z - x)) / epsilon^2

   which is exact for polynomials of degree <= 3 (odd terms cancel), and otherwise smooths ``G``
   over a neighbourhood of size ``epsilon``.
3. **Unbiased variance over k directions** per output element (``k >= 2``), then a reduction over
   output elements and the batch: ``max`` (the paper's choice: the worst-entangled element),
   ``mean``, or ``none`` (the per-element variances, for inspection).

With several layers (``fn`` returns a list) the reduced penalties of the layers are summed.

Worked example (the analytic test): ``G(z) = [z0 z1, z0^2 z1]``. The Hessians are
``[[0, 1], [1, 0]]`` and ``[[2 z1, 2 z0], [2 z0, 0]]``, so the expected per-element penalties are
``2 * 2 * 1^2 = 4`` and ``2 * 2 * (2 z0)^2 = 16 z0^2`` (whatever ``epsilon``: both are cubic),
while a separable ``G(z) = [z0^2, z1^3]`` has penalty exactly 0.

In this package the penalty is taken with respect to the continuous codes of the style
generator (noise and categorical codes held fixed), in fp32, lazily with the path-length phase.
"""

from __future__ import annotations

from typing import Callable

import torch

from .directions import Outputs, check_arguments, evaluate_batched, rademacher, reduce_variance


def hessian_penalty(
    fn: Callable[[torch.Tensor], Outputs],
    z: torch.Tensor,
    k: int = 2,
    epsilon: float = 0.1,
    reduction: str = "max",
    generator: torch.Generator | None = None,
) -> torch.Tensor | list[torch.Tensor]:
    """Finite-difference Hessian penalty of ``fn`` at ``z``.

    Args:
        fn: maps ``[m, d]`` inputs to one tensor ``[m, ...]`` or a list of them (layers); it is
            called once on ``(2k + 1) n`` stacked rows, so it must treat rows independently.
        z: the point ``[n, d]`` (the penalty is taken w.r.t. all ``d`` columns).
        k: Rademacher directions (>= 2).
        epsilon: finite-difference step.
        reduction: ``max``/``mean`` (a scalar, summed over layers) or ``none`` (a list with one
            ``[n, ...]`` per-element variance tensor per layer).
        generator: RNG of the directions.

    Returns:
        the penalty (differentiable w.r.t. ``fn``'s parameters).
    """
    check_arguments(k, epsilon)
    directions = epsilon * rademacher((k, *z.shape), generator, z.device).to(z.dtype)
    points = [z] + [z + x for x in directions] + [z - x for x in directions]
    values = evaluate_batched(fn, points)
    center, forward, backward = values[0], values[1 : k + 1], values[k + 1 :]
    penalties = []
    for layer in range(len(center)):
        second = torch.stack(
            [(forward[i][layer] - 2 * center[layer] + backward[i][layer]) / epsilon**2 for i in range(k)]
        )
        penalties.append(reduce_variance(second.var(dim=0, unbiased=True), reduction))
    if reduction == "none":
        return penalties
    return torch.stack(penalties).sum()


def expected_hessian_penalty(hessians: torch.Tensor) -> torch.Tensor:
    """Exact expectation of the per-element penalty for Hessians ``[..., d, d]``: ``2 sum_{i!=j} H_ij^2``."""
    off_diagonal = hessians - torch.diag_embed(torch.diagonal(hessians, dim1=-2, dim2=-1))
    return 2 * off_diagonal.square().sum(dim=(-2, -1))

