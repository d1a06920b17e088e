"""Disentanglement, Completeness, Informativeness (DCI), Eastwood & Williams 2018.

Definition (protocol ``dlib``, as disentanglement_lib's ``_compute_dci``):

1. For each factor ``k`` fit one ``sklearn.ensemble.GradientBoostingClassifier()`` (library
   defaults: 100 stages, depth 3, learning rate 0.1) that predicts the factor's class from all
   ``D`` codes of the train split. ``R[d, k] = |feature_importances_[d]|`` gives the
   importance matrix ``R`` of shape ``[D, K]``.
2. Disentanglement: per code ``d``, ``1 - H_K(P[d, :])`` where ``P[d, :]`` is row ``d`` of ``R``
   normalized to sum 1 and ``H_K`` the entropy with log base ``K`` (number of factors); the
   score is the sum over codes weighted by each code's share ``sum_k R[d, k] / sum R`` of the
   total importance.
3. Completeness: per factor ``k``, ``1 - H_D(P[:, k])`` with column ``k`` normalized and log base
   ``D`` (number of codes); weighted by each factor's share of the total importance.
   As in disentanglement_lib, ``1e-11`` is added to every entry before the entropies (so an
   all-zero row has entropy 1 and contributes 0) and an all-zero matrix gets uniform weights.
4. Informativeness: the mean over factors of the classifiers' accuracy on the train split
   (``informativeness_train``) and on the test split (``informativeness_test``).

Defaults: 10,000 train / 5,000 test rows in disentanglement_lib; here, without explicit test
arrays, the first 2/3 of the rows train and the rest test.

Differences from other variants: the DCI paper uses Lasso or random-forest *regressors* and
reports informativeness as a prediction *error*; disentanglement_lib (and this module) uses
gradient-boosted *classifiers* and reports *accuracy* (higher is better). The estimator's
defaults follow the installed scikit-learn release. The classifiers are seeded with
``random_state`` (default ``None``, as disentanglement_lib, which only affects how exact ties
between equally good splits are broken). The per-factor fits are independent and run in
parallel processes, the factor with most classes first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.ensemble import GradientBoostingClassifier

from ..errors import MetricError
from .fast import fast_dci
from .registry import MetricInputs, metric
from .utils import parallel_map, quiet_fit, train_test_arrays

ENTROPY_EPSILON = 1e-11
"""Added to every importance before the entropies (disentanglement_lib's constant)."""


def _entropy_rows(probabilities: np.ndarray, base: int) -> np.ndarray:
    """Entropy (log base ``base``) of each row of a non-negative matrix, rows normalized to sum 1."""
    normalized = probabilities / probabilities.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(normalized > 0, -normalized * np.log(normalized), 0.0)
    return terms.sum(axis=1) / np.log(base)


def _check_importance(importance_matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(importance_matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] < 2 or matrix.shape[1] < 2:
        raise MetricError(
            f"the importance matrix must be [num_codes >= 2, num_factors >= 2], got shape {matrix.shape}"
        )
    if not np.isfinite(matrix).all() or (matrix < 0).any():
        raise MetricError("the importance matrix must hold finite non-negative values")
    return matrix


def disentanglement_per_code(importance_matrix: np.ndarray) -> np.ndarray:
    """``1 - entropy`` (base K) of each code's normalized importances: ``[D, K] -> [D]``."""
    matrix = _check_importance(importance_matrix)
    return 1.0 - _entropy_rows(matrix + ENTROPY_EPSILON, base=matrix.shape[1])


def completeness_per_factor(importance_matrix: np.ndarray) -> np.ndarray:
    """``1 - entropy`` (base D) of each factor's normalized importances: ``[D, K] -> [K]``."""
    matrix = _check_importance(importance_matrix)
    return 1.0 - _entropy_rows(matrix.T + ENTROPY_EPSILON, base=matrix.shape[0])


def _importance_shares(matrix: np.ndarray, axis: int) -> np.ndarray:
    """Each code's (axis=1) or factor's (axis=0) share of the total importance; uniform if all zero."""
    weights = np.ones_like(matrix) if matrix.sum() == 0.0 else matrix
    return weights.sum(axis=axis) / weights.sum()


def disentanglement_from_importance(importance_matrix: np.ndarray) -> float:
    """DCI disentanglement of an importance matrix.

    Args:
        importance_matrix: ``[D, K]`` non-negative, D >= 2 codes, K >= 2 factors.

    Returns:
        ``sum_d share_d * (1 - H_K(row d))`` in ``[0, 1]``.
    """
    matrix = _check_importance(importance_matrix)
    return float(np.sum(disentanglement_per_code(matrix) * _importance_shares(matrix, axis=1)))


def completeness_from_importance(importance_matrix: np.ndarray) -> float:
    """DCI completeness of an importance matrix.

    Args:
        importance_matrix: ``[D, K]`` non-negative, D >= 2 codes, K >= 2 factors.

    Returns:
        ``sum_k share_k * (1 - H_D(column k))`` in ``[0, 1]``.
    """
    matrix = _check_importance(importance_matrix)
    return float(np.sum(completeness_per_factor(matrix) * _importance_shares(matrix, axis=0)))


def _trees_per_stage(labels: np.ndarray) -> int:
    """Trees a GBT grows per boosting stage: one per class, one for a binary target (its cost)."""
    num_classes = len(np.unique(labels))
    return 1 if num_classes <= 2 else num_classes


def _fit_factor(job: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int | None]) -> tuple[np.ndarray, float, float]:
    """Fit one factor's classifier: returns (|importances| [D], train accuracy, test accuracy)."""
    codes_train, labels_train, codes_test, labels_test, random_state = job
    model = quiet_fit(GradientBoostingClassifier(random_state=random_state), codes_train, labels_train)
    train_accuracy = float(np.mean(model.predict(codes_train) == labels_train))
    test_accuracy = float(np.mean(model.predict(codes_test) == labels_test))
    return np.abs(model.feature_importances_), train_accuracy, test_accuracy


def importance_matrix_gbt(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    n_jobs: int | None = None,
    random_state: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fit one gradient-boosting classifier per factor (in parallel, most classes first).

    Args:
        codes_train: ``[Ntr, D]`` float64; factors_train: ``[Ntr, K]`` int.
        codes_test: ``[Nte, D]`` float64; factors_test: ``[Nte, K]`` int.
        n_jobs: worker processes (None = all available cores, 1 = serial in-process).
        random_state: seed of every classifier (None = scikit-learn's global state).

    Returns:
        ``(importance [D, K], train accuracy [K], test accuracy [K])``.
    """
    num_factors = factors_train.shape[1]
    jobs = [
        (codes_train, factors_train[:, k], codes_test, factors_test[:, k], random_state) for k in range(num_factors)
    ]
    costs = [_trees_per_stage(factors_train[:, k]) for k in range(num_factors)]
    results = parallel_map(_fit_factor, jobs, n_jobs, costs=costs)
    importance = np.stack([importances for importances, _, _ in results], axis=1)
    train_accuracy = np.array([accuracy for _, accuracy, _ in results])
    test_accuracy = np.array([accuracy for _, _, accuracy in results])
    return importance, train_accuracy, test_accuracy


def dci(
    codes: Any,
    factors: Any,
    codes_test: Any | None = None,
    factors_test: Any | None = None,
    *,
    n_jobs: int | None = None,
    random_state: int | None = None,
) -> dict[str, float]:
    """DCI disentanglement, completeness and informativeness of a representation.

    Args:
        codes: ``[N, D]`` float train codes (or all rows when no test split is given), D >= 2.
        factors: ``[N, K]`` integer factor classes, K >= 2, every column varying.
        codes_test, factors_test: optional ``[M, D]`` / ``[M, K]`` test split; when omitted the
            first ``ceil(2N/3)`` rows of ``codes``/``factors`` train and the rest test.
        n_jobs: worker processes for the per-factor fits (None = all available cores, 1 = serial).
        random_state: seed passed to every ``GradientBoostingClassifier`` (None = library default).

    Returns:
        ``{"disentanglement", "completeness", "informativeness_train", "informativeness_test"}``,
        all floats in ``[0, 1]``.

    Raises:
        MetricError: invalid arrays, fewer than 2 codes or 2 factors, too few rows.
    """
    codes_train, factors_train, test_codes, test_factors = train_test_arrays(codes, factors, codes_test, factors_test)
    if codes_train.shape[1] < 2 or factors_train.shape[1] < 2:
        raise MetricError(
            f"DCI needs at least 2 code dimensions and 2 factors (its entropy bases), got "
            f"{codes_train.shape[1]} codes and {factors_train.shape[1]} factors"
        )
    importance, train_accuracy, test_accuracy = importance_matrix_gbt(
        codes_train, factors_train, test_codes, test_factors, n_jobs=n_jobs, random_state=random_state
    )
    return {
        "disentanglement": disentanglement_from_importance(importance),
        "completeness": completeness_from_importance(importance),
        "informativeness_train": float(np.mean(train_accuracy)),
        "informativeness_test": float(np.mean(test_accuracy)),
    }


DCI_KEYS = ("disentanglement", "completeness", "informativeness_train", "informativeness_test")


def compute_fast_dci(inputs: MetricInputs) -> dict[str, float]:
    """``dci`` under ``fast_estimators``: :func:`~infogan_kit.metrics.fast.fast_dci` (random forests)."""
    return fast_dci(inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
                    n_jobs=inputs.n_jobs, random_state=inputs.seed)


@metric(
    "dci", kind="array", keys=DCI_KEYS, fast_compute=compute_fast_dci, uses_test_split=True,
    description="DCI (Eastwood & Williams 2018)",
    estimator={
        "dlib": "sklearn GradientBoostingClassifier() per factor (random_state=seed: breaks exact ties only), "
                "impurity importances",
        "fast": "sklearn RandomForestClassifier(n_estimators=20, max_features=None, min_samples_leaf=10) per factor, "
                "impurity importances",
    },
)
def compute_dci(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``dci``: :func:`dci` (gradient boosting) trained on the train rows, tested on the test rows."""
    return dci(inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
               n_jobs=inputs.n_jobs, random_state=inputs.seed)
