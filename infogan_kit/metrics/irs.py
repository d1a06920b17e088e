"""Interventional Robustness Score (IRS), Suter et al. 2019 ("Robustly Disentangled Causal Mechanisms").

Definition (protocol ``dlib``, as disentanglement_lib's ``compute_irs`` and
``scalable_disentanglement_score``):

1. The *factors* are discretized like codes, into ``num_bins = 20`` equal-width histogram bins
   per factor (so factors with more than 20 classes, e.g. dSprites' 40 orientations or 32
   positions, are merged into coarser groups; factors with at most 20 classes keep one group per
   class).
2. Inactive code dimensions (all values equal) are dropped; with no active dimension the score
   is 0. (disentanglement_lib tests ``variance > 0``, which rounding can make true for a
   constant column, whose zero maximal deviation then yields NaN or an error there.)
3. For an active code ``d`` and factor ``k``: for each group ``g`` of factor ``k``, the
   ``diff_quantile`` percentile (numpy's linear interpolation) of ``|z_d - E[z_d | group g]|``
   over the group's rows; these are averaged over the groups of ``k``, divided by the code's
   maximal deviation ``max |z_d - E[z_d]|``, and ``IRS[d, k] = 1 - that ratio``.
4. Each code's score is ``max_k IRS[d, k]``; the result is their average weighted by the codes'
   maximal deviations.

``num_active_dims`` is the number of codes that are not constant. (disentanglement_lib's
``compute_irs`` returns the *sum of the active codes' values* under that key, an evident slip;
we report the count.)

Defaults: 10,000 points in disentanglement_lib, ``diff_quantile = 0.99`` (the paper's version
uses 1.0, the maximum deviation), 20 bins.

Differences from other variants: the paper assumes one sample per factor combination and uses
the maximum deviation; the 0.99 quantile and the discretization of the factors are
disentanglement_lib's choices, and they change the numbers noticeably for large factor grids.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import MetricError
from .registry import MetricInputs, metric
from .utils import check_codes_factors, check_num_bins, histogram_discretize


def irs_matrix(factor_groups: np.ndarray, latents: np.ndarray, diff_quantile: float = 0.99) -> tuple[np.ndarray, np.ndarray]:
    """IRS matrix and maximal deviations of active latents.

    Args:
        factor_groups: ``[N, K]`` discrete factor labels (groups of constant factor value).
        latents: ``[N, D]`` codes, every column with non-zero variance.
        diff_quantile: quantile in ``(0, 1]`` of the within-group deviations.

    Returns:
        ``(irs [D, K], max_deviation [D])``.
    """
    max_deviation = np.max(np.abs(latents - latents.mean(axis=0)), axis=0)
    mean_group_deviation = np.zeros((latents.shape[1], factor_groups.shape[1]))
    for k in range(factor_groups.shape[1]):
        groups = np.unique(factor_groups[:, k])
        for group in groups:
            members = latents[factor_groups[:, k] == group]
            deviations = np.abs(members - members.mean(axis=0))
            mean_group_deviation[:, k] += np.percentile(deviations, q=diff_quantile * 100, axis=0)
        mean_group_deviation[:, k] /= len(groups)
    return 1.0 - mean_group_deviation / max_deviation[:, None], max_deviation


def irs(codes: Any, factors: Any, *, num_bins: int = 20, diff_quantile: float = 0.99) -> dict[str, float]:
    """Interventional Robustness Score of a representation.

    Args:
        codes: ``[N, D]`` float codes (numpy or torch), finite.
        factors: ``[N, K]`` integer factor classes, every column varying.
        num_bins: histogram bins used to group each factor's values.
        diff_quantile: quantile in ``(0, 1]`` of the within-group deviations (1.0 = the paper's max).

    Returns:
        ``{"score": float in [0, 1], "num_active_dims": int}``.

    Raises:
        MetricError: invalid arrays, ``diff_quantile`` outside ``(0, 1]``.
    """
    bins = check_num_bins(num_bins)
    if not isinstance(diff_quantile, (int, float, np.floating)) or not 0.0 < float(diff_quantile) <= 1.0:
        raise MetricError(f"diff_quantile must be in (0, 1], got {diff_quantile!r}")
    codes_array, factors_array = check_codes_factors(codes, factors)
    factor_groups = histogram_discretize(factors_array, bins)
    # disentanglement_lib tests ``var > 0``; a constant float column can have a round-off variance
    # (and then a zero max deviation, a division by zero there), so we test the range instead.
    active = np.ptp(codes_array, axis=0) > 0.0
    num_active = int(active.sum())
    if num_active == 0:
        return {"score": 0.0, "num_active_dims": 0}
    matrix, max_deviation = irs_matrix(factor_groups, codes_array[:, active], float(diff_quantile))
    per_code = matrix.max(axis=1)
    return {"score": float(np.average(per_code, weights=max_deviation)), "num_active_dims": num_active}


@metric(
    "irs", kind="array", keys=("score", "num_active_dims"),
    description="Interventional Robustness Score (Suter et al. 2019)",
    estimator="20-bin histogram discretizer on the factors, diff quantile 0.99",
    sizes={"dlib": {"diff_quantile": 0.99}},
)
def compute_irs(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``irs``: :func:`irs` of the train rows with the protocol's quantile."""
    return irs(inputs.codes_train, inputs.factors_train, num_bins=inputs.protocol.num_bins,
               **inputs.protocol.metric_sizes("irs"))
