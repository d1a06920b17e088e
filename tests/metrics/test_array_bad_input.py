"""Every bad input to an array metric raises MetricError with a one-line message."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest
import torch

from infogan_kit.errors import InfoganError, MetricError
from infogan_kit.metrics.dci import dci
from infogan_kit.metrics.irs import irs
from infogan_kit.metrics.mig import mig
from infogan_kit.metrics.modularity import modularity
from infogan_kit.metrics.sap import sap
from infogan_kit.metrics.unsupervised import unsupervised
from infogan_kit.metrics.utils import check_codes_factors, histogram_discretize, parallel_map

METRICS: dict[str, Callable[..., dict[str, Any]]] = {
    "mig": mig,
    "dci": lambda codes, factors, **kw: dci(codes, factors, n_jobs=1, **kw),
    "sap": lambda codes, factors, **kw: sap(codes, factors, n_jobs=1, **kw),
    "modularity": modularity,
    "irs": irs,
    "unsupervised": unsupervised,
}

NUM_ROWS = 30


def _good() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    factors = np.stack([np.arange(NUM_ROWS) % 2, np.arange(NUM_ROWS) % 3], axis=1)
    return rng.normal(size=(NUM_ROWS, 3)), factors


def _with_nan() -> tuple[Any, Any]:
    codes, factors = _good()
    codes[4, 1] = np.nan
    return codes, factors


def _with_inf() -> tuple[Any, Any]:
    codes, factors = _good()
    codes[0, 0] = -np.inf
    return codes, factors


def _torch_nan() -> tuple[Any, Any]:
    codes, factors = _with_nan()
    return torch.from_numpy(codes), torch.from_numpy(factors)


def _fractional_factors() -> tuple[Any, Any]:
    codes, factors = _good()
    return codes, factors + 0.5


def _negative_factors() -> tuple[Any, Any]:
    codes, factors = _good()
    factors[3, 0] = -1
    return codes, factors


def _constant_factor() -> tuple[Any, Any]:
    codes, factors = _good()
    factors[:, 1] = 4
    return codes, factors


BAD_INPUTS: dict[str, Callable[[], tuple[Any, Any]]] = {
    "nan codes": _with_nan,
    "inf codes": _with_inf,
    "nan torch codes": _torch_nan,
    "fewer factor rows": lambda: (_good()[0], _good()[1][:-1]),
    "fractional factors": _fractional_factors,
    "negative factors": _negative_factors,
    "constant factor column": _constant_factor,
    "string factors": lambda: (_good()[0], _good()[1].astype(str)),
    "1-d codes": lambda: (_good()[0][:, 0], _good()[1]),
    "3-d codes": lambda: (_good()[0][:, :, None], _good()[1]),
    "1-d factors": lambda: (_good()[0], _good()[1][:, 0]),
    "empty codes": lambda: (np.zeros((0, 3)), np.zeros((0, 2), dtype=int)),
    "no code columns": lambda: (np.zeros((NUM_ROWS, 0)), _good()[1]),
    "object codes": lambda: ([[1.0, "a"]] * NUM_ROWS, _good()[1]),
}


def _assert_one_line(error: pytest.ExceptionInfo) -> None:
    message = str(error.value)
    assert message and "\n" not in message
    assert isinstance(error.value, InfoganError)


FACTOR_ONLY_CASES = {"fractional factors", "negative factors", "constant factor column", "string factors", "1-d factors"}
"""Cases that unsupervised (which does not need factors) accepts: it rejects bad codes only."""


@pytest.mark.parametrize(
    "metric,case",
    [(metric, case) for metric in sorted(METRICS) for case in sorted(BAD_INPUTS)
     if not (metric == "unsupervised" and case in FACTOR_ONLY_CASES)],
)
def test_bad_input_raises_metric_error(metric, case):
    codes, factors = BAD_INPUTS[case]()
    with pytest.raises(MetricError) as error:
        METRICS[metric](codes, factors)
    _assert_one_line(error)


def test_unsupervised_validates_factors_when_given():
    codes, factors = _negative_factors()
    with pytest.raises(MetricError, match="negative"):
        unsupervised(codes, factors)
    with pytest.raises(MetricError, match="rows"):
        unsupervised(codes, _good()[1][:-2])
    assert np.isfinite(unsupervised(codes)["gaussian_total_correlation"])


@pytest.mark.parametrize("metric", ["dci", "sap", "modularity"])
def test_bad_test_split(metric):
    codes, factors = _good()
    function = METRICS[metric]
    with pytest.raises(MetricError, match="both"):
        function(codes, factors, codes_test=codes)
    with pytest.raises(MetricError, match="must match"):
        function(codes, factors, codes_test=codes[:, :2], factors_test=factors)
    with pytest.raises(MetricError, match="rows"):
        function(codes, factors, codes_test=codes, factors_test=factors[:-1])
    with pytest.raises(MetricError, match="NaN"):
        function(codes, factors, codes_test=_with_nan()[0], factors_test=factors)
    # The train rows of the default split must still see every factor vary.
    codes_long = np.concatenate([codes] * 3)
    factors_long = np.concatenate([np.zeros_like(factors)] * 2 + [factors])  # train = first 60 rows
    with pytest.raises(MetricError, match="single value"):
        function(codes_long, factors_long)


def test_metric_specific_requirements():
    codes, factors = _good()
    with pytest.raises(MetricError, match="2 code dimensions"):
        mig(codes[:, :1], factors)
    with pytest.raises(MetricError, match="2 code dimensions"):
        sap(codes[:, :1], factors, n_jobs=1)
    with pytest.raises(MetricError, match="2 factors"):
        dci(codes, factors[:, :1], n_jobs=1)
    with pytest.raises(MetricError, match="2 factors"):
        modularity(codes, factors[:, :1])
    with pytest.raises(MetricError, match="2 code dimensions"):
        unsupervised(codes[:, :1])
    with pytest.raises(MetricError, match="num_bins"):
        mig(codes, factors, num_bins=0)
    with pytest.raises(MetricError, match="num_bins"):
        irs(codes, factors, num_bins=2.5)
    with pytest.raises(MetricError, match="diff_quantile"):
        irs(codes, factors, diff_quantile=1.5)
    with pytest.raises(MetricError, match="n_jobs"):
        dci(codes, factors, n_jobs=0)
    with pytest.raises(MetricError):
        histogram_discretize(codes[:, 0])
    with pytest.raises(MetricError):
        parallel_map(abs, [1, 2], costs=[1.0])


def test_valid_input_passes_check():
    codes, factors = check_codes_factors(*_good())
    assert codes.shape == (NUM_ROWS, 3) and factors.shape == (NUM_ROWS, 2)


def test_codes_wider_than_the_documented_cap_are_refused():
    from infogan_kit.metrics.utils import MAX_CODE_DIMENSIONS, check_codes

    rng = np.random.default_rng(0)
    assert check_codes(rng.normal(size=(4, MAX_CODE_DIMENSIONS))).shape == (4, MAX_CODE_DIMENSIONS)
    with pytest.raises(MetricError, match=f"at most {MAX_CODE_DIMENSIONS}"):
        check_codes(rng.normal(size=(4, MAX_CODE_DIMENSIONS + 1)))
