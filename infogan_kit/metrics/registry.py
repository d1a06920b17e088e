"""The metric registry and the runner of a selection of metrics.

A metric is declared once, in its own module, with the :func:`metric` decorator: its name, a
*kind* saying what input it needs, the keys it returns, its sample sizes and estimator text
per protocol, and the decorated ``compute(inputs: MetricInputs) -> dict`` function::

    @metric("mig", kind="array", keys=("score",), description="Mutual Information Gap",
            estimator="20-bin histogram discretizer + sklearn mutual_info_score (nats)")
    def compute_mig(inputs: MetricInputs) -> dict[str, Any]:
        return mig(inputs.codes_train, inputs.factors_train, num_bins=inputs.protocol.num_bins)

Kinds:

* ``"array"``: codes and factors of sampled points (``inputs.codes_train`` ..., ``[N, D]`` /
  ``[N, K]``); applies whenever the suite has them (a model, or a ``--codes`` file);
* ``"sampling"``: a representation of factors (``inputs.represent_factors``), to draw its own
  batches; applies to a model, or to a ``--codes`` file that covers the whole factor grid;
* ``"image"``: generated images (``inputs.generate_images``); applies when a generator is given.

:func:`register_metric` is the same declaration as a function call. ``names="all"`` selects
every registered metric that applies to the input. :func:`run_suite` computes a selection on
one :class:`MetricInputs` and returns values, notes and timings; :mod:`infogan_kit.metrics.suite`
builds the inputs from a model, a codes file or any representation of factors and assembles the
result object.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np
import torch

from ..errors import MetricError
from ..registry import Registry
from .protocol import Protocol
from .sampling import RepresentFactors, derive_generator

KINDS = ("array", "sampling", "image")
DEFAULT_BASE = "dlib"
"""The entry of a metric's per-protocol sizes and estimator texts that other protocols fall back to."""


@dataclass
class MetricInputs:
    """Everything a metric may read. Fields a given input lacks are ``None``.

    Attributes:
        protocol: sizes, bins and estimators to use.
        seed: the suite's seed (use :meth:`generator` for randomness).
        codes_train: float64 ``[N, D]`` train codes (array metrics).
        factors_train: int64 ``[N, K]`` train factors.
        codes_test: float64 ``[M, D]`` test codes (DCI, SAP, modularity).
        factors_test: int64 ``[M, K]`` test factors.
        factor_sizes: classes per factor (K entries).
        represent_factors: ``factors LongTensor [n, K] -> codes [n, D]`` (sampling metrics).
        dataset: the :class:`~infogan_kit.data.FactorDataset`, when there is one.
        generate_images: ``(n, generator) -> images [n, C, H, W]`` of a generative model (image metrics).
        n_jobs: parallel workers for estimator fits (None = every core).
        unavailable: ``{kind: reason}`` explaining why a kind of input is missing (used in
            the notes of skipped metrics).
    """

    protocol: Protocol
    seed: int = 0
    codes_train: np.ndarray | None = None
    factors_train: np.ndarray | None = None
    codes_test: np.ndarray | None = None
    factors_test: np.ndarray | None = None
    factor_sizes: tuple[int, ...] | None = None
    represent_factors: RepresentFactors | None = None
    dataset: Any = None
    generate_images: Callable[[int, torch.Generator], torch.Tensor] | None = None
    n_jobs: int | None = None
    unavailable: dict[str, str] = field(default_factory=dict)

    def generator(self, name: str) -> torch.Generator:
        """A CPU generator for metric ``name``, seeded from ``(seed, name)``."""
        return derive_generator(self.seed, name)

    def has(self, kind: str) -> bool:
        """Whether these inputs feed metrics of ``kind``."""
        if kind == "array":
            return self.codes_train is not None and self.factors_train is not None
        if kind == "sampling":
            return self.represent_factors is not None and self.factor_sizes is not None
        if kind == "image":
            return self.generate_images is not None
        return False


Compute = Callable[[MetricInputs], dict[str, Any]]
"""``compute(inputs: MetricInputs) -> {key: value}``."""
ComputeT = TypeVar("ComputeT", bound=Callable[..., dict[str, Any]])


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric.

    Attributes:
        name: registry name (a key of the result's ``"metrics"``).
        compute: ``compute(inputs: MetricInputs) -> {key: value}`` under the reference estimators.
        kind: ``"array"``, ``"sampling"`` or ``"image"`` (see the module docstring).
        keys: the keys ``compute`` returns.
        fast_compute: optional cheaper estimator used by protocols with ``fast_estimators``.
        uses_test_split: whether an array metric reads ``codes_test`` / ``factors_test``.
        description: one line (also recorded as the estimator when the metric declares none).
        applies: optional ``applies(inputs) -> None | reason``: a metric that only makes sense
            for some inputs (e.g. a categorical code against class labels) says why it skips.
        estimator: protocol base -> the estimator text recorded in results (``"dlib"``: the default).
        sizes: protocol base -> ``{size: value}`` read by ``compute`` through
            ``inputs.protocol.metric_sizes(sizes_key)``; other entries override ``"dlib"``'s.
        sizes_key: where the sizes live in a protocol (the name, or a key shared by metrics
            that draw the same samples, like the image metrics' ``"image_quality"``).
    """

    name: str
    compute: Compute
    kind: str
    keys: tuple[str, ...]
    fast_compute: Compute | None = None
    uses_test_split: bool = False
    description: str = ""
    applies: Callable[[MetricInputs], str | None] | None = None
    estimator: Mapping[str, str] = field(default_factory=dict)
    sizes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sizes_key: str = ""

    def compute_for(self, protocol: Protocol) -> Compute:
        """The compute function ``protocol`` asks for."""
        if protocol.fast_estimators and self.fast_compute is not None:
            return self.fast_compute
        return self.compute

    def estimator_for(self, protocol: Protocol) -> str:
        """The estimator text recorded for this metric under ``protocol``."""
        declared = self.estimator.get(protocol.base) or self.estimator.get(DEFAULT_BASE)
        return declared or self.description or "user metric"

    def sizes_for(self, base: str) -> dict[str, Any]:
        """The declared sizes for protocol ``base`` (``"dlib"``'s, with ``base``'s entry over them)."""
        return {**self.sizes.get(DEFAULT_BASE, {}), **self.sizes.get(base, {})}


METRICS: Registry[MetricSpec] = Registry("metric", MetricError)
"""Metric name -> :class:`MetricSpec`."""


def metric(
    name: str,
    *,
    kind: str = "array",
    keys: Sequence[str] = ("score",),
    description: str = "",
    estimator: str | Mapping[str, str] | None = None,
    sizes: Mapping[str, Mapping[str, Any]] | None = None,
    sizes_key: str | None = None,
    fast_compute: Compute | None = None,
    uses_test_split: bool = False,
    applies: Callable[[MetricInputs], str | None] | None = None,
    overwrite: bool = False,
) -> Callable[[ComputeT], ComputeT]:
    """Declare a metric: the decorated ``compute(inputs) -> dict`` joins :func:`evaluate`,
    ``infogan evaluate`` and ``names="all"`` (in declaration order). Example: the module
    docstring; with sizes: ``infogan_kit/metrics/factor_vae.py``.

    Args:
        name: registry name.
        kind: ``"array"``, ``"sampling"`` or ``"image"``.
        keys: result keys.
        description: one line (recorded as the estimator when ``estimator`` is not given).
        estimator: estimator text recorded in results; a mapping gives one per protocol base
            (``{"dlib": ..., "fast": ...}``; ``"dlib"``'s is the default).
        sizes: sample sizes per protocol base (``{"dlib": {size: value}, "fast": {...}}``; each
            entry overrides ``"dlib"``'s, which names every size). Read them with
            ``inputs.protocol.metric_sizes(sizes_key)``; custom protocols change them as
            ``<sizes_key>_<size>=value``; results record them in ``config.sizes``.
        sizes_key: where the sizes live in a protocol (default: ``name``); metrics sharing one
            declare the same sizes.
        fast_compute: optional cheaper estimator for protocols with ``fast_estimators``.
        uses_test_split: an array metric that needs the test rows.
        applies: optional ``applies(inputs) -> None | reason`` to skip inputs the metric does
            not apply to (with the reason as a note).
        overwrite: replace an existing registration of ``name``.

    Returns:
        a decorator registering its function and returning it unchanged.

    Raises:
        MetricError: an invalid kind, name or sizes, or sizes that differ from those of a metric
            sharing ``sizes_key``.
    """
    if kind not in KINDS:
        raise MetricError(f"metric kind must be one of {KINDS}, got {kind!r}")
    if name == "all" or not name or "," in name:
        raise MetricError(f"invalid metric name {name!r}")
    texts = {DEFAULT_BASE: estimator} if isinstance(estimator, str) else dict(estimator or {})
    declared = _check_sizes(name, sizes or {}, sizes_key or name)

    def register(compute: ComputeT) -> ComputeT:
        spec = MetricSpec(name, compute, kind, tuple(keys), fast_compute, uses_test_split, description, applies,
                          texts, declared, sizes_key or name)
        METRICS.register(name, spec, overwrite=overwrite)
        return compute

    return register


def register_metric(name: str, compute: Compute, **declaration: Any) -> MetricSpec:
    """Register ``compute`` as metric ``name``: the function form of :func:`metric` (same keywords).

    Example::

        def mean_abs_code(inputs):                      # an "array" metric
            return {"score": float(abs(inputs.codes_train).mean())}
        metrics.register_metric("mean_abs_code", mean_abs_code, kind="array", keys=("score",))

    Returns:
        the registered :class:`MetricSpec`.
    """
    metric(name, **declaration)(compute)
    return METRICS.get(name)


def _check_sizes(name: str, sizes: Mapping[str, Mapping[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    """Validated per-protocol sizes: a ``"dlib"`` entry naming every size, the same as any
    other metric's under ``key``."""
    declared = {base: dict(values) for base, values in sizes.items()}
    if not declared:
        return declared
    names = set(declared.get(DEFAULT_BASE, {}))
    if not names or any(not set(values) <= names for values in declared.values()):
        raise MetricError(f"metric {name!r}: sizes need a {DEFAULT_BASE!r} entry naming every size, got {declared}")
    sharing = sizes_declarations().get(key)
    if sharing is not None and sharing.name != name and dict(sharing.sizes) != declared:
        raise MetricError(f"metric {name!r} declares other sizes under {key!r} than metric {sharing.name!r}")
    return declared


def sizes_declarations() -> dict[str, MetricSpec]:
    """Sizes key -> the first registered metric declaring sizes under it (registration order)."""
    found: dict[str, MetricSpec] = {}
    for name in METRICS:
        spec = METRICS.get(name)
        if spec.sizes:
            found.setdefault(spec.sizes_key, spec)
    return found


def needs_two_factors(inputs: MetricInputs) -> str | None:
    """``applies`` of metrics that contrast factors (BetaVAE, FactorVAE): at least two factors."""
    return None if len(inputs.factor_sizes) >= 2 else "it needs at least two factors"


def metric_names() -> list[str]:
    """Names of every registered metric, in registration order."""
    return METRICS.names()


def resolve_names(names: str | Iterable[str]) -> tuple[list[str], bool]:
    """Parse a metric selection.

    Args:
        names: ``"all"``, a comma-separated string, or a sequence of names.

    Returns:
        ``(names, selected_all)``: registered names without duplicates, in the order given
        (registry order for ``"all"``).

    Raises:
        MetricError: an unknown name (the message lists the known ones) or an empty selection.
    """
    items = [part.strip() for part in names.split(",")] if isinstance(names, str) else [str(n).strip() for n in names]
    items = [item for item in items if item]
    if not items:
        raise MetricError(f"no metric selected; choose 'all' or some of: {', '.join(metric_names())}")
    if "all" in items:
        return metric_names(), True
    selected: list[str] = []
    for item in items:
        METRICS.get(item)  # raises with the list of names
        if item not in selected:
            selected.append(item)
    return selected, False


def skip_reason(spec: MetricSpec, inputs: MetricInputs) -> str | None:
    """Why ``spec`` cannot run on ``inputs`` (None when it can)."""
    if inputs.has(spec.kind):
        if spec.kind == "array" and spec.uses_test_split and inputs.codes_test is None:
            return f"{spec.name}: skipped, it needs a test split"
        if spec.applies is not None:
            reason = spec.applies(inputs)
            return f"{spec.name}: skipped, {reason}" if reason else None
        return None
    if spec.kind in inputs.unavailable:
        return f"{spec.name}: skipped, {inputs.unavailable[spec.kind]}"
    if spec.kind == "sampling":
        return f"{spec.name}: skipped, sampling metrics need a model or codes covering the whole factor grid"
    if spec.kind == "image":
        return f"{spec.name}: skipped, image metrics need a generative model"
    return f"{spec.name}: skipped, array metrics need codes and factors"


def run_suite(
    inputs: MetricInputs, names: Sequence[str], *, selected_all: bool = False
) -> tuple[dict[str, dict[str, Any]], list[str], dict[str, float]]:
    """Compute the metrics ``names`` on ``inputs``, one after the other.

    Args:
        inputs: the suite's inputs.
        names: registered metric names (see :func:`resolve_names`).
        selected_all: True when the user asked for ``"all"`` (metrics that do not apply are
            then left out silently instead of with a note).

    Returns:
        ``(metrics, notes, timings_s)``: ``{name: {key: value}}`` for the metrics that ran,
        human-readable notes (skipped metrics), and each metric's wall time in seconds.

    Raises:
        MetricError: a metric returned other keys than it was registered with.
    """
    results: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    timings: dict[str, float] = {}
    for name in names:
        spec = METRICS.get(name)
        reason = skip_reason(spec, inputs)
        if reason is not None:
            if not selected_all or spec.kind == "sampling":
                notes.append(reason)
            continue
        start = time.perf_counter()
        try:
            values = spec.compute_for(inputs.protocol)(inputs)
        except MetricError as error:
            if not selected_all:
                raise
            notes.append(f"{name}: skipped, {error}")  # "all" = every metric that applies
            continue
        timings[name] = round(time.perf_counter() - start, 4)
        if not isinstance(values, dict) or set(values) != set(spec.keys):
            found = sorted(values) if isinstance(values, dict) else type(values).__name__
            raise MetricError(f"metric {name!r} returned {found}, but it is registered with keys {list(spec.keys)}")
        results[name] = {key: _plain(value) for key, value in values.items()}
    return results, notes, timings


def _plain(value: Any) -> Any:
    """numpy scalars -> Python numbers (JSON-ready)."""
    if isinstance(value, np.generic):
        return value.item()
    return value
