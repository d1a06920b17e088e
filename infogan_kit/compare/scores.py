"""Scores of the compared runs: reuse or evaluate each run's result, check protocols, aggregate.

A run's ``metrics.json`` holds one result per protocol. A stored result is reused only when it
was made with exactly the protocol asked for (name *and* sample sizes), the same seed, and the
run's current checkpoint step; otherwise the run is evaluated again and the result merged into
its ``metrics.json``. Metrics missing from a usable stored result are evaluated alone and added
to it. Results of different protocols are never put in one table (:func:`check_same_protocol`).

Runs of one model whose configs differ only by the seed (and by settings that do not change
training, such as logging intervals or the device) form a group, summarized as mean +- std.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..config import config_to_dict
from ..errors import MetricError
from ..metrics import METRICS, PROTOCOLS, Protocol, evaluate, merge_into_metrics_file, metric_names, resolve_names

IGNORED_CONFIG_KEYS = frozenset({
    "train.seed", "train.device", "train.threads", "train.log_every", "train.sample_every", "train.checkpoint_every",
    "train.metrics_every", "train.keep_checkpoints", "train.max_consecutive_skips", "data.path", "data.num_workers",
})
"""Config keys that do not make two runs different models (seeds aggregate over the rest)."""

HEADLINE_KEYS = {
    "beta_vae": "eval_accuracy", "factor_vae": "eval_accuracy", "mig": "score", "dci": "disentanglement",
    "sap": "score", "modularity": "modularity", "irs": "score", "unsupervised": "gaussian_total_correlation",
}
"""The key of each metric shown in tables and bar charts (every key goes to the CSV/JSON)."""


@dataclass
class RunScores:
    """One run and the result it is shown with.

    Attributes:
        run: the loaded :class:`~infogan_kit.run.Run` (not serialized).
        label: the run directory's name; model, family: as trained.
        group: key of the run's config without the seed (runs with equal keys aggregate).
        seed, step, images_seen, wall_s: from the checkpoint.
        result: the result object restricted to the compared metrics.
        source: ``"metrics.json"`` (reused), ``"evaluated"`` or ``"metrics.json+evaluated"``.
    """

    run: Any
    label: str
    model: str
    family: str
    group: str
    seed: int
    step: int
    images_seen: int
    wall_s: float
    result: dict[str, Any]
    source: str

    def values(self) -> dict[str, float | None]:
        """Flat ``{"metric.key": value}`` of the result (numbers; null values as None)."""
        return flat_values(self.result)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready description (path, config facts, flat values, source)."""
        return {"run": str(self.run.run_dir), "label": self.label, "model": self.model, "family": self.family,
                "seed": self.seed, "step": self.step, "images_seen": self.images_seen, "wall_s": self.wall_s,
                "source": self.source, "values": self.values()}


@dataclass
class GroupScores:
    """Runs of one model and config (seeds aside), summarized.

    Attributes:
        label: model name, plus the config keys that tell it from other groups of that model.
        model, family: shared by the runs.
        runs: the members.
        mean, std: per ``"metric.key"`` column; std is None for a single run (sample std, ddof=1).
    """

    label: str
    model: str
    family: str
    runs: list[RunScores]
    mean: dict[str, float | None] = field(default_factory=dict)
    std: dict[str, float | None] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {"label": self.label, "model": self.model, "family": self.family, "num_runs": len(self.runs),
                "runs": [r.label for r in self.runs], "seeds": [r.seed for r in self.runs],
                "steps": [r.step for r in self.runs], "wall_s": [r.wall_s for r in self.runs],
                "mean": self.mean, "std": self.std}


def requested_metrics(names: str | Sequence[str]) -> list[str]:
    """Metric names to compare; ``"all"`` = every registered metric a model's representation
    feeds (array and sampling kinds)."""
    selected, selected_all = resolve_names(names)
    if selected_all:
        return [name for name in metric_names() if METRICS.get(name).kind in ("array", "sampling")]
    return selected


def flat_values(result: dict[str, Any]) -> dict[str, float | None]:
    """``{"metric.key": value}`` of a result's numeric values (booleans and non-numbers left out)."""
    flat: dict[str, float | None] = {}
    for metric, values in result.get("metrics", {}).items():
        for key, value in values.items():
            if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
                flat[f"{metric}.{key}"] = None if value is None else float(value)
    return flat


def headline_columns(metric_order: Sequence[str], columns: Sequence[str]) -> list[str]:
    """One ``"metric.key"`` column per metric (:data:`HEADLINE_KEYS`, else ``score``, else the first)."""
    chosen = []
    for metric in metric_order:
        keys = [column.split(".", 1)[1] for column in columns if column.split(".", 1)[0] == metric]
        if not keys:
            continue
        preferred = HEADLINE_KEYS.get(metric, "score")
        chosen.append(f"{metric}.{preferred if preferred in keys else keys[0]}")
    return chosen


def unusable_reason(entry: dict[str, Any] | None, protocol: Protocol, seed: int, step: int) -> str | None:
    """Why a stored result cannot be shown as a ``protocol`` result of this checkpoint (None: it can)."""
    if not isinstance(entry, dict):
        return f"no stored {protocol.name} result"
    if entry.get("protocol") != protocol.name:
        return f"the result stored under {protocol.name!r} was made with protocol {entry.get('protocol')!r}"
    config = entry.get("config", {})
    stored_sizes = config.get("sizes") or {}
    if {key: stored_sizes.get(key) for key in protocol.sizes()} != protocol.sizes():
        return f"the stored {protocol.name} result has other sample sizes than the {protocol.name} protocol"
    stored_version = config.get("protocol_version", 1)
    if stored_version != protocol.version:
        return f"the stored {protocol.name} result is of protocol version {stored_version}, not {protocol.version}"
    if config.get("seed") != seed:
        return f"the stored {protocol.name} result has seed {config.get('seed')}, not {seed}"
    stored_step = config.get("step", (config.get("run") or {}).get("step"))
    if stored_step is not None and stored_step != step:
        return f"the stored {protocol.name} result is of step {stored_step}, the checkpoint of step {step}"
    return None


def choose_protocol(stored: Sequence[tuple[str, dict[str, Any], int]], seed: int) -> str:
    """The protocol to compare in when the user gave none.

    Args:
        stored: ``(label, metrics.json content, checkpoint step)`` per run.
        seed: the evaluation seed.

    Returns:
        a protocol every run with usable stored results has (``dlib`` preferred); ``dlib`` when
        no run has any.

    Raises:
        MetricError: the runs' stored results are of different protocols (nothing in common).
    """
    usable = {label: [name for name, protocol in PROTOCOLS.items() if unusable_reason(data.get(name), protocol, seed, step) is None]
              for label, data, step in stored}
    having = {label: names for label, names in usable.items() if names}
    if not having:
        return "dlib"
    common = [name for name in PROTOCOLS if all(name in names for names in having.values())]
    if common:
        return common[0]
    listing = "; ".join(f"{label}: {', '.join(names)}" for label, names in having.items())
    raise MetricError(
        f"the runs' stored results are of different protocols ({listing}) and cannot be compared; "
        "choose one with --protocol dlib|fast (runs without it are evaluated)"
    )


def check_same_protocol(results: Sequence[tuple[str, dict[str, Any]]]) -> str:
    """The protocol name shared by ``(label, result)`` pairs.

    Raises:
        MetricError: two results differ in protocol name or sample sizes.
    """
    if not results:
        raise MetricError("no results to compare")
    # Only the sizes every result records count: a GAN result also records image-quality sizes.
    all_sizes = [result.get("config", {}).get("sizes") or {} for _, result in results]
    shared = set.intersection(*(set(sizes) for sizes in all_sizes)) if all_sizes else set()
    kinds = {
        (result.get("protocol"), json.dumps({key: sizes[key] for key in shared}, sort_keys=True))
        for (_, result), sizes in zip(results, all_sizes)
    }
    if len(kinds) > 1:
        listing = "; ".join(f"{label}: {result.get('protocol')}" for label, result in results)
        raise MetricError(f"cannot compare results of different protocols or sample sizes ({listing})")
    return str(results[0][1].get("protocol"))


def score_run(run: Any, protocol: Protocol, names: Sequence[str], seed: int, stored: dict[str, Any]) -> tuple[dict[str, Any], str, list[str]]:
    """The run's ``protocol`` result for ``names``: reused, completed or evaluated (then merged
    into the run's ``metrics.json``).

    Returns:
        ``(result restricted to names, source, notes)``.
    """
    entry = stored.get(protocol.name)
    reason = unusable_reason(entry, protocol, seed, run.step)
    notes: list[str] = []
    base = None if reason else copy.deepcopy(entry)
    missing = [name for name in names if base is None or name not in base.get("metrics", {})]
    source = "metrics.json"
    if missing:
        fresh = evaluate(run.represent, run.dataset, missing, protocol, seed, device=run.device)
        fresh["config"]["step"] = run.step
        base = fresh if base is None else _combine(base, fresh)
        merge_into_metrics_file(Path(run.run_dir) / "metrics.json", base)
        source = "evaluated" if reason else "metrics.json+evaluated"
        notes.append(f"{Path(run.run_dir).name}: evaluated {', '.join(missing)} ({reason or 'not in the stored result'})")
    shown = dict(base)
    shown["metrics"] = {name: base["metrics"][name] for name in names if name in base["metrics"]}
    return shown, source, notes


def _combine(stored: dict[str, Any], fresh: dict[str, Any]) -> dict[str, Any]:
    """A stored result with ``fresh``'s metrics, notes, timings and estimators added."""
    combined = copy.deepcopy(stored)
    combined["metrics"].update(fresh["metrics"])
    combined["notes"] = list(stored.get("notes", [])) + [n for n in fresh.get("notes", []) if n not in stored.get("notes", [])]
    timings = dict(stored.get("timings_s", {}))
    total = timings.get("total", 0.0) + fresh.get("timings_s", {}).get("total", 0.0)
    timings.update(fresh.get("timings_s", {}))
    timings["total"] = round(total, 4)
    combined["timings_s"] = timings
    combined.setdefault("config", {}).setdefault("estimators", {}).update(fresh["config"].get("estimators", {}))
    if stored.get("versions") != fresh.get("versions"):
        combined["notes"].append(f"metrics {', '.join(fresh['metrics'])} were added with versions {fresh.get('versions')}")
    return combined


def _flat_config(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, dict) and key != "options":
            flat.update(_flat_config(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def config_key(config: Any) -> dict[str, Any]:
    """A run config as flat ``{"section.key": value}`` without :data:`IGNORED_CONFIG_KEYS`."""
    return {k: v for k, v in _flat_config(config_to_dict(config)).items() if k not in IGNORED_CONFIG_KEYS}


def group_runs(runs: Sequence[RunScores], columns: Sequence[str]) -> list[GroupScores]:
    """Group runs by :attr:`RunScores.group` (first-seen order) and compute mean/std per column."""
    groups: dict[str, list[RunScores]] = {}
    for run in runs:
        groups.setdefault(run.group, []).append(run)
    labels = _group_labels({key: members[0] for key, members in groups.items()})
    summaries = []
    for key, members in groups.items():
        summary = GroupScores(labels[key], members[0].model, members[0].family, members)
        for column in columns:
            values = [v for v in (m.values().get(column) for m in members) if v is not None]
            summary.mean[column] = float(np.mean(values)) if values else None
            summary.std[column] = float(np.std(values, ddof=1)) if len(values) > 1 else None
        summaries.append(summary)
    return summaries


def _group_labels(first_runs: dict[str, RunScores]) -> dict[str, str]:
    """Model names, with the differing config keys (at most 3) where a model has several groups."""
    labels = {}
    for key, run in first_runs.items():
        siblings = [json.loads(other) for other, r in first_runs.items() if r.model == run.model and other != key]
        if not siblings:
            labels[key] = run.model
            continue
        mine = json.loads(key)
        differing = sorted({k for s in siblings for k in set(mine) | set(s) if mine.get(k) != s.get(k)})
        shown = ", ".join(f"{k.split('.', 1)[-1]}={mine.get(k)}" for k in differing[:3])
        labels[key] = f"{run.model} [{shown}]"
    return labels


@dataclass
class Comparison:
    """Everything a comparison report shows.

    Attributes:
        protocol: the protocol every shown result was made with.
        metrics: compared metric names, in order.
        runs: one entry per run, in the order given.
        groups: runs aggregated by model and config (seeds aside).
        columns: every ``"metric.key"`` column; headline: one column per metric.
        notes: what was reused or evaluated, and the results' own notes.
        seed: evaluation and traversal seed.
        created: local time of the comparison (``YYYY-mm-dd HH:MM:SS``).
        versions: library versions of this process (each result keeps its own too).
    """

    protocol: Protocol
    metrics: list[str]
    runs: list[RunScores]
    groups: list[GroupScores]
    columns: list[str]
    headline: list[str]
    notes: list[str]
    seed: int
    created: str
    versions: dict[str, str]
