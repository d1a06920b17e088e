"""Modularity and Explicitness, Ridgeway & Mozer 2018 ("Learning Deep Disentangled Embeddings With
the F-Statistic Loss").

Definition (protocol ``dlib``, as disentanglement_lib's ``compute_modularity_explicitness``):

- Modularity: ``I[d, k]`` is the mutual information (nats) between code ``d`` discretized into
  ``num_bins = 20`` equal-width bins and factor ``k``, on the train split. For each code,
  with ``m_d = max_k I[d, k]^2``, ``delta_d = (sum_k I[d, k]^2 - m_d) / (m_d * (K - 1))`` and the
  code's modularity is ``1 - delta_d`` (0 for a code with no information, ``m_d = 0``). The
  score is the mean over codes.
- Explicitness: codes are standardized with the *train* split's mean and standard deviation
  (ddof 0); per factor, ``sklearn.linear_model.LogisticRegression()`` (library defaults) is fitted
  on all standardized codes of the train split, and the one-vs-rest ROC-AUC of its
  ``predict_proba`` is macro-averaged over the classes; ``explicitness_train`` /
  ``explicitness_test`` are the means over factors on the train / test split.

Defaults: 20 bins, 10,000 train / 5,000 test rows in disentanglement_lib; here, without explicit
test arrays, the first 2/3 of the rows train and the rest test.

Differences from other variants: the paper estimates MI with its own binning and reports the
explicitness of continuous factors with a regression; disentanglement_lib's (and our) numbers
depend on the 20-bin histogram and on scikit-learn's LogisticRegression defaults. Where
disentanglement_lib fails we return a value: a constant code is standardized with std 1 (it would
divide by zero), and a class of the train split absent from the test split (or present in all
its rows) is left out of the test ROC-AUC average (disentanglement_lib raises); test rows of a
class never seen in training count as negatives for every class. Modularity needs K >= 2 factors.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from ..errors import MetricError
from .registry import MetricInputs, metric
from .utils import check_num_bins, discrete_mutual_info, histogram_discretize, quiet_fit, train_test_arrays


def modularity_from_mutual_info(mutual_info: np.ndarray) -> float:
    """Modularity score of a ``[D, K >= 2]`` mutual-information matrix (mean over codes)."""
    info = np.asarray(mutual_info, dtype=np.float64)
    if info.ndim != 2 or info.shape[1] < 2:
        raise MetricError(f"modularity needs a [num_codes, num_factors >= 2] MI matrix, got shape {info.shape}")
    squared = np.square(info)
    largest = squared.max(axis=1)
    informative = largest > 0.0
    per_code = np.zeros(info.shape[0])
    deviation = (squared.sum(axis=1)[informative] - largest[informative]) / (largest[informative] * (info.shape[1] - 1))
    per_code[informative] = 1.0 - deviation
    return float(np.mean(per_code))


def standardize(codes_train: np.ndarray, codes_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Center and scale both splits with the train mean and std (ddof 0; std 0 is replaced by 1)."""
    mean = codes_train.mean(axis=0)
    std = codes_train.std(axis=0)
    std = np.where(std > 0.0, std, 1.0)
    return (codes_train - mean) / std, (codes_test - mean) / std


def one_vs_rest_auc(labels: np.ndarray, probabilities: np.ndarray, classes: np.ndarray) -> float:
    """Macro-average over classes of the binary ROC-AUC of ``probabilities[:, c]`` for ``labels == c``.

    Args:
        labels: ``[N]`` true classes; probabilities: ``[N, C]`` scores; classes: ``[C]`` the
            class of each probability column.

    Returns:
        the mean AUC over the classes that have both positive and negative rows.

    Raises:
        MetricError: no class has both positive and negative rows.
    """
    indicator = labels[:, None] == classes[None, :]
    positives = indicator.sum(axis=0)
    usable = np.flatnonzero((positives > 0) & (positives < len(labels)))
    if len(usable) == 0:
        raise MetricError("explicitness: the split holds a single class, ROC-AUC is undefined")
    scores = [roc_auc_score(indicator[:, c].astype(np.int64), probabilities[:, c]) for c in usable]
    return float(np.average(scores))


def explicitness_per_factor(
    codes_train: np.ndarray, labels_train: np.ndarray, codes_test: np.ndarray, labels_test: np.ndarray
) -> tuple[float, float]:
    """Train and test ROC-AUC of a logistic regression predicting one factor from the (standardized) codes.

    Args:
        codes_train: ``[Ntr, D]``; labels_train: ``[Ntr]``; codes_test: ``[Nte, D]``; labels_test: ``[Nte]``.

    Returns:
        ``(auc_train, auc_test)``.
    """
    classifier = quiet_fit(LogisticRegression(), codes_train, labels_train)
    auc_train = one_vs_rest_auc(labels_train, classifier.predict_proba(codes_train), classifier.classes_)
    auc_test = one_vs_rest_auc(labels_test, classifier.predict_proba(codes_test), classifier.classes_)
    return auc_train, auc_test


def modularity(
    codes: Any,
    factors: Any,
    codes_test: Any | None = None,
    factors_test: Any | None = None,
    *,
    num_bins: int = 20,
) -> dict[str, float]:
    """Modularity and explicitness of a representation.

    Args:
        codes: ``[N, D]`` float train codes (or all rows when no test split is given).
        factors: ``[N, K]`` integer factor classes, K >= 2, every column varying.
        codes_test, factors_test: optional ``[M, D]`` / ``[M, K]`` test split; when omitted the
            first ``ceil(2N/3)`` rows train and the rest test.
        num_bins: histogram bins for the modularity's MI.

    Returns:
        ``{"modularity", "explicitness_train", "explicitness_test"}`` floats in ``[0, 1]``.

    Raises:
        MetricError: invalid arrays, fewer than 2 factors, too few rows.
    """
    bins = check_num_bins(num_bins)
    codes_train, factors_train, test_codes, test_factors = train_test_arrays(codes, factors, codes_test, factors_test)
    if factors_train.shape[1] < 2:
        raise MetricError(f"modularity needs at least 2 factors, got {factors_train.shape[1]}")
    mutual_info = discrete_mutual_info(histogram_discretize(codes_train, bins), factors_train)
    train_standard, test_standard = standardize(codes_train, test_codes)
    aucs = np.array([
        explicitness_per_factor(train_standard, factors_train[:, k], test_standard, test_factors[:, k])
        for k in range(factors_train.shape[1])
    ])
    return {
        "modularity": modularity_from_mutual_info(mutual_info),
        "explicitness_train": float(np.mean(aucs[:, 0])),
        "explicitness_test": float(np.mean(aucs[:, 1])),
    }


@metric(
    "modularity", kind="array", keys=("modularity", "explicitness_train", "explicitness_test"), uses_test_split=True,
    description="Modularity and explicitness (Ridgeway & Mozer 2018)",
    estimator="20-bin histogram MI; explicitness: LogisticRegression() on standardized codes, one-vs-rest ROC-AUC",
)
def compute_modularity(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``modularity``: :func:`modularity` (explicitness tested on the test rows)."""
    return modularity(inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
                      num_bins=inputs.protocol.num_bins)
