"""The result object of a metric suite: assembly, a readable table, and JSON files.

A result is one JSON object::

    {"protocol": "dlib", "comparable": true,
     "config": {"seed", "dataset", "variant", "representation", "sizes", "estimators", "num_bins"},
     "versions": {"infogan_kit", "python", "torch", "numpy", "scikit-learn", ...},
     "metrics": {"mig": {"score": ...}, "dci": {...}, ...},
     "notes": ["..."], "timings_s": {"mig": ..., "total": ...}}

A run's ``metrics.json`` keeps one result per protocol, ``{"dlib": {...}, "fast": {...}}``
(:func:`merge_into_metrics_file`), so quick ``fast`` numbers never overwrite comparable ones.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from ..errors import MetricError
from ..files import atomic_write
from ..versions import library_versions
from .protocol import Protocol

NOT_COMPARABLE_NOTE = "protocol {name!r} is NOT comparable with published numbers (quick looks and training logs only)"


def build_result(
    protocol: Protocol,
    config: dict[str, Any],
    metrics: dict[str, dict[str, Any]],
    notes: list[str],
    timings_s: dict[str, float],
    *,
    comparable: bool | None = None,
) -> dict[str, Any]:
    """Assemble the result object.

    Non-finite values (an infinite total correlation of duplicated codes, ...) are stored as
    ``null`` with a note, so the file stays strict JSON.

    Args:
        protocol: the protocol used.
        config: ``{"seed", "dataset", "variant", "representation", "sizes", "estimators", "num_bins"}``.
        metrics: ``{metric: {key: value}}``.
        notes: human-readable remarks (skipped metrics, deviations from the protocol).
        timings_s: wall time per metric in seconds.
        comparable: override ``protocol.comparable`` (e.g. sizes changed by the user).

    Returns:
        the JSON-ready result dict.
    """
    comparable = protocol.comparable if comparable is None else comparable
    notes = list(notes)
    if not comparable:
        notes.insert(0, NOT_COMPARABLE_NOTE.format(name=protocol.name))
    clean: dict[str, dict[str, Any]] = {}
    for name, values in metrics.items():
        clean[name] = {}
        for key, value in values.items():
            if isinstance(value, float) and not math.isfinite(value):
                notes.append(f"{name}.{key} was {value} (stored as null)")
                value = None
            clean[name][key] = value
    return {
        "protocol": protocol.name,
        "comparable": bool(comparable),
        "config": config,
        "versions": library_versions(),
        "metrics": clean,
        "notes": notes,
        "timings_s": timings_s,
    }


def format_table(result: dict[str, Any]) -> str:
    """A readable text table of a result (what ``infogan evaluate`` prints)."""
    label = "comparable with published numbers" if result.get("comparable") else "NOT comparable with published numbers"
    config = result.get("config", {})
    lines = [
        f"protocol: {result.get('protocol')} ({label})",
        f"dataset: {config.get('dataset')}  representation: {_describe(config.get('representation'))}  seed: {config.get('seed')}",
        "",
        f"{'metric':<16}{'key':<40}{'value':>10}  {'time':>7}",
        "-" * 75,
    ]
    timings = result.get("timings_s", {})
    for name, values in result.get("metrics", {}).items():
        seconds = timings.get(name)
        for position, (key, value) in enumerate(values.items()):
            text = "null" if value is None else (f"{value:.4f}" if isinstance(value, float) else str(value))
            shown_time = f"{seconds:6.1f}s" if position == 0 and seconds is not None else ""
            lines.append(f"{name if position == 0 else '':<16}{key:<40}{text:>10}  {shown_time:>7}")
    if result.get("notes"):
        lines += ["", "notes:"] + [f"  - {note}" for note in result["notes"]]
    return "\n".join(lines)


def _describe(representation: Any) -> str:
    if isinstance(representation, dict):
        return ", ".join(f"{key}={value}" for key, value in representation.items())
    return str(representation)


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (:func:`~infogan_kit.files.atomic_write`).

    On any failure the previous file is left as it was and no temporary file remains.

    Raises:
        MetricError: the folder does not exist or the file cannot be written (full disk, no permission).
    """
    def write(temporary: str) -> None:
        with open(temporary, "w", encoding="utf-8") as stream:
            json.dump(data, stream, indent=2, allow_nan=False)
            stream.write("\n")

    return atomic_write(path, write, MetricError)


def read_metrics_file(path: str | Path) -> dict[str, Any]:
    """Read a run's ``metrics.json`` (``{}`` when it does not exist).

    Raises:
        MetricError: the file is not a JSON object.
    """
    source = Path(path)
    if not source.exists():
        return {}
    try:
        data = json.loads(source.read_text())
    except (OSError, ValueError) as error:
        raise MetricError(f"cannot read metrics file {source}: {error}") from None
    if not isinstance(data, dict):
        raise MetricError(f"metrics file {source} must hold a JSON object keyed by protocol")
    return data


class MetricsMerge(dict):
    """The content of ``metrics.json`` after a merge (a dict); ``stored`` says whether it was
    written, ``reason`` why not (a shipped model, a read-only run directory)."""

    stored: bool = True
    reason: str | None = None


def merge_into_metrics_file(path: str | Path, result: dict[str, Any]) -> MetricsMerge:
    """Store ``result`` under its protocol in the metrics file at ``path`` (atomically).

    Results of other protocols already in the file are kept. A previous result of the same
    protocol is extended when it describes the same evaluation (same seed, dataset, protocol
    sample sizes and model step): the new metrics are added to it (replacing metrics of the
    same name), so scoring a few more metrics keeps the others. Otherwise it is replaced.

    The read-merge-write happens under the file's short lock (:func:`infogan_kit.rundir.metrics_lock`),
    so concurrent merges keep each other's entries. A shipped model's or read-only run
    directory is never written: the merge is computed but not stored, and one
    ``note: scores not stored: ...`` line goes to stderr.

    Args:
        path: the run's ``metrics.json``.
        result: a result object (needs a ``"protocol"`` key).

    Returns:
        the whole file content after the merge, ``{protocol: result}``, with ``stored`` and ``reason``.

    Raises:
        MetricError: the file exists but is not a JSON object, or writing it failed (the previous
            file is then unchanged).
    """
    from ..rundir import NotWritable, metrics_lock

    protocol = result.get("protocol") if isinstance(result, dict) else None
    if not isinstance(protocol, str) or not protocol:
        raise MetricError("a result needs a 'protocol' name to be merged into a metrics file")
    try:
        with metrics_lock(path):
            merged = MetricsMerge(_merge(read_metrics_file(path), result))
            write_json_atomic(path, dict(merged))
    except NotWritable as why:
        merged = MetricsMerge(_merge(read_metrics_file(path), result))
        merged.stored, merged.reason = False, str(why)
        print(f"note: scores not stored: {why}", file=sys.stderr, flush=True)
    return merged


def _merge(data: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a metrics file's content) with ``result`` merged in under its protocol."""
    protocol = result["protocol"]
    previous = data.get(protocol)
    if isinstance(previous, dict) and same_evaluation(previous, result):
        merged = dict(result)
        merged["metrics"] = {**previous.get("metrics", {}), **result.get("metrics", {})}
        merged["timings_s"] = {**previous.get("timings_s", {}), **result.get("timings_s", {})}
        merged["notes"] = list(dict.fromkeys(list(previous.get("notes", [])) + list(result.get("notes", []))))
        merged["config"] = {**previous.get("config", {}), **result.get("config", {})}
        merged["config"]["sizes"] = {**previous.get("config", {}).get("sizes", {}), **result.get("config", {}).get("sizes", {})}
        result = merged
    data[protocol] = result
    return data


def _step_of(config: dict[str, Any]) -> Any:
    return config.get("step", (config.get("run") or {}).get("step"))


def same_evaluation(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether two result objects score the same model state the same way (so their metrics
    can live in one entry): protocol, seed, dataset, the protocol's sample sizes and the step."""
    a, b = first.get("config", {}), second.get("config", {})
    shared_sizes = set(a.get("sizes", {})) & set(b.get("sizes", {}))
    return (
        first.get("protocol") == second.get("protocol")
        and a.get("seed") == b.get("seed")
        and a.get("dataset") == b.get("dataset")
        and all(a["sizes"][key] == b["sizes"][key] for key in shared_sizes)
        and _step_of(a) == _step_of(b)
    )
