"""Mutual Information Gap (MIG), Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs".

Definition (protocol ``dlib``, as disentanglement_lib's ``_compute_mig``):

1. Discretize each code column into ``num_bins = 20`` equal-width histogram bins
   (:func:`~infogan_kit.metrics.utils.histogram_discretize`).
2. ``I[d, k]`` = mutual information (nats, ``sklearn.metrics.mutual_info_score``) between the
   discretized code ``d`` and factor ``k``; ``H[k]`` = entropy of factor ``k`` (its MI with itself).
3. For each factor, the gap between the largest and second-largest ``I[:, k]`` divided by ``H[k]``;
   the score is the mean over factors.

Defaults: 20 bins; disentanglement_lib uses 10,000 sampled points (the caller chooses the rows;
the CLI passes its train split).

Differences from other variants: the original paper estimates the MI of continuous codes with
the encoder's posterior (a VAE-only estimator) and uses the factors' true entropies; here, as in
disentanglement_lib, the codes are histogram-discretized, so the score depends on the bin count
and is invariant to affine rescaling of a code but not to non-linear monotone maps. Libraries
that use quantile bins or k-NN MI estimators report different numbers. MIG needs at least two
code dimensions (the gap is undefined for one).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import MetricError
from .registry import MetricInputs, metric
from .utils import check_codes_factors, discrete_entropy, discrete_mutual_info, histogram_discretize


def mig_from_mutual_info(mutual_info: np.ndarray, entropy: np.ndarray) -> float:
    """MIG from a mutual-information matrix and the factor entropies.

    Args:
        mutual_info: ``[D, K]`` MI between codes and factors (D >= 2).
        entropy: ``[K]`` positive factor entropies.

    Returns:
        mean over factors of ``(largest MI - second-largest MI) / entropy``.
    """
    if mutual_info.ndim != 2 or mutual_info.shape[0] < 2:
        raise MetricError(f"MIG needs at least 2 code dimensions, got MI matrix of shape {mutual_info.shape}")
    top_two = np.sort(mutual_info, axis=0)[::-1][:2]
    return float(np.mean((top_two[0] - top_two[1]) / entropy))


def mig(codes: Any, factors: Any, *, num_bins: int = 20) -> dict[str, float]:
    """Mutual Information Gap of a representation.

    Args:
        codes: ``[N, D]`` float codes (numpy or torch), D >= 2, finite.
        factors: ``[N, K]`` integer factor classes, every column varying.
        num_bins: histogram bins per code column.

    Returns:
        ``{"score": float}`` in ``[0, 1]`` (1 = every factor captured by exactly one code).

    Raises:
        MetricError: invalid arrays or fewer than 2 code dimensions.
    """
    codes_array, factors_array = check_codes_factors(codes, factors)
    if codes_array.shape[1] < 2:
        raise MetricError(f"MIG needs at least 2 code dimensions, got {codes_array.shape[1]}")
    mutual_info = discrete_mutual_info(histogram_discretize(codes_array, num_bins), factors_array)
    return {"score": mig_from_mutual_info(mutual_info, discrete_entropy(factors_array))}


@metric("mig", kind="array", keys=("score",), description="Mutual Information Gap (Chen et al. 2018)",
        estimator="20-bin histogram discretizer + sklearn mutual_info_score (nats)")
def compute_mig(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``mig``: :func:`mig` of the train rows."""
    return mig(inputs.codes_train, inputs.factors_train, num_bins=inputs.protocol.num_bins)
