"""KID (kernel inception distance) estimators: the unbiased polynomial-kernel MMD^2 over subsets.

KID = unbiased MMD^2 with ``k(x, y) = (x.y / d + 1)^3``, averaged over ``num_subsets`` random
subsets of ``subset_size`` rows per side (Binkowski et al. 2018; clean-fid's defaults: 100 subsets
of 1,000). Used by ``kid`` and ``inception_kid`` (:mod:`infogan_kit.metrics.image_quality`).
"""

from __future__ import annotations

import numpy as np

from ..errors import MetricError


def polynomial_mmd2_unbiased(x: np.ndarray, y: np.ndarray, degree: int = 3, coef0: float = 1.0) -> float:
    """Unbiased MMD^2 between samples ``x [m, d]`` and ``y [n, d]`` with ``k = (x.y / d + coef0)^degree``.

    Within-sample kernel sums leave out the diagonal (``/ m(m-1)``); the cross term is ``/ mn``.
    """
    gamma = 1.0 / x.shape[1]
    k_xx = (x @ x.T * gamma + coef0) ** degree
    k_yy = (y @ y.T * gamma + coef0) ** degree
    k_xy = (x @ y.T * gamma + coef0) ** degree
    m, n = len(x), len(y)
    within_x = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    within_y = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(within_x + within_y - 2.0 * k_xy.sum() / (m * n))


def kernel_distance(
    features_a: np.ndarray, features_b: np.ndarray, rng: np.random.Generator, subset_size: int = 1000, num_subsets: int = 100
) -> dict[str, float]:
    """KID: the polynomial-kernel unbiased MMD^2 averaged over random subsets.

    Small samples (at most :data:`FULL_KERNEL_ENTRIES` kernel entries, the ``fast`` sizes) compute
    the three kernel matrices once and each subset's sums as indicator-vector products
    (:func:`subset_mmd2_values`); larger ones compute each subset's kernels
    (:func:`polynomial_mmd2_unbiased`). Both routes see the same subsets and agree to round-off.

    Args:
        features_a: ``[n_a, d]``; features_b: ``[n_b, d]``.
        rng: draws the subsets (without replacement within a subset).
        subset_size: rows per side and subset, capped at ``min(n_a, n_b)``.
        num_subsets: number of subsets.

    Returns:
        ``{"kid_mean": mean over subsets, "kid_std": standard deviation over subsets (ddof=0)}``.
    """
    a, b = np.asarray(features_a, np.float64), np.asarray(features_b, np.float64)
    size = min(subset_size, len(a), len(b))
    if size < 2 or a.shape[1] != b.shape[1] or num_subsets < 1:
        raise MetricError(f"KID needs >= 2 rows per side, equal feature sizes and >= 1 subset, got {a.shape}, "
                          f"{b.shape} and {num_subsets} subsets")
    subsets = [(rng.choice(len(a), size, replace=False), rng.choice(len(b), size, replace=False)) for _ in range(num_subsets)]
    if (len(a) + len(b)) ** 2 <= FULL_KERNEL_ENTRIES:
        values = subset_mmd2_values(a, b, subsets)
    else:
        values = np.array([polynomial_mmd2_unbiased(a[rows_a], b[rows_b]) for rows_a, rows_b in subsets])
    return {"kid_mean": float(values.mean()), "kid_std": float(values.std())}


FULL_KERNEL_ENTRIES = 4_000**2
"""KID computes whole kernel matrices when ``(n_a + n_b)^2`` is at most this (128 MiB of float64)."""


def subset_mmd2_values(
    a: np.ndarray, b: np.ndarray, subsets: list[tuple[np.ndarray, np.ndarray]], degree: int = 3, coef0: float = 1.0
) -> np.ndarray:
    """:func:`polynomial_mmd2_unbiased` of every subset pair from the kernels of all rows at once.

    With ``s`` the 0/1 indicator of a subset, a within-sample sum without the diagonal is
    ``s^T K s - s . diag(K)`` and the cross sum ``s_a^T K_ab s_b``: one matrix product per kernel
    for all subsets instead of ``3 x num_subsets`` kernels of ``size^2`` entries.

    Args:
        a: ``[n_a, d]``; b: ``[n_b, d]`` float64; subsets: ``(rows of a, rows of b)`` pairs of one size.

    Returns:
        float64 ``[len(subsets)]``.
    """
    gamma = 1.0 / a.shape[1]
    k_aa = (a @ a.T * gamma + coef0) ** degree
    k_bb = (b @ b.T * gamma + coef0) ** degree
    k_ab = (a @ b.T * gamma + coef0) ** degree
    pick_a = np.zeros((len(subsets), len(a)))
    pick_b = np.zeros((len(subsets), len(b)))
    for row, (rows_a, rows_b) in enumerate(subsets):
        pick_a[row, rows_a] = 1.0
        pick_b[row, rows_b] = 1.0
    m = n = len(subsets[0][0])
    within_a = (np.einsum("sj,sj->s", pick_a @ k_aa, pick_a) - pick_a @ np.diag(k_aa)) / (m * (m - 1))
    within_b = (np.einsum("sj,sj->s", pick_b @ k_bb, pick_b) - pick_b @ np.diag(k_bb)) / (n * (n - 1))
    cross = np.einsum("sj,sj->s", pick_a @ k_ab, pick_b) / (m * n)
    return within_a + within_b - 2.0 * cross
