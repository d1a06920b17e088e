"""label_accuracy: best one-to-one matching of categories to labels."""

from __future__ import annotations

import numpy as np
import pytest

from infogan_kit.errors import MetricError
from infogan_kit.metrics.label_accuracy import label_accuracy


def test_permuted_perfect_code_scores_one() -> None:
    labels = np.repeat(np.arange(10), 50)
    permutation = np.random.default_rng(0).permutation(10)
    codes = np.stack([permutation[labels], np.random.default_rng(1).normal(size=500)], 1).astype(float)
    result = label_accuracy(codes, labels[:, None])
    assert result["accuracy"] == 1.0 and result["error"] == 0.0 and result["num_categories"] == 10


def test_constructed_confusions_give_the_hand_computed_accuracy() -> None:
    # label 0 -> category 2 (8 of 10, 2 go to 1); label 1 -> category 0 (all 10); label 2 -> category 1 (6 of 10, 4 to 2).
    labels = np.repeat([0, 1, 2], 10)
    categories = np.array([2] * 8 + [1] * 2 + [0] * 10 + [1] * 6 + [2] * 4)
    result = label_accuracy(categories[:, None].astype(float), labels[:, None])
    assert result["accuracy"] == pytest.approx((8 + 10 + 6) / 30)


def test_collapsed_code_scores_at_chance() -> None:
    labels = np.repeat(np.arange(10), 20)
    result = label_accuracy(np.zeros((200, 1)), labels[:, None])
    assert result["accuracy"] == pytest.approx(0.1)


def test_continuous_code_is_refused() -> None:
    with pytest.raises(MetricError, match="categorical code"):
        label_accuracy(np.random.default_rng(0).normal(size=(50, 2)), np.zeros((50, 1), dtype=int))


def test_registered_and_applied_only_to_label_data() -> None:
    from infogan_kit import metrics

    labels = np.repeat(np.arange(10), 100)
    rng = np.random.default_rng(0)
    noisy = np.where(rng.random(1000) < 0.9, labels, rng.integers(0, 10, 1000))
    codes = np.stack([(noisy + 3) % 10, rng.normal(size=1000)], 1).astype(float)
    result = metrics.evaluate_codes(codes, labels[:, None], None, "label_accuracy,mig", "fast", 0, 600, 300)
    assert 0.85 < result["metrics"]["label_accuracy"]["accuracy"] < 0.97
    continuous = metrics.evaluate_codes(rng.normal(size=(1000, 2)), labels[:, None], None, "all", "fast", 0, 600, 300)
    assert "label_accuracy" not in continuous["metrics"]
