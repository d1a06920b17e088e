"""Evaluate a suite of metrics and return the whole result object.

Three entry points, one per kind of input:

* :func:`evaluate`: a model's ``represent(images) -> codes`` and a FactorDataset (factors
  sampled uniformly, images rendered and represented in batches on the model's device), and
  optionally its ``generate(n, generator) -> images`` for the image-quality metrics;
* :func:`evaluate_codes`: precomputed codes and factors (``infogan evaluate --codes``);
* :func:`evaluate_representation`: any representation of factors (the core of :func:`evaluate`;
  benchmarks and tests use it with functions of the factors).

Each returns the result object described in :mod:`infogan_kit.metrics.results`.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import torch

from ..data.base import num_grid_points
from ..errors import MetricError
from .image_quality import (
    IMAGE_METRIC_NAMES,
    ImageQualityOptions,
    estimator_description,
    image_quality_options,
    image_quality_record,
    plan_image_metrics,
)
from .protocol import Protocol, get_protocol
from .registry import METRICS, MetricInputs, resolve_names, run_suite
from .grid_cache import maybe_cached
from .results import build_result
from .sampling import (
    REPRESENT_BATCH_SIZE,
    RepresentFactors,
    check_sampling_sizes,
    derive_generator,
    flat_index,
    grid_lookup_table,
    lookup_representation,
    model_representation,
    module_device,
    represent_numpy,
    sample_uniform_factors,
)
from .utils import check_codes_factors

GenerateImages = Callable[[int, torch.Generator], torch.Tensor]
"""``(n, CPU torch.Generator) -> images [n, C, H, W]`` in ``[0, 1]`` of a generative model."""


def evaluate_representation(
    represent_factors: RepresentFactors,
    factor_sizes: Sequence[int],
    names: str | Iterable[str] = "all",
    protocol: str | Protocol = "dlib",
    seed: int = 0,
    *,
    dataset: Any = None,
    representation: dict[str, Any] | None = None,
    n_jobs: int | None = None,
    generate_images: GenerateImages | None = None,
    image_options: ImageQualityOptions | None = None,
) -> dict[str, Any]:
    """Run a suite on any representation of factors (the core of :func:`evaluate`).

    The array metrics share one uniform draw of ``protocol.num_train + protocol.num_test``
    points (the first ``num_train`` train); the sampling metrics draw their own batches, each
    from its own generator seeded with ``(seed, metric name)``.

    Args:
        represent_factors: ``factors LongTensor [n, K] -> codes [n, D]`` (numpy or torch).
        factor_sizes: classes per factor.
        names: ``"all"``, comma-separated names, or a list.
        protocol: ``"dlib"`` (default), ``"fast"`` or a :class:`Protocol`.
        seed: seeds every draw; equal seeds give equal results.
        dataset: the FactorDataset behind the representation, if any (recorded in the config).
        representation: description recorded as ``config.representation``.
        n_jobs: parallel workers for estimator fits (None = every core).
        generate_images: a generator's ``(n, generator) -> images``; enables the image metrics
            (``fd``, ``kid``, ``inception_fid``, ``inception_kid``), which compare its images
            with ``dataset``'s.
        image_options: sizes, Inception file, cache and device of the image metrics
            (:class:`~infogan_kit.metrics.image_quality.ImageQualityOptions`; None: those in effect).

    Returns:
        the result object (see :mod:`infogan_kit.metrics.results`).
    """
    chosen = get_protocol(protocol)
    selected, selected_all = resolve_names(names)
    sizes = check_sampling_sizes(factor_sizes, 2, 1)
    start = time.perf_counter()
    inputs = MetricInputs(chosen, int(seed), factor_sizes=sizes, represent_factors=represent_factors, dataset=dataset,
                          generate_images=generate_images, n_jobs=n_jobs)
    image_notes: list[str] = []
    if generate_images is not None:
        selected, image_notes = plan_image_metrics(selected, dataset, chosen, image_options)
    timings: dict[str, float] = {}
    if any(METRICS.get(name).kind == "array" for name in selected):
        draw_start = time.perf_counter()
        factors = sample_uniform_factors(chosen.num_train + chosen.num_test, sizes, derive_generator(seed, "array"))
        codes = represent_numpy(represent_factors, factors)
        factors_np = factors.numpy()
        inputs.codes_train, inputs.codes_test = codes[: chosen.num_train], codes[chosen.num_train :]
        inputs.factors_train, inputs.factors_test = factors_np[: chosen.num_train], factors_np[chosen.num_train :]
        timings["array_codes"] = round(time.perf_counter() - draw_start, 4)
    with image_quality_options(image_options):
        metrics, notes, metric_timings = run_suite(inputs, selected, selected_all=selected_all)
        timings.update(metric_timings)
        timings["total"] = round(time.perf_counter() - start, 4)
        config = _config(chosen, seed, dataset, representation or {"kind": "function"}, list(metrics), chosen.sizes())
        _record_image_quality(config, list(metrics), dataset, chosen)
    return build_result(chosen, config, metrics, image_notes + notes, timings)


def _record_image_quality(config: dict[str, Any], ran: list[str], dataset: Any, protocol: Protocol) -> None:
    """Add the image metrics' sizes, networks and sha256 (in their estimator lines) to ``config``."""
    record = image_quality_record(ran, dataset, protocol)
    if not record:
        return
    config["image_quality"] = record
    config["sizes"]["image_quality"] = record["sizes"]
    for name in ran:
        if name in IMAGE_METRIC_NAMES:
            config["estimators"][name] = estimator_description(name, record)


def evaluate(
    represent: Callable[[torch.Tensor], torch.Tensor],
    dataset: Any,
    names: str | Iterable[str] = "all",
    protocol: str | Protocol = "dlib",
    seed: int = 0,
    device: torch.device | str | None = None,
    batch_size: int = REPRESENT_BATCH_SIZE,
    *,
    n_jobs: int | None = None,
    generate: GenerateImages | None = None,
    image_options: ImageQualityOptions | None = None,
    grid_cache: bool = True,
) -> dict[str, Any]:
    """Score a model's representation on a ground-truth dataset (and its images, with ``generate``).

    Factors are sampled uniformly; images are rendered with ``dataset.images`` and represented
    in batches of ``batch_size`` on ``device`` without gradients (an ``nn.Module`` is put in eval
    mode for the duration and restored after). When the dataset declares ``deterministic_images``
    each distinct grid image is represented at most once per suite (the grid cache,
    :mod:`~infogan_kit.metrics.grid_cache`: same draws, codes read from a table; recorded as
    ``config.representation.grid_cache``). Without ``generate`` the image metrics do not
    apply (left out of ``"all"``, a note when named), as before.

    Args:
        represent: float images ``[n, C, H, W]`` in ``[0, 1]`` -> codes ``[n, D]``.
        dataset: a :class:`~infogan_kit.data.FactorDataset` with factors.
        names: ``"all"``, comma-separated names, or a list.
        protocol: ``"dlib"`` (default), ``"fast"`` or a :class:`Protocol`.
        seed: seeds every draw.
        device: where images are rendered and ``represent`` runs (default: the module's device,
            else CPU).
        batch_size: images per ``represent`` call (64: faster on CPUs than larger batches).
        n_jobs: parallel workers for estimator fits (None = every core).
        grid_cache: represent each distinct grid image once when the dataset allows it (False:
            every drawn row is rendered and represented, the route before the cache).
        generate: ``(n, CPU torch.Generator) -> images [n, C, H, W]`` in ``[0, 1]`` (for a
            ``Run``: ``image_quality.seeded_generate(run.generate)``); enables ``fd``, ``kid``
            and, with ``image_options.inception_weights``, ``inception_fid`` / ``inception_kid``.
        image_options: settings of the image metrics (None: those in effect, see
            ``metrics.image_quality_options``; by default ``ImageQualityOptions()``).

    Returns:
        the result object (see :mod:`infogan_kit.metrics.results`).
    """
    if not getattr(dataset, "has_factors", False):
        raise MetricError(f"dataset {getattr(dataset, 'name', dataset)!r} has no ground-truth factors to evaluate on")
    target = torch.device(device) if device is not None else module_device(represent)
    was_training = isinstance(represent, torch.nn.Module) and represent.training
    if isinstance(represent, torch.nn.Module):
        represent.eval()
    try:
        direct = model_representation(
            represent, dataset, device=target, batch_size=batch_size, generator=derive_generator(seed, "images")
        )
        represent_factors, cache, reason = maybe_cached(direct, dataset, grid_cache, batch_size)
        description = {"kind": "model", "name": _callable_name(represent), "device": str(target), "batch_size": batch_size}
        result = evaluate_representation(
            represent_factors, dataset.factor_sizes, names, protocol, seed,
            dataset=dataset, representation=description, n_jobs=n_jobs,
            generate_images=generate, image_options=image_options,
        )
        result["config"]["representation"]["grid_cache"] = cache.record() if cache else {"used": False, "reason": reason}
        return result
    finally:
        if was_training:
            represent.train()


def _callable_name(represent: Any) -> str:
    owner = getattr(represent, "__self__", None)
    if owner is not None:
        return f"{type(owner).__name__}.{getattr(represent, '__name__', 'represent')}"
    return getattr(represent, "__qualname__", type(represent).__name__)


def _config(
    protocol: Protocol, seed: int, dataset: Any, representation: dict[str, Any], ran: list[str], sizes: dict[str, Any]
) -> dict[str, Any]:
    estimators = {name: METRICS.get(name).estimator_for(protocol) for name in ran}
    return {
        "seed": int(seed),
        "protocol_version": protocol.version,
        "dataset": getattr(dataset, "name", dataset),
        "variant": getattr(dataset, "variant", None),
        "representation": representation,
        "sizes": sizes,
        "estimators": estimators,
        "num_bins": protocol.num_bins,
    }


def evaluate_codes(
    codes: Any,
    factors: Any,
    factor_sizes: Sequence[int] | None = None,
    names: str | Iterable[str] = "all",
    protocol: str | Protocol = "dlib",
    seed: int = 0,
    num_train: int | None = None,
    num_test: int | None = None,
    shuffle_seed: int | None = None,
    *,
    dataset_name: str | None = None,
    source: str | None = None,
    n_jobs: int | None = None,
) -> dict[str, Any]:
    """Score precomputed codes (what ``infogan evaluate --codes`` runs).

    Rows are used in order (after an optional shuffle): the first ``num_train`` are the train
    split of the array metrics (MIG, modularity, IRS and the unsupervised scores use only
    these), the next ``num_test`` the test split. When the rows cover every point of the factor
    grid, the sampling metrics (BetaVAE, FactorVAE) use them as a lookup table; otherwise they
    are skipped with a note.

    Args:
        codes: ``[N, D]`` finite floats; factors: ``[N, K]`` 0-based integer classes.
        factor_sizes: classes per factor (default: ``factors.max(0) + 1``).
        names: ``"all"``, comma-separated names, or a list.
        protocol: ``"dlib"`` (default), ``"fast"`` or a :class:`Protocol`.
        seed: seeds the sampling metrics and randomized estimators.
        num_train, num_test: split sizes (default: the protocol's, 10,000 / 5,000 for dlib).
        shuffle_seed: shuffle the rows with this seed first (for files stored in grid order).
        dataset_name: recorded as ``config.dataset``; source: recorded in ``config.representation``.
        n_jobs: parallel workers for estimator fits (None = every core).

    Returns:
        the result object (see :mod:`infogan_kit.metrics.results`).

    Raises:
        MetricError: NaN/inf codes, different row counts, factors outside ``factor_sizes``, too
            few rows for the sizes, a factor taking one value in the train rows.
    """
    chosen = get_protocol(protocol)
    selected, selected_all = resolve_names(names)
    codes_all, factors_all = check_codes_factors(codes, factors)
    sizes = _factor_sizes(factors_all, factor_sizes)
    if shuffle_seed is not None:
        order = np.random.default_rng(int(shuffle_seed)).permutation(len(codes_all))
        codes_all, factors_all = codes_all[order], factors_all[order]
    train_rows = chosen.num_train if num_train is None else _positive(num_train, "num_train")
    test_rows = chosen.num_test if num_test is None else _positive(num_test, "num_test")
    start = time.perf_counter()
    inputs = MetricInputs(chosen, int(seed), factor_sizes=sizes, n_jobs=n_jobs)
    array_specs = [METRICS.get(name) for name in selected if METRICS.get(name).kind == "array"]
    if array_specs:
        needs_test = any(spec.uses_test_split for spec in array_specs)
        _split_rows_into(inputs, codes_all, factors_all, train_rows, test_rows if needs_test else 0)
    _attach_lookup_table(inputs, codes_all, factors_all, sizes)
    metrics, notes, timings = run_suite(inputs, selected, selected_all=selected_all)
    timings["total"] = round(time.perf_counter() - start, 4)
    custom_sizes = (train_rows, test_rows) != (chosen.num_train, chosen.num_test)
    if custom_sizes and chosen.comparable:
        notes.append(
            f"split sizes {train_rows} / {test_rows} differ from the {chosen.name} protocol's "
            f"{chosen.num_train} / {chosen.num_test}; not comparable with published numbers"
        )
    sizes_record = chosen.sizes()
    sizes_record["array"] = {"num_train": train_rows, "num_test": test_rows}
    description = {
        "kind": "codes",
        "source": source or "array",
        "num_rows": int(len(codes_all)),
        "num_codes": int(codes_all.shape[1]),
        "lookup_table": inputs.represent_factors is not None,
        "shuffle_seed": shuffle_seed,
    }
    config = _config(chosen, seed, dataset_name, description, list(metrics), sizes_record)
    config["factor_sizes"] = list(sizes)
    return build_result(chosen, config, metrics, notes, timings, comparable=chosen.comparable and not custom_sizes)


def _split_rows_into(inputs: MetricInputs, codes: np.ndarray, factors: np.ndarray, num_train: int, num_test: int) -> None:
    """Set the train rows (the first ``num_train``) and test rows (the next ``num_test``, if any)."""
    _check_row_count(len(codes), num_train, num_test)
    inputs.codes_train, inputs.factors_train = check_codes_factors(codes[:num_train], factors[:num_train], split="train")
    if num_test:
        inputs.codes_test = codes[num_train : num_train + num_test]
        inputs.factors_test = factors[num_train : num_train + num_test]


def _attach_lookup_table(inputs: MetricInputs, codes: np.ndarray, factors: np.ndarray, sizes: tuple[int, ...]) -> None:
    """Give the sampling metrics a lookup table when the rows cover the grid, else a reason."""
    table = grid_lookup_table(codes, factors, sizes)
    if table is not None:
        inputs.represent_factors = lookup_representation(table, sizes)
        return
    covered = np.unique(flat_index(factors, sizes)).size
    inputs.unavailable["sampling"] = (
        f"the rows cover {covered} of {num_grid_points(sizes)} factor-grid points; "
        "sampling metrics need codes for every grid point (a lookup table)"
    )


def _positive(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise MetricError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _factor_sizes(factors: np.ndarray, factor_sizes: Sequence[int] | None) -> tuple[int, ...]:
    """Validated grid sizes: the given ones (each above the largest class) or ``max + 1``."""
    observed = factors.max(axis=0) + 1
    if factor_sizes is None:
        return tuple(int(size) for size in observed)
    given = np.asarray(factor_sizes).reshape(-1)
    if not (np.issubdtype(given.dtype, np.integer) or np.issubdtype(given.dtype, np.floating)) or given.dtype == bool:
        raise MetricError(f"factor_sizes must be integers, got dtype {given.dtype}")
    if not np.isfinite(given).all() or not np.array_equal(given, np.round(given)):
        raise MetricError(f"factor_sizes must be whole numbers, got {given.tolist()}")
    sizes = tuple(int(size) for size in given)
    if len(sizes) != factors.shape[1]:
        raise MetricError(f"factor_sizes has {len(sizes)} entries but factors have {factors.shape[1]} columns")
    too_small = [k for k, (size, seen) in enumerate(zip(sizes, observed)) if size < seen]
    if too_small:
        raise MetricError(f"factor values exceed factor_sizes {sizes} in column(s) {too_small}")
    return sizes


def _check_row_count(num_rows: int, num_train: int, num_test: int) -> None:
    if num_rows < num_train + num_test:
        wanted = f"{num_train} train + {num_test} test = {num_train + num_test}" if num_test else f"{num_train} train"
        raise MetricError(
            f"too few rows: the split needs {wanted} rows but there are {num_rows}; "
            "pass smaller num_train / num_test (--num-train / --num-test; results are then not comparable)"
        )
