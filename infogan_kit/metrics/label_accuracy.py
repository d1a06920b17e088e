"""Label accuracy: how well a categorical code matches the class labels.

The InfoGAN paper's MNIST measure: the categorical code's classes are matched one-to-one to
the labels so that the number of agreeing samples is largest (the Hungarian algorithm on the
contingency table, ``scipy.optimize.linear_sum_assignment``), and the accuracy of that
matching is reported (error = 1 - accuracy; the paper reports about 5 % error on MNIST).
A code with more classes than labels leaves the extra classes unmatched (counted as errors).

Input: ``codes[:, code_index]`` holds class indices of the categorical code (InfoGAN's
representation puts the categorical codes first, as their argmax); ``factors[:,
factor_index]`` the labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ..errors import MetricError
from .registry import MetricInputs, metric


def label_accuracy(codes: Any, factors: Any, *, code_index: int = 0, factor_index: int = 0) -> dict[str, float]:
    """Best one-to-one matching accuracy of a categorical code against labels.

    Args:
        codes: ``[N, D]`` codes; column ``code_index`` must hold integer class indices.
        factors: ``[N, K]`` integer factors; column ``factor_index`` holds the labels.

    Returns:
        ``{"accuracy": ..., "error": ..., "num_categories": ...}``.

    Raises:
        MetricError: shapes disagree, or the code column is not integer-valued.
    """
    codes_np = np.asarray(codes, dtype=np.float64)
    factors_np = np.asarray(factors)
    if codes_np.ndim != 2 or factors_np.ndim != 2 or len(codes_np) != len(factors_np) or not len(codes_np):
        raise MetricError("label_accuracy needs codes [N, D] and factors [N, K] with the same N > 0")
    column = codes_np[:, code_index]
    if not np.all(np.isfinite(column)) or not np.allclose(column, np.round(column)) or column.min() < 0:
        raise MetricError("label_accuracy needs a categorical code: column %d holds non-integer values" % code_index)
    categories = np.round(column).astype(np.int64)
    labels = factors_np[:, factor_index].astype(np.int64)
    table = np.zeros((categories.max() + 1, labels.max() + 1), dtype=np.int64)
    np.add.at(table, (categories, labels), 1)
    rows, cols = linear_sum_assignment(table, maximize=True)
    accuracy = float(table[rows, cols].sum() / len(labels))
    return {"accuracy": accuracy, "error": 1.0 - accuracy, "num_categories": int(table.shape[0])}


def label_accuracy_applies(inputs: MetricInputs) -> str | None:
    """Why ``label_accuracy`` does not apply: not one class-label factor, or no categorical first code."""
    if inputs.factors_train.shape[1] != 1:
        return "it needs a single class-label factor (e.g. MNIST / Fashion-MNIST)"
    first = inputs.codes_train[:, 0]
    if not np.allclose(first, np.round(first)) or first.min() < 0:
        return "it needs a categorical code (the first code column holds class indices)"
    return None


@metric(
    "label_accuracy", kind="array", keys=("accuracy", "error", "num_categories"), applies=label_accuracy_applies,
    description="best one-to-one matching of the categorical code's classes to the labels (Hungarian)",
)
def compute_label_accuracy(inputs: MetricInputs) -> dict[str, Any]:
    """The registered ``label_accuracy``: :func:`label_accuracy` of the train rows."""
    return label_accuracy(inputs.codes_train, inputs.factors_train)
