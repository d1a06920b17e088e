"""OroJaR, the Orthogonal Jacobian Regularization (Wei et al., ICCV 2021), first-order version.

Disentangled input dimensions should move the output in *orthogonal* directions: the columns
``J_i = dG/dz_i`` of the Jacobian should satisfy ``J_i^T J_j = 0`` for ``i != j``. OroJaR
penalizes the off-diagonal entries of ``M = J^T J`` with the same Rademacher identity as the
Hessian penalty::

    ||J v||^2 = v^T M v,     Var_v[v^T M v] = 2 sum_{i!=j} M_ij^2

where ``J v`` is estimated by a forward finite difference with ``x = epsilon v``::

    J v  ~=  (G(z + x) - G(z)) / epsilon          (exact for linear G)

Per sample, the squared norm of that directional derivative (summed over every output element of
a layer, as the authors do; ``average=True`` divides it by the number of elements ``N``, which makes
the penalty, and so its weight, independent of the resolution: an authors' weight ``lambda``
corresponds to ``lambda * N^2`` here) is taken for ``k >= 2`` directions; its unbiased variance over the directions is the
estimate, reduced over the batch with ``max`` (as the authors), ``mean`` or ``none``. Several
layers (``fn`` returns a list) add up.

Analytic check (the tests): for a linear map ``G(z) = A z`` the expectation is
``2 sum_{i!=j} (A^T A)_ij^2`` for every sample and any epsilon, and exactly 0 when the columns
of ``A`` are orthogonal (then ``||A v||^2 = sum_i ||A_i||^2`` for every Rademacher ``v``).
"""

from __future__ import annotations

from typing import Callable

import torch

from .directions import Outputs, check_arguments, evaluate_batched, rademacher, reduce_variance


def orojar_penalty(
    fn: Callable[[torch.Tensor], Outputs],
    z: torch.Tensor,
    k: int = 2,
    epsilon: float = 0.1,
    reduction: str = "max",
    generator: torch.Generator | None = None,
    average: bool = False,
) -> torch.Tensor | list[torch.Tensor]:
    """First-order OroJaR of ``fn`` at ``z``.

    Args:
        fn: maps ``[m, d]`` to one tensor ``[m, ...]`` or a list (layers); called once on
            ``(k + 1) n`` stacked rows.
        z: the point ``[n, d]``.
        k: Rademacher directions (>= 2).
        epsilon: finite-difference step.
        reduction: ``max``/``mean`` (scalar, summed over layers) or ``none`` (per layer ``[n]``).
        generator: RNG of the directions.
        average: mean instead of sum of the squared directional derivative over output elements.

    Returns:
        the penalty (differentiable w.r.t. ``fn``'s parameters).
    """
    check_arguments(k, epsilon)
    directions = epsilon * rademacher((k, *z.shape), generator, z.device).to(z.dtype)
    values = evaluate_batched(fn, [z] + [z + x for x in directions])
    center, moved = values[0], values[1:]
    penalties = []
    for layer in range(len(center)):
        squared_norms = torch.stack(
            [((moved[i][layer] - center[layer]) / epsilon).flatten(1).square().sum(dim=1) for i in range(k)]
        )  # [k, n]
        if average:
            squared_norms = squared_norms / center[layer][0].numel()
        penalties.append(reduce_variance(squared_norms.var(dim=0, unbiased=True), reduction))
    if reduction == "none":
        return penalties
    return torch.stack(penalties).sum()


def expected_orojar_penalty(jacobian: torch.Tensor) -> torch.Tensor:
    """Exact expectation for a Jacobian ``[out, d]``: ``2 sum_{i!=j} (J^T J)_ij^2``."""
    gram = jacobian.t() @ jacobian
    off_diagonal = gram - torch.diag(torch.diagonal(gram))
    return 2 * off_diagonal.square().sum()
