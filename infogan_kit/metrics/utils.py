"""Shared pieces of the array metrics: input checks, discretization, discrete MI, splits, parallelism.

Conventions (protocol ``dlib``, disentanglement_lib's definitions):

- ``codes`` are ``[N, D]`` floats (N rows, D code dimensions) and ``factors`` are ``[N, K]``
  non-negative integer class indices. Both numpy arrays and torch tensors are accepted; codes are
  converted to float64 before anything else (disentanglement_lib computes its histogram edges in
  the dtype it is given, so float32 input may land a value on the other side of an edge there).
  Internally disentanglement_lib stores these arrays transposed (``[D, N]``); we keep rows as
  samples throughout.
- The discretizer is disentanglement_lib's ``_histogram_discretize``: per code column,
  ``np.histogram(column, num_bins)`` gives ``num_bins + 1`` equal-width edges between the
  column's min and max, and ``np.digitize(column, edges[:-1])`` maps each value to a bin in
  ``1..num_bins`` (the maximum falls in bin ``num_bins``). Equal-width bins make the discrete MI
  invariant to an affine rescaling of a code (either sign) but *not* to non-linear monotone maps
  (a quantile discretizer, as some other libraries use, would be).
- Mutual information and entropy are ``sklearn.metrics.mutual_info_score`` in nats (the entropy
  of a factor is its MI with itself), exactly as disentanglement_lib computes them.
- Independent estimator fits run in worker processes through joblib (:func:`parallel_map`).
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Sequence, TypeVar

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mutual_info_score

from ..errors import MetricError

T = TypeVar("T")
R = TypeVar("R")

TRAIN_FRACTION_NUMERATOR, TRAIN_FRACTION_DENOMINATOR = 2, 3
"""Default train share when no test split is given: 2/3 (disentanglement_lib's 10,000 / 5,000)."""


def _to_numpy(array: Any, name: str) -> np.ndarray:
    """numpy view of a numpy array, torch tensor or nested sequence (MetricError otherwise)."""
    if hasattr(array, "detach") and hasattr(array, "cpu"):  # torch.Tensor without importing torch
        tensor = array.detach().cpu()
        # float64 first: numpy has no bfloat16, and the metrics work in float64 anyway.
        array = (tensor.double() if tensor.is_floating_point() else tensor).numpy()
    try:
        result = np.asarray(array)
    except (TypeError, ValueError) as error:
        raise MetricError(f"{name} must be a numeric array, got {type(array).__name__}: {error}") from None
    return result


MAX_CODE_DIMENSIONS = 1024
"""The most code dimensions the metrics take (disentanglement representations have a handful;
wider arrays are refused with a clear error instead of running estimators for hours)."""


def check_codes(codes: Any, *, name: str = "codes") -> np.ndarray:
    """Validate a code matrix.

    Args:
        codes: ``[N, D]`` real numbers (numpy array or torch tensor), N >= 1,
            1 <= D <= :data:`MAX_CODE_DIMENSIONS`, all finite.
        name: what to call the array in error messages.

    Returns:
        float64 array ``[N, D]`` (a copy when a conversion was needed).

    Raises:
        MetricError: wrong number of dimensions, empty, too wide, non-numeric, NaN or infinite values.
    """
    array = _to_numpy(codes, name)
    if array.ndim != 2:
        raise MetricError(f"{name} must be a 2-D array [num_samples, num_codes], got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise MetricError(f"{name} is empty (shape {array.shape}); need at least one row and one column")
    if array.shape[1] > MAX_CODE_DIMENSIONS:
        raise MetricError(f"{name} have {array.shape[1]} dimensions; the metrics take at most {MAX_CODE_DIMENSIONS} "
                          "(infogan_kit.metrics.utils.MAX_CODE_DIMENSIONS)")
    if array.dtype == bool or not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise MetricError(f"{name} must hold real numbers, got dtype {array.dtype}")
    array = array.astype(np.float64, copy=False)
    finite = np.isfinite(array)
    if not finite.all():
        row, column = np.argwhere(~finite)[0]
        raise MetricError(
            f"{name} contains {int((~finite).sum())} NaN or infinite values "
            f"(first at row {row}, column {column}); the representation must be finite"
        )
    return array


def check_factors(factors: Any, *, name: str = "factors", require_variation: bool = True) -> np.ndarray:
    """Validate a factor matrix.

    Args:
        factors: ``[N, K]`` non-negative integer class indices (integer dtype, or floats holding
            whole numbers), numpy array or torch tensor.
        name: what to call the array in error messages.
        require_variation: when True every factor column must take at least two values (the
            metrics normalize by factor entropies or fit classifiers per factor).

    Returns:
        int64 array ``[N, K]``.

    Raises:
        MetricError: wrong ndim, empty, fractional/NaN/negative values, a constant column.
    """
    array = _to_numpy(factors, name)
    if array.ndim != 2:
        raise MetricError(f"{name} must be a 2-D array [num_samples, num_factors], got shape {array.shape}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise MetricError(f"{name} is empty (shape {array.shape}); need at least one row and one column")
    if array.shape[1] > MAX_CODE_DIMENSIONS:
        raise MetricError(f"{name} have {array.shape[1]} dimensions; the metrics take at most {MAX_CODE_DIMENSIONS} "
                          "(infogan_kit.metrics.utils.MAX_CODE_DIMENSIONS)")
    if np.issubdtype(array.dtype, np.floating):
        if not np.isfinite(array).all() or not np.array_equal(array, np.round(array)):
            raise MetricError(f"{name} must be integer class indices, got non-integer values")
    elif array.dtype == bool or not np.issubdtype(array.dtype, np.integer):
        raise MetricError(f"{name} must be integer class indices, got dtype {array.dtype}")
    if (array < 0).any():
        raise MetricError(f"{name} must be 0-based class indices, got negative values (min {array.min()})")
    array = array.astype(np.int64, copy=False)
    if require_variation:
        constant = np.flatnonzero(array.min(axis=0) == array.max(axis=0)).tolist()
        if constant:
            raise MetricError(
                f"{name} column(s) {constant} take a single value over {array.shape[0]} rows; "
                "every factor must vary (drop constant factors or use more rows)"
            )
    return array


def check_codes_factors(codes: Any, factors: Any, *, split: str = "") -> tuple[np.ndarray, np.ndarray]:
    """Validate a pair of codes and factors for an array metric.

    Args:
        codes: ``[N, D]`` finite real numbers (numpy or torch).
        factors: ``[N, K]`` non-negative integers, each column taking at least two values.
        split: optional name of the split (``"train"``, ``"test"``) used in messages.

    Returns:
        ``(codes float64 [N, D], factors int64 [N, K])``.

    Raises:
        MetricError: any of the problems listed in :func:`check_codes` / :func:`check_factors`,
            or different row counts.
    """
    prefix = f"{split} " if split else ""
    codes_array = check_codes(codes, name=f"{prefix}codes")
    factors_array = check_factors(factors, name=f"{prefix}factors")
    if codes_array.shape[0] != factors_array.shape[0]:
        raise MetricError(
            f"{prefix}codes have {codes_array.shape[0]} rows but {prefix}factors have "
            f"{factors_array.shape[0]}; they must describe the same samples"
        )
    return codes_array, factors_array


def train_test_arrays(
    codes: Any,
    factors: Any,
    codes_test: Any | None,
    factors_test: Any | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validated train and test arrays for the metrics that fit estimators.

    Without a test split, the first ``ceil(2N/3)`` rows are the train split and the rest the
    test split (rows are used in the order given). The test factors may be constant per column
    (only the train split needs every class variation).

    Returns:
        ``(codes_train [Ntr, D], factors_train [Ntr, K], codes_test [Nte, D], factors_test [Nte, K])``.

    Raises:
        MetricError: only one of codes_test / factors_test given, bad arrays, too few rows,
            or test arrays whose D or K differ from the train arrays.
    """
    if (codes_test is None) != (factors_test is None):
        raise MetricError("give both codes_test and factors_test, or neither (then 2/3 of the rows train)")
    if codes_test is None:
        all_codes, all_factors = check_codes(codes), check_factors(factors, require_variation=False)
        if all_codes.shape[0] != all_factors.shape[0]:
            raise MetricError(
                f"codes have {all_codes.shape[0]} rows but factors have {all_factors.shape[0]}; "
                "they must describe the same samples"
            )
        num_rows = all_codes.shape[0]
        num_train = -(-TRAIN_FRACTION_NUMERATOR * num_rows // TRAIN_FRACTION_DENOMINATOR)
        codes_train, factors_train, test_codes, test_factors = split_rows(
            all_codes, all_factors, num_train, num_rows - num_train
        )
        codes_train, factors_train = check_codes_factors(codes_train, factors_train, split="train")
    else:
        codes_train, factors_train = check_codes_factors(codes, factors, split="train")
        test_codes = check_codes(codes_test, name="test codes")
        test_factors = check_factors(factors_test, name="test factors", require_variation=False)
        if test_codes.shape[0] != test_factors.shape[0]:
            raise MetricError(
                f"test codes have {test_codes.shape[0]} rows but test factors have {test_factors.shape[0]}"
            )
    if test_codes.shape[1] != codes_train.shape[1] or test_factors.shape[1] != factors_train.shape[1]:
        raise MetricError(
            f"test arrays have {test_codes.shape[1]} codes / {test_factors.shape[1]} factors, train arrays "
            f"{codes_train.shape[1]} / {factors_train.shape[1]}; they must match"
        )
    return codes_train, factors_train, test_codes, test_factors


def split_rows(
    codes: np.ndarray, factors: np.ndarray, num_train: int, num_test: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The first ``num_train`` rows as the train split and the next ``num_test`` rows as the test split.

    Args:
        codes: ``[N, D]``; factors: ``[N, K]`` (same N).
        num_train, num_test: split sizes, ``num_train >= 1``, ``num_test >= 1``,
            ``num_train + num_test <= N``.

    Returns:
        ``(codes_train [num_train, D], factors_train [num_train, K], codes_test [num_test, D],
        factors_test [num_test, K])`` (views of the inputs).

    Raises:
        MetricError: non-positive sizes or fewer than ``num_train + num_test`` rows.
    """
    if len(codes) != len(factors):
        raise MetricError(f"codes have {len(codes)} rows but factors have {len(factors)}")
    if int(num_train) < 1 or int(num_test) < 1:
        raise MetricError(f"split sizes must be positive, got num_train={num_train}, num_test={num_test}")
    if num_train + num_test > len(codes):
        raise MetricError(
            f"need {num_train} train + {num_test} test = {num_train + num_test} rows, got only {len(codes)}"
        )
    end = num_train + num_test
    return codes[:num_train], factors[:num_train], codes[num_train:end], factors[num_train:end]


def check_num_bins(num_bins: int) -> int:
    """``num_bins`` as an int >= 1 (MetricError otherwise)."""
    if isinstance(num_bins, bool) or not isinstance(num_bins, (int, np.integer)) or num_bins < 1:
        raise MetricError(f"num_bins must be a positive integer, got {num_bins!r}")
    return int(num_bins)


def histogram_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Discretize every column into ``num_bins`` equal-width bins (disentanglement_lib's discretizer).

    Args:
        codes: ``[N, D]`` real array (factors may be passed too: IRS discretizes them).
        num_bins: bins per column.

    Returns:
        int64 array ``[N, D]`` with values in ``1..num_bins`` (a constant column maps to one bin).
    """
    values = np.asarray(codes)
    if values.ndim != 2:
        raise MetricError(f"histogram_discretize expects a 2-D array, got shape {values.shape}")
    bins = check_num_bins(num_bins)
    discrete = np.empty(values.shape, dtype=np.int64)
    for column in range(values.shape[1]):
        edges = np.histogram(values[:, column], bins)[1]
        discrete[:, column] = np.digitize(values[:, column], edges[:-1])
    return discrete


def discrete_mutual_info(codes_discrete: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Mutual information (nats) between every discrete code column and every factor column.

    Args:
        codes_discrete: ``[N, D]`` integer labels (e.g. :func:`histogram_discretize` output).
        factors: ``[N, K]`` integer labels.

    Returns:
        float64 ``[D, K]``: entry ``(d, k)`` is ``mutual_info_score(factors[:, k], codes_discrete[:, d])``.
    """
    codes_array, factors_array = np.asarray(codes_discrete), np.asarray(factors)
    if codes_array.ndim != 2 or factors_array.ndim != 2 or len(codes_array) != len(factors_array):
        raise MetricError(
            f"discrete_mutual_info needs [N, D] and [N, K] arrays, got {codes_array.shape} and {factors_array.shape}"
        )
    info = np.zeros((codes_array.shape[1], factors_array.shape[1]))
    for code in range(codes_array.shape[1]):
        for factor in range(factors_array.shape[1]):
            info[code, factor] = mutual_info_score(factors_array[:, factor], codes_array[:, code])
    return info


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """Entropy (nats) of each discrete column.

    Args:
        factors: ``[N, K]`` integer labels.

    Returns:
        float64 ``[K]``, computed as each column's mutual information with itself.
    """
    factors_array = np.asarray(factors)
    if factors_array.ndim != 2:
        raise MetricError(f"discrete_entropy expects a 2-D array [N, K], got shape {factors_array.shape}")
    return np.array([mutual_info_score(column, column) for column in factors_array.T], dtype=np.float64)


def available_cores() -> int:
    """Number of CPU cores this process may run on (``os.sched_getaffinity``, else ``os.cpu_count``)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def parallel_map(
    fn: Callable[[T], R],
    items: Sequence[T],
    n_jobs: int | None = None,
    *,
    costs: Sequence[float] | None = None,
) -> list[R]:
    """``[fn(item) for item in items]``, computed in parallel worker processes.

    Args:
        fn: a picklable function (module-level) of one item.
        items: the independent jobs.
        n_jobs: worker processes; ``None`` = every core available to this process, ``1`` = run
            serially in this process. Never more workers than items.
        costs: optional relative cost of each item; jobs are dispatched most expensive first
            (longest-processing-time scheduling balances the cores), one item per dispatch.

    Returns:
        the results in the order of ``items``.

    Raises:
        MetricError: ``n_jobs`` is not None and below 1, or ``costs`` has the wrong length.
    """
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)) or n_jobs < 1):
        raise MetricError(f"n_jobs must be a positive integer or None (all cores), got {n_jobs!r}")
    item_list = list(items)
    if costs is not None and len(costs) != len(item_list):
        raise MetricError(f"costs has {len(costs)} entries for {len(item_list)} items")
    workers = min(available_cores() if n_jobs is None else int(n_jobs), len(item_list))
    if workers <= 1:
        return [fn(item) for item in item_list]
    from joblib import Parallel, delayed

    order = list(range(len(item_list)))
    if costs is not None:
        order.sort(key=lambda index: -float(costs[index]))
    outputs = Parallel(n_jobs=workers, batch_size=1, pre_dispatch="all")(
        delayed(fn)(item_list[index]) for index in order
    )
    results: list[Any] = [None] * len(item_list)
    for index, output in zip(order, outputs):
        results[index] = output
    return results


def quiet_fit(estimator: Any, inputs: np.ndarray, targets: np.ndarray) -> Any:
    """``estimator.fit(inputs, targets)`` with scikit-learn's ConvergenceWarning silenced.

    disentanglement_lib runs its estimators with their default iteration limits, which often stop
    before convergence; the result is the same, we just do not print a warning per fit.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(inputs, targets)
