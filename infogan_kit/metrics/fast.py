"""Cheap estimators of the ``fast`` protocol (for in-training logging and quick looks).

The ``fast`` protocol keeps every metric's definition and changes two things: far fewer samples
(:data:`infogan_kit.metrics.protocol.FAST`'s split, and each metric's declared ``"fast"`` sizes)
and, for the two metrics whose reference estimators dominate the suite's run time, cheaper
estimators (their ``fast_compute``):

* **DCI** (:func:`fast_dci`): one ``RandomForestClassifier`` per factor instead of a
  ``GradientBoostingClassifier``. A forest grows one tree per class set (gradient boosting grows
  one tree per class per stage: 40 x 100 trees for dSprites' orientation), its impurity
  importances play the role of the boosting importances and its accuracies that of the
  informativeness. ``max_features=None`` lets every split consider every code, as the boosted
  trees do, so importance is not spread over irrelevant codes by feature subsampling.
* **SAP** (:func:`fast_sap`): per (code, factor), a 1-D histogram classifier (``num_bins``
  equal-width bins of the code on the train split; each bin predicts its most frequent train
  class) replaces the linear SVM; the score matrix is its test accuracy, vectorized with
  ``bincount``.

Numbers are therefore NOT comparable with published ones (every result says so); they agree in
ranking with the ``dlib`` protocol on representations of clearly different quality (tested).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import MetricError
from .utils import train_test_arrays

FOREST_TREES = 20
FOREST_MIN_SAMPLES_LEAF = 10


def _importance_scores(importance: np.ndarray) -> tuple[float, float]:
    from .dci import completeness_from_importance, disentanglement_from_importance

    return disentanglement_from_importance(importance), completeness_from_importance(importance)


def fast_dci(
    codes: Any,
    factors: Any,
    codes_test: Any | None = None,
    factors_test: Any | None = None,
    *,
    n_jobs: int | None = None,
    random_state: int = 0,
) -> dict[str, float]:
    """DCI with a random-forest importance estimator (fast protocol).

    Args:
        codes: ``[N, D]`` float train codes (or all rows when no test split is given), D >= 2.
        factors: ``[N, K]`` integer factor classes, K >= 2, every column varying.
        codes_test, factors_test: optional test split ``[M, D]`` / ``[M, K]``; when omitted the
            first ``ceil(2N/3)`` rows train and the rest test.
        n_jobs: threads of each forest (None = scikit-learn's default, 1 = serial).
        random_state: seed of the forests (results are deterministic for a seed).

    Returns:
        ``{"disentanglement", "completeness", "informativeness_train", "informativeness_test"}``
        (same keys and entropy bases as :func:`~infogan_kit.metrics.dci.dci`).
    """
    from sklearn.ensemble import RandomForestClassifier

    codes_train, factors_train, test_codes, test_factors = train_test_arrays(codes, factors, codes_test, factors_test)
    if codes_train.shape[1] < 2 or factors_train.shape[1] < 2:
        raise MetricError("DCI needs at least 2 code dimensions and 2 factors")
    importance = np.zeros((codes_train.shape[1], factors_train.shape[1]))
    train_accuracy, test_accuracy = [], []
    for factor in range(factors_train.shape[1]):
        forest = RandomForestClassifier(
            n_estimators=FOREST_TREES,
            max_features=None,
            min_samples_leaf=FOREST_MIN_SAMPLES_LEAF,
            n_jobs=n_jobs,
            random_state=random_state + factor,
        ).fit(codes_train, factors_train[:, factor])
        importance[:, factor] = np.abs(forest.feature_importances_)
        train_accuracy.append(np.mean(forest.predict(codes_train) == factors_train[:, factor]))
        test_accuracy.append(np.mean(forest.predict(test_codes) == test_factors[:, factor]))
    disentanglement, completeness = _importance_scores(importance)
    return {
        "disentanglement": disentanglement,
        "completeness": completeness,
        "informativeness_train": float(np.mean(train_accuracy)),
        "informativeness_test": float(np.mean(test_accuracy)),
    }


def histogram_classifier_accuracy(
    code_train: np.ndarray, labels_train: np.ndarray, code_test: np.ndarray, labels_test: np.ndarray, num_bins: int = 20
) -> float:
    """Test accuracy of a 1-D histogram classifier.

    Args:
        code_train: ``[N]`` one code column (train); labels_train: ``[N]`` int classes.
        code_test: ``[M]`` the same column (test); labels_test: ``[M]`` int classes.
        num_bins: equal-width bins between the train minimum and maximum (test values outside
            fall in the first / last bin).

    Returns:
        share of test rows whose class is the most frequent train class of their bin (a bin
        without train rows predicts the most frequent train class overall).
    """
    edges = np.histogram(code_train, num_bins)[1]
    bins_train = np.clip(np.digitize(code_train, edges[1:-1]), 0, num_bins - 1)
    bins_test = np.clip(np.digitize(code_test, edges[1:-1]), 0, num_bins - 1)
    num_classes = int(max(labels_train.max(), labels_test.max())) + 1
    counts = np.bincount(bins_train * num_classes + labels_train, minlength=num_bins * num_classes)
    counts = counts.reshape(num_bins, num_classes)
    prediction = counts.argmax(axis=1)
    empty = counts.sum(axis=1) == 0
    prediction[empty] = np.bincount(labels_train, minlength=num_classes).argmax()
    return float(np.mean(prediction[bins_test] == labels_test))


def fast_sap(
    codes: Any,
    factors: Any,
    codes_test: Any | None = None,
    factors_test: Any | None = None,
    *,
    num_bins: int = 20,
) -> dict[str, float]:
    """SAP with a 1-D histogram classifier per (code, factor) (fast protocol).

    Args:
        codes: ``[N, D]`` float train codes (or all rows when no test split is given), D >= 2.
        factors: ``[N, K]`` integer factor classes, every column varying.
        codes_test, factors_test: optional test split; when omitted 2/3 of the rows train.
        num_bins: bins of each histogram classifier.

    Returns:
        ``{"score": float}``: mean over factors of the gap between the two best codes' test
        accuracies.
    """
    codes_train, factors_train, test_codes, test_factors = train_test_arrays(codes, factors, codes_test, factors_test)
    if codes_train.shape[1] < 2:
        raise MetricError(f"SAP needs at least 2 code dimensions, got {codes_train.shape[1]}")
    score_matrix = np.array([
        [
            histogram_classifier_accuracy(codes_train[:, d], factors_train[:, k], test_codes[:, d], test_factors[:, k], num_bins)
            for k in range(factors_train.shape[1])
        ]
        for d in range(codes_train.shape[1])
    ])
    top_two = np.sort(score_matrix, axis=0)[::-1][:2]
    return {"score": float(np.mean(top_two[0] - top_two[1]))}
