"""Separated Attribute Predictability (SAP), Kumar et al. 2018 (DIP-VAE paper, Section 3).

Definition (protocol ``dlib``, as disentanglement_lib's ``_compute_sap`` with
``continuous_factors=False``):

1. For every pair (code ``d``, factor ``k``) fit ``sklearn.svm.LinearSVC(C=0.01,
   class_weight="balanced")`` on the single code column of the train split to predict the
   factor's class; ``S[d, k]`` is its accuracy on the test split (score matrix ``[D, K]``).
2. For each factor, the difference between the largest and second-largest ``S[:, k]``; the score
   is the mean over factors.

Defaults: 10,000 train / 5,000 test rows in disentanglement_lib; here, without explicit test
arrays, the first 2/3 of the rows train and the rest test. The estimator's remaining defaults are
the installed scikit-learn release's (e.g. ``dual="auto"``).

Differences from other variants: the SAP paper scores continuous factors with the R^2 of a
linear regression and discrete ones with a threshold classifier; disentanglement_lib treats all
factors as discrete and uses a heavily regularized linear SVM per code, so its numbers are not
comparable with the paper's or with libraries using the R^2 variant. SAP needs at least two code
dimensions. The ``D * K`` fits are independent and run in parallel, factors with many classes
first.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.svm import LinearSVC

from ..errors import MetricError
from .fast import fast_sap
from .registry import MetricInputs, metric
from .utils import parallel_map, quiet_fit, train_test_arrays

SVC_C = 0.01
"""Regularization of the per-code linear SVM (disentanglement_lib's value)."""


def _fit_code_factor(job: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]) -> float:
    """Test accuracy of a linear SVM predicting one factor from one code column."""
    code_train, labels_train, code_test, labels_test = job
    classifier = quiet_fit(LinearSVC(C=SVC_C, class_weight="balanced"), code_train[:, None], labels_train)
    return float(np.mean(classifier.predict(code_test[:, None]) == labels_test))


def sap_score_matrix(
    codes_train: np.ndarray,
    factors_train: np.ndarray,
    codes_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    n_jobs: int | None = None,
) -> np.ndarray:
    """Test accuracy of a per-(code, factor) linear SVM.

    Args:
        codes_train: ``[Ntr, D]``; factors_train: ``[Ntr, K]``; codes_test: ``[Nte, D]``;
            factors_test: ``[Nte, K]``.
        n_jobs: worker processes (None = all available cores, 1 = serial in-process).

    Returns:
        float64 ``[D, K]`` score matrix.
    """
    num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
    pairs = [(d, k) for d in range(num_codes) for k in range(num_factors)]
    jobs = [(codes_train[:, d], factors_train[:, k], codes_test[:, d], factors_test[:, k]) for d, k in pairs]
    classes = [len(np.unique(factors_train[:, k])) for k in range(num_factors)]
    accuracies = parallel_map(_fit_code_factor, jobs, n_jobs, costs=[classes[k] for _, k in pairs])
    return np.array(accuracies, dtype=np.float64).reshape(num_codes, num_factors)


def sap_from_score_matrix(score_matrix: np.ndarray) -> float:
    """Mean over factors of (best - second-best) score across codes: ``[D >= 2, K] -> float``."""
    matrix = np.asarray(score_matrix, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] < 2:
        raise MetricError(f"SAP needs a [num_codes >= 2, num_factors] score matrix, got shape {matrix.shape}")
    ordered = np.sort(matrix, axis=0)
    return float(np.mean(ordered[-1] - ordered[-2]))


def sap(
    codes: Any,
    factors: Any,
    codes_test: Any | None = None,
    factors_test: Any | None = None,
    *,
    n_jobs: int | None = None,
) -> dict[str, float]:
    """SAP score of a representation.

    Args:
        codes: ``[N, D]`` float train codes (or all rows when no test split is given), D >= 2.
        factors: ``[N, K]`` integer factor classes, every column varying.
        codes_test, factors_test: optional ``[M, D]`` / ``[M, K]`` test split; when omitted the
            first ``ceil(2N/3)`` rows train and the rest test.
        n_jobs: worker processes for the ``D * K`` fits (None = all available cores, 1 = serial).

    Returns:
        ``{"score": float}`` in ``[0, 1]``.

    Raises:
        MetricError: invalid arrays, fewer than 2 code dimensions, too few rows.
    """
    codes_train, factors_train, test_codes, test_factors = train_test_arrays(codes, factors, codes_test, factors_test)
    if codes_train.shape[1] < 2:
        raise MetricError(f"SAP needs at least 2 code dimensions, got {codes_train.shape[1]}")
    matrix = sap_score_matrix(codes_train, factors_train, test_codes, test_factors, n_jobs=n_jobs)
    return {"score": sap_from_score_matrix(matrix)}


def compute_fast_sap(inputs: MetricInputs) -> dict[str, float]:
    """``sap`` under ``fast_estimators``: :func:`~infogan_kit.metrics.fast.fast_sap` (histogram classifiers)."""
    return fast_sap(inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
                    num_bins=inputs.protocol.num_bins)


@metric(
    "sap", kind="array", keys=("score",), fast_compute=compute_fast_sap, uses_test_split=True,
    description="SAP (Kumar et al. 2018)",
    estimator={"dlib": "sklearn LinearSVC(C=0.01, class_weight='balanced') per (code, factor)",
               "fast": "1-D histogram classifier (20 train bins, majority class per bin) per (code, factor)"},
)
def compute_sap(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``sap``: :func:`sap` (linear SVMs), serial unless ``inputs.n_jobs`` asks for workers."""
    # D x K one-feature SVM fits of ~30 ms each: worker processes cost more than they save.
    workers = 1 if inputs.n_jobs is None else inputs.n_jobs
    return sap(inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test, n_jobs=workers)
