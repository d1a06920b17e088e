"""Evaluation protocols: the settings metrics share, and each metric's sample sizes.

* ``dlib`` (the default, :data:`DLIB`): disentanglement_lib's ``unsupervised_study_v1``
  metric configs. Numbers are comparable with published tables (given the same library
  versions, which every result records).
* ``fast`` (:data:`FAST`): the same definitions with far fewer samples and cheaper estimators
  for DCI and SAP (see :mod:`infogan_kit.metrics.fast`); whole suite in seconds. For
  in-training logging and quick looks only: **not comparable with published numbers**, and
  every result says so.

A protocol holds only what metrics share (split sizes, bins, the estimator switch). Each metric
declares its own sample sizes and estimator text per protocol where it is defined
(``@metric(..., sizes={"dlib": {...}, "fast": {...}})``, see
:func:`infogan_kit.metrics.registry.metric`); a protocol reads those of its ``base`` and applies
its own overrides. Make your own with one call and pass it wherever a protocol name is accepted::

    tiny = FAST.replace(name="tiny", num_train=200, factor_vae_num_train=100)
    tiny.factor_vae_num_train           # 100: a metric's size is "<sizes key>_<size>"
    tiny.metric_sizes("factor_vae")     # {"batch_size": 16, "num_train": 100, ...}

(``dataclasses.replace(FAST, ...)`` takes the same arguments.)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import MetricError

if TYPE_CHECKING:
    from .registry import MetricSpec

SizeOverrides = tuple[tuple[str, str, Any], ...]
"""``((sizes key, size name, value), ...)``: a protocol's changes to the declared metric sizes."""


@dataclass(frozen=True, init=False)
class Protocol:
    """Every choice that changes a metric's value, besides the metric definitions themselves.

    Construct as ``Protocol(name, comparable, description, **settings)``: ``settings`` are the
    attributes below and any metric size as ``<sizes key>_<size>`` (``factor_vae_num_train=100``,
    ``image_quality_num_real=500``), which go to ``size_overrides``.

    Attributes:
        name: protocol name recorded in results (``"dlib"``, ``"fast"``, ...).
        comparable: whether numbers are comparable with published (disentanglement_lib) tables.
        description: one line for tables and docs.
        num_train: train rows of the array metrics (MIG, DCI, SAP, modularity, IRS, unsupervised).
        num_test: test rows of the array metrics that fit estimators (DCI, SAP, modularity).
        num_bins: histogram bins of the discretizer (MIG, modularity, IRS, unsupervised).
        fast_estimators: use a metric's cheap estimator where it declares one (DCI, SAP).
        base: the built-in protocol (``"dlib"`` or ``"fast"``) whose declared metric sizes and
            estimator texts apply; metrics without an entry for it use their ``"dlib"`` one.
        size_overrides: metric sizes that differ from the declared ones (see :data:`SizeOverrides`).
        version: the built-in protocol's revision, recorded as ``config.protocol_version`` (a
            result of another version of the same name may have other sizes or estimators).
    """

    name: str
    comparable: bool
    description: str
    num_train: int = 10_000
    num_test: int = 5_000
    num_bins: int = 20
    fast_estimators: bool = False
    base: str = "dlib"
    size_overrides: SizeOverrides = ()
    version: int = 1

    def __init__(self, name: str, comparable: bool, description: str, **settings: Any) -> None:
        values: dict[str, Any] = {"name": name, "comparable": comparable, "description": description}
        for item in dataclasses.fields(self):
            if item.name not in values:
                values[item.name] = settings.pop(item.name, item.default)
        overrides = {(key, size): value for key, size, value in values["size_overrides"]}
        for flat, value in settings.items():
            overrides[split_size_name(flat)] = value
        values["size_overrides"] = tuple((key, size, overrides[key, size]) for key, size in sorted(overrides))
        for attribute, value in values.items():
            object.__setattr__(self, attribute, value)

    def replace(self, **changes: Any) -> Protocol:
        """A copy with ``changes``: shared settings (``name=``, ``num_train=``, ...) and metric
        sizes as ``<sizes key>_<size>`` (``factor_vae_num_train=100``).

        Raises:
            MetricError: an unknown metric size (the message lists the known ones).
        """
        return dataclasses.replace(self, **changes)

    def metric_sizes(self, key: str) -> dict[str, Any]:
        """The sizes of metric ``key`` (its sizes key, usually its name) under this protocol.

        Raises:
            MetricError: no registered metric declares sizes under ``key``.
        """
        spec = _sizes_declarations().get(key)
        if spec is None:
            raise MetricError(f"no metric declares sample sizes under {key!r}; declared: {', '.join(_sizes_declarations())}")
        sizes = spec.sizes_for(self.base)
        sizes.update({size: value for owner, size, value in self.size_overrides if owner == key})
        return sizes

    def sizes(self) -> dict[str, dict[str, Any]]:
        """Every sample size, grouped by the metrics that use it (recorded in results).

        ``"array"`` (the shared split), then each array and sampling metric's declared sizes.
        The image metrics' sizes are recorded, with their KID settings, as ``"image_quality"``
        when they run.
        """
        recorded: dict[str, dict[str, Any]] = {"array": {"num_train": self.num_train, "num_test": self.num_test}}
        for key, spec in _sizes_declarations().items():
            if spec.kind != "image":
                recorded[key] = self.metric_sizes(key)
        return recorded

    def estimator_names(self) -> dict[str, str]:
        """``{metric name: estimator description}`` of the metrics that declare one."""
        from .registry import METRICS

        specs = [METRICS.get(name) for name in METRICS]
        return {spec.name: spec.estimator_for(self) for spec in specs if spec.estimator}

    @property
    def estimators(self) -> tuple[tuple[str, str], ...]:
        """``(metric, estimator description)`` pairs (:meth:`estimator_names` as pairs)."""
        return tuple(self.estimator_names().items())

    def __getattr__(self, attribute: str) -> Any:
        """A metric size as ``<sizes key>_<size>``, e.g. ``protocol.factor_vae_num_train``."""
        if attribute.startswith("_") or attribute in _FIELD_NAMES:
            raise AttributeError(attribute)
        try:
            key, size = split_size_name(attribute)
        except MetricError:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {attribute!r}") from None
        return self.metric_sizes(key)[size]


_FIELD_NAMES = frozenset(item.name for item in dataclasses.fields(Protocol))


def _sizes_declarations() -> dict[str, MetricSpec]:
    from .registry import sizes_declarations

    return sizes_declarations()


def split_size_name(flat: str) -> tuple[str, str]:
    """``"factor_vae_num_train"`` -> ``("factor_vae", "num_train")`` (a declared sizes key and size).

    Raises:
        MetricError: no registered metric declares that size (the message lists them all).
    """
    declarations = _sizes_declarations()
    for key, spec in declarations.items():
        size = flat[len(key) + 1 :]
        if flat.startswith(f"{key}_") and size in spec.sizes["dlib"]:
            return key, size
    known = [f"{key}_{size}" for key, spec in declarations.items() for size in spec.sizes["dlib"]]
    raise MetricError(
        f"unknown protocol setting {flat!r}; shared settings: {', '.join(sorted(_FIELD_NAMES))}; "
        f"metric sizes: {', '.join(known)}"
    )


FAST_VERSION = 2
"""Revision of the ``fast`` protocol's sizes (see :data:`FAST`)."""

DLIB = Protocol(
    name="dlib",
    comparable=True,
    description="disentanglement_lib unsupervised_study_v1 sizes and estimators (comparable with published numbers)",
)
"""disentanglement_lib's protocol (the default)."""

FAST = Protocol(
    name="fast",
    comparable=False,
    description="few samples and cheap estimators for quick looks; NOT comparable with published numbers",
    num_train=1_000,
    num_test=500,
    fast_estimators=True,
    base="fast",
    version=FAST_VERSION,
)
"""The fast protocol: the whole suite in seconds; labelled not comparable in every output.

Version 2 (version 1: 2,000 / 1,000 array rows, sampling batches of 16 over 300 / 150 points,
2,000 generated images) represents about 8,000 images and generates 1,000, for the whole suite
in under 10 s on 2 CPU cores (``bench/metrics.py --runs``)."""

PROTOCOLS: dict[str, Protocol] = {DLIB.name: DLIB, FAST.name: FAST}


def get_protocol(protocol: str | Protocol) -> Protocol:
    """The protocol named ``protocol`` (a :class:`Protocol` is returned as is).

    Raises:
        MetricError: unknown name (the message lists the known ones).
    """
    if isinstance(protocol, Protocol):
        return protocol
    try:
        return PROTOCOLS[protocol]
    except (KeyError, TypeError):
        raise MetricError(f"unknown protocol {protocol!r}; available: {', '.join(PROTOCOLS)}") from None
