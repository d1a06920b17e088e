"""Unsupervised scores of a representation: Gaussian total correlation, Gaussian Wasserstein
correlation and the mean pairwise mutual information between codes.

Definition (protocol ``dlib``, as disentanglement_lib's ``unsupervised_metrics``), with ``C`` the
``[D, D]`` sample covariance of the codes (ddof 1) and ``v = diag(C)``:

- ``gaussian_total_correlation`` = KL(N(0, C) || N(0, diag(v))) = ``0.5 * (sum log v - log det C)``
  (0 for independent codes, larger when codes are correlated).
- ``gaussian_wasserstein_correlation`` = ``2 tr(C) - 2 tr(sqrt(diag(v) C))``, the squared
  2-Wasserstein distance between N(0, C) and N(0, diag(v)). We compute ``tr(sqrt(diag(v) C))`` as
  the sum of the square roots of the eigenvalues of the symmetric ``diag(v)^1/2 C diag(v)^1/2``
  (the same number as disentanglement_lib's ``scipy.linalg.sqrtm``, without its complex round-off).
- ``gaussian_wasserstein_correlation_norm`` = the above divided by ``tr(C)``.
- ``mutual_info_score`` = the mean over ordered pairs ``d != e`` of the MI (nats) between codes
  ``d`` and ``e``, each discretized into ``num_bins = 20`` equal-width bins.

The factors are not used (the argument exists so every array metric takes the same inputs; when
given they are validated against the codes). Exactly duplicated codes make ``C`` singular and
the total correlation infinite, as in disentanglement_lib. Defaults: 10,000 points in disentanglement_lib,
20 bins.

Differences from other variants and edge cases: other libraries estimate total correlation with
minibatch-weighted sampling of a VAE's posterior; these are covariance-based proxies valid for
any representation. Where disentanglement_lib returns NaN we return a number: a constant code
(all values equal) is independent of the rest and is left out of the total correlation, and with
``tr(C) = 0`` the normalized Wasserstein correlation is 0. At least two code dimensions are needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import MetricError
from .registry import MetricInputs, metric
from .utils import check_codes, check_codes_factors, check_num_bins, discrete_mutual_info, histogram_discretize


def gaussian_total_correlation(covariance: np.ndarray) -> float:
    """Total correlation of N(0, covariance): ``[D, D]`` positive-definite -> float (nats).

    ``0.5 * (sum_d log C[d, d] - log det C)``; 0 for a single dimension.
    """
    if covariance.shape[0] < 2:
        return 0.0
    return float(0.5 * (np.sum(np.log(np.diag(covariance))) - np.linalg.slogdet(covariance)[1]))


def gaussian_wasserstein_correlation(covariance: np.ndarray) -> float:
    """Squared W2 distance between N(0, covariance) and N(0, diag(covariance)), ``[D, D] -> float``."""
    scale = np.sqrt(np.diag(covariance))
    symmetric = covariance * scale[:, None] * scale[None, :]
    eigenvalues = np.clip(np.linalg.eigvalsh(symmetric), 0.0, None)
    return float(2.0 * np.trace(covariance) - 2.0 * np.sum(np.sqrt(eigenvalues)))


def mean_pairwise_mutual_info(codes: np.ndarray, num_bins: int = 20) -> float:
    """Mean MI (nats) between distinct discretized code columns, ``[N, D >= 2] -> float``."""
    discrete = histogram_discretize(codes, num_bins)
    info = discrete_mutual_info(discrete, discrete)
    np.fill_diagonal(info, 0.0)
    num_codes = codes.shape[1]
    return float(np.sum(info) / (num_codes * num_codes - num_codes))


def unsupervised(codes: Any, factors: Any | None = None, *, num_bins: int = 20) -> dict[str, float]:
    """Covariance- and MI-based unsupervised scores of a representation.

    Args:
        codes: ``[N, D]`` float codes (numpy or torch), D >= 2, N >= 2, finite.
        factors: optional ``[N, K]`` factors (unused; validated when given).
        num_bins: histogram bins for the pairwise mutual information.

    Returns:
        ``{"gaussian_total_correlation", "gaussian_wasserstein_correlation",
        "gaussian_wasserstein_correlation_norm", "mutual_info_score"}`` (floats; lower = more
        independent codes).

    Raises:
        MetricError: invalid arrays, fewer than 2 code dimensions or 2 rows.
    """
    bins = check_num_bins(num_bins)
    codes_array = check_codes(codes) if factors is None else check_codes_factors(codes, factors)[0]
    if codes_array.shape[1] < 2 or codes_array.shape[0] < 2:
        raise MetricError(f"the unsupervised scores need at least 2 rows and 2 code dimensions, got {codes_array.shape}")
    covariance = np.cov(codes_array, rowvar=False)
    wasserstein = gaussian_wasserstein_correlation(covariance)
    total_variance = float(np.trace(covariance))
    # A constant code (all values equal; its variance may still be a round-off 1e-33) is left out.
    varying = np.flatnonzero(np.ptp(codes_array, axis=0) > 0.0)
    return {
        "gaussian_total_correlation": gaussian_total_correlation(covariance[np.ix_(varying, varying)]),
        "gaussian_wasserstein_correlation": wasserstein,
        "gaussian_wasserstein_correlation_norm": wasserstein / total_variance if total_variance > 0 else 0.0,
        "mutual_info_score": mean_pairwise_mutual_info(codes_array, bins),
    }


UNSUPERVISED_KEYS = (
    "gaussian_total_correlation",
    "gaussian_wasserstein_correlation",
    "gaussian_wasserstein_correlation_norm",
    "mutual_info_score",
)


@metric(
    "unsupervised", kind="array", keys=UNSUPERVISED_KEYS,
    description="Gaussian total/Wasserstein correlation and mean pairwise MI of the codes",
    estimator="Gaussian total correlation / Wasserstein correlation of the code covariance; 20-bin histogram MI",
)
def compute_unsupervised(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``unsupervised``: :func:`unsupervised` of the train rows."""
    return unsupervised(inputs.codes_train, inputs.factors_train, num_bins=inputs.protocol.num_bins)
