"""Hand-computed checks of the metric building blocks: discretizer, MI, DCI entropy bases,
the unsupervised Gaussian scores, row splits and the parallel map."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import scipy.linalg

from infogan_kit.errors import MetricError
from infogan_kit.metrics.dci import completeness_from_importance, disentanglement_from_importance
from infogan_kit.metrics.unsupervised import gaussian_total_correlation, gaussian_wasserstein_correlation, unsupervised
from infogan_kit.metrics.utils import (
    check_codes_factors,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
    parallel_map,
    split_rows,
)

# ----------------------------------------------------------------------------- discretizer


def test_histogram_discretize_hand_computed():
    codes = np.array(
        [
            [0.0, 5.0, 0.0],
            [1.0, 5.0, 0.5],
            [2.0, 5.0, 10.0],
            [3.0, 5.0, 4.9],
            [4.0, 5.0, 5.0],
        ]
    )
    discrete = histogram_discretize(codes, num_bins=4)
    # Column 0: edges 0,1,2,3,4 -> digitize against 0,1,2,3; the maximum lands in the last bin.
    assert discrete[:, 0].tolist() == [1, 2, 3, 4, 4]
    # Column 1 is constant: numpy widens the range to 4.5..5.5, edges 4.5,4.75,5.0,5.25 -> bin 3.
    assert discrete[:, 1].tolist() == [3, 3, 3, 3, 3]
    # Column 2: edges 0, 2.5, 5, 7.5 -> a value on an edge goes to the bin it opens.
    assert discrete[:, 2].tolist() == [1, 1, 4, 2, 3]
    assert discrete.dtype == np.int64
    assert histogram_discretize(codes[:, :1], num_bins=2)[:, 0].tolist() == [1, 1, 2, 2, 2]


def test_discrete_mutual_info_and_entropy_hand_computed():
    factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    codes = np.array([[1, 1], [1, 2], [2, 1], [2, 2]]) * np.array([1, 1])
    info = discrete_mutual_info(codes, factors)
    # Code 0 is factor 0 relabelled (MI = ln 2) and independent of factor 1; likewise code 1.
    assert info == pytest.approx(np.array([[math.log(2), 0.0], [0.0, math.log(2)]]), abs=1e-12)
    skewed = np.array([[0], [0], [0], [1]])
    expected = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert discrete_entropy(skewed) == pytest.approx([expected], abs=1e-12)
    assert discrete_entropy(factors) == pytest.approx([math.log(2), math.log(2)], abs=1e-12)


# ----------------------------------------------------------------------------- DCI from importances


def _entropy(values: list[float], base: int) -> float:
    total = sum(values)
    return -sum(v / total * math.log(v / total) for v in values if v > 0) / math.log(base)


def test_dci_uses_number_of_factors_and_codes_as_entropy_bases():
    # 4 codes, 2 factors: each code serves one factor; each factor is split over two codes.
    four_codes = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    assert disentanglement_from_importance(four_codes) == pytest.approx(1.0, abs=1e-8)
    # Completeness uses base D=4: H([.5, .5, 0, 0]) = ln2 / ln4 = 0.5 (base K=2 would give 0).
    assert completeness_from_importance(four_codes) == pytest.approx(0.5, abs=1e-8)
    # The transpose: 2 codes, 4 factors; disentanglement now uses base K=4.
    assert disentanglement_from_importance(four_codes.T) == pytest.approx(0.5, abs=1e-8)
    assert completeness_from_importance(four_codes.T) == pytest.approx(1.0, abs=1e-8)


def test_dci_weights_by_share_of_total_importance():
    matrix = np.array([[3.0, 0.0], [1.0, 1.0]])
    # Codes: (1 - 0) with share 3/5 and (1 - 1) with share 2/5.
    assert disentanglement_from_importance(matrix) == pytest.approx(0.6, abs=1e-8)
    # Factors: column (3, 1) with share 4/5, column (0, 1) with share 1/5.
    expected = 0.8 * (1 - _entropy([3, 1], base=2)) + 0.2 * 1.0
    assert completeness_from_importance(matrix) == pytest.approx(expected, abs=1e-8)


def test_dci_all_zero_and_uniform_importance_score_zero():
    assert disentanglement_from_importance(np.zeros((3, 2))) == pytest.approx(0.0, abs=1e-12)
    assert completeness_from_importance(np.zeros((3, 2))) == pytest.approx(0.0, abs=1e-12)
    assert disentanglement_from_importance(np.ones((3, 5))) == pytest.approx(0.0, abs=1e-12)
    assert completeness_from_importance(np.ones((3, 5))) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(MetricError):
        disentanglement_from_importance(np.ones((3, 1)))
    with pytest.raises(MetricError):
        completeness_from_importance(-np.ones((3, 2)))


# ----------------------------------------------------------------------------- unsupervised


@pytest.mark.parametrize("correlation", [0.0, 0.3, -0.8])
def test_gaussian_scores_of_a_correlated_pair(correlation):
    covariance = np.array([[1.0, correlation], [correlation, 1.0]])
    assert gaussian_total_correlation(covariance) == pytest.approx(-0.5 * math.log(1 - correlation**2), abs=1e-12)
    # W2^2 = tr C + tr V - 2 tr sqrt(V^1/2 C V^1/2), with eigenvalues 1 +- r of C and V = I.
    expected = 4.0 - 2.0 * (math.sqrt(1 + correlation) + math.sqrt(1 - correlation))
    assert gaussian_wasserstein_correlation(covariance) == pytest.approx(expected, abs=1e-12)


def test_gaussian_wasserstein_matches_matrix_square_root():
    rng = np.random.default_rng(0)
    factor = rng.normal(size=(6, 6))
    covariance = factor @ factor.T + 0.1 * np.eye(6)
    root = scipy.linalg.sqrtm(covariance * np.diag(covariance)[:, None])
    expected = 2 * np.trace(covariance) - 2 * np.trace(root).real
    assert gaussian_wasserstein_correlation(covariance) == pytest.approx(expected, rel=1e-9)


def test_unsupervised_independent_duplicated_and_constant_codes():
    rng = np.random.default_rng(0)
    independent = rng.normal(size=(20000, 3))
    scores = unsupervised(independent)
    assert scores["gaussian_total_correlation"] < 1e-3
    assert scores["gaussian_wasserstein_correlation_norm"] < 1e-3
    assert scores["mutual_info_score"] < 0.02
    correlated = independent.copy()
    correlated[:, 1] = correlated[:, 0] + 0.1 * correlated[:, 1]
    assert unsupervised(correlated)["gaussian_total_correlation"] > 1.0
    assert unsupervised(correlated)["mutual_info_score"] > 0.3
    with_constant = np.concatenate([independent, np.ones((20000, 1))], axis=1)
    constant_scores = unsupervised(with_constant)
    assert all(np.isfinite(value) for value in constant_scores.values())
    assert constant_scores["gaussian_total_correlation"] == pytest.approx(scores["gaussian_total_correlation"])


# ----------------------------------------------------------------------------- splits and parallelism


def test_split_rows_takes_first_rows_in_order():
    codes = np.arange(20.0).reshape(10, 2)
    factors = np.arange(10)[:, None]
    train_codes, train_factors, test_codes, test_factors = split_rows(codes, factors, 6, 3)
    assert train_factors[:, 0].tolist() == [0, 1, 2, 3, 4, 5]
    assert test_factors[:, 0].tolist() == [6, 7, 8]
    assert train_codes.shape == (6, 2) and test_codes[0].tolist() == [12.0, 13.0]
    with pytest.raises(MetricError, match="rows"):
        split_rows(codes, factors, 8, 3)


def _square_with_pid(value: int) -> tuple[int, int]:
    return value * value, os.getpid()


def test_parallel_map_keeps_input_order_and_serial_runs_in_process():
    items = list(range(7))
    serial = parallel_map(_square_with_pid, items, n_jobs=1)
    assert [square for square, _ in serial] == [i * i for i in items]
    assert {pid for _, pid in serial} == {os.getpid()}
    costs = [1, 9, 3, 7, 2, 8, 5]
    parallel = parallel_map(_square_with_pid, items, n_jobs=2, costs=costs)
    assert [square for square, _ in parallel] == [i * i for i in items]
    with pytest.raises(MetricError):
        parallel_map(_square_with_pid, items, n_jobs=0)


def test_check_codes_factors_converts_types():
    codes, factors = check_codes_factors(np.ones((3, 2), dtype=np.float32), np.array([[0.0], [1.0], [2.0]]))
    assert codes.dtype == np.float64 and factors.dtype == np.int64
    assert factors[:, 0].tolist() == [0, 1, 2]
