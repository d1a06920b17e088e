"""Compare trained runs under one metric protocol (what ``infogan compare`` runs).

::

    from infogan_kit.compare import compare_runs, write_report
    comparison = compare_runs(["checkpoints/a", "checkpoints/b"], protocol="fast", names="mig,dci")
    files = write_report(comparison, "checkpoints/compare-a-b")

:func:`compare_runs` loads every run, reuses or evaluates its result for the protocol
(:mod:`~infogan_kit.compare.scores`), refuses results of different protocols, and aggregates
runs of one model over seeds. :func:`write_report` writes ``report.md``, ``scores.csv``,
``scores.json``, ``bars-<metric>.png`` per metric, ``traversals.png`` and a self-contained
``report.html``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Sequence

from ..errors import InfoganError
from ..files import atomic_write_text
from ..metrics import get_protocol, read_metrics_file, write_json_atomic
from ..metrics.results import NOT_COMPARABLE_NOTE
from ..versions import library_versions
from .figures import bar_chart, safe_name, traversal_panel
from .report import EXPLORER_FILE, format_text_table, html_report, markdown_report, scores_json, write_csv
from .scores import (
    Comparison,
    GroupScores,
    RunScores,
    check_same_protocol,
    choose_protocol,
    config_key,
    group_runs,
    headline_columns,
    requested_metrics,
    score_run,
)


def compare_runs(
    paths: Sequence[str | Path],
    protocol: str | None = None,
    names: str | Sequence[str] = "all",
    seed: int = 0,
    device: str | None = None,
    data_path: str | None = None,
) -> Comparison:
    """Score runs under one protocol and aggregate runs of one model over seeds.

    Args:
        paths: run directories or checkpoint files (at least one, no duplicates).
        protocol: ``"dlib"``, ``"fast"``, or None to use the protocol every run already has
            results for (``dlib`` when none has any).
        names: ``"all"``, comma-separated metric names, or a list.
        seed: evaluation seed (a stored result is reused only if made with it).
        device: where runs are loaded (default: CUDA when available).
        data_path: overrides file datasets' recorded paths.

    Returns:
        the :class:`Comparison` (runs keep their loaded :class:`~infogan_kit.run.Run`).

    Raises:
        MetricError: stored results of different protocols and no ``protocol`` given, or
            results of different protocols/sizes put together.
        InfoganError: no runs, duplicated runs; CheckpointError for unusable runs.
    """
    from ..run import load_run

    if not paths:
        raise InfoganError("give at least one run to compare")
    resolved = [Path(p).resolve() for p in paths]
    duplicates = sorted({str(p) for p in resolved if resolved.count(p) > 1})
    if duplicates:
        raise InfoganError(f"run(s) given more than once: {', '.join(duplicates)}")
    runs = [load_run(path, data_path=data_path, device=device) for path in paths]
    metric_list = requested_metrics(names)
    stored = [read_metrics_file(Path(run.run_dir) / "metrics.json") for run in runs]
    chosen = get_protocol(protocol or choose_protocol([(_label(r), s, r.step) for r, s in zip(runs, stored)], seed))
    scored, notes = [], []
    for run, data in zip(runs, stored):
        result, source, run_notes = score_run(run, chosen, metric_list, seed, data)
        notes += run_notes
        scored.append(_run_scores(run, result, source))
    check_same_protocol([(entry.label, entry.result) for entry in scored])
    notes += _result_notes(scored) + _dataset_notes(runs)
    columns = list(dict.fromkeys(column for entry in scored for column in entry.values()))
    metrics_shown = [name for name in metric_list if any(name in entry.result["metrics"] for entry in scored)]
    return Comparison(
        protocol=chosen, metrics=metrics_shown, runs=scored, groups=group_runs(scored, columns), columns=columns,
        headline=headline_columns(metrics_shown, columns), notes=notes, seed=seed,
        created=time.strftime("%Y-%m-%d %H:%M:%S"), versions=library_versions(),
    )


def _label(run: Any) -> str:
    return Path(run.run_dir).name


def _run_scores(run: Any, result: dict[str, Any], source: str) -> RunScores:
    return RunScores(
        run=run, label=_label(run), model=run.model_name, family=run.family,
        group=json.dumps(config_key(run.config), sort_keys=True, default=str), seed=int(run.config.train.seed),
        step=run.step, images_seen=run.images_seen, wall_s=run.wall_s, result=result, source=source,
    )


def _result_notes(scored: Sequence[RunScores]) -> list[str]:
    """The results' own notes (skipped metrics, null values), once per distinct note."""
    seen: dict[str, list[str]] = {}
    for entry in scored:
        for note in entry.result.get("notes", []):
            if note != NOT_COMPARABLE_NOTE.format(name=entry.result.get("protocol")):  # the report says it once
                seen.setdefault(note, []).append(entry.label)
    return [f"{note} ({', '.join(labels)})" for note, labels in seen.items()]


def _dataset_notes(runs: Sequence[Any]) -> list[str]:
    datasets = {run.config.data.name for run in runs}
    if len(datasets) > 1:
        return [f"the runs were trained on different datasets ({', '.join(sorted(datasets))}): scores are not comparable across them"]
    return []


def default_out_dir(root: str | Path = "checkpoints") -> Path:
    """``checkpoints/compare-<YYYYmmdd-HHMMSS>`` (a suffix is added if it exists)."""
    base = Path(root) / f"compare-{time.strftime('%Y%m%d-%H%M%S')}"
    candidate, counter = base, 1
    while candidate.exists():
        candidate = Path(f"{base}-{counter}")
        counter += 1
    return candidate


def write_report(comparison: Comparison, out: str | Path | None = None, traversal_columns: int = 8,
                 explorer: bool = True) -> dict[str, Path]:
    """Write every file of a comparison into ``out`` (created; default :func:`default_out_dir`).

    With ``explorer``, ``explorer.html`` (:func:`infogan_kit.viz.explorer.write_explorer` of the
    compared runs) is written too and linked from both reports; runs that cannot be explored
    together (e.g. of different datasets) get a note in ``comparison.notes`` instead.

    Returns:
        ``{"report.md": path, "scores.csv": ..., "scores.json": ..., "report.html": ...,
        "bars-<metric>.png": ..., "traversals.png": ..., "explorer.html": ...}``.
    """
    folder = Path(out) if out is not None else default_out_dir()
    if folder.exists() and not folder.is_dir():
        raise InfoganError(f"--out {folder} exists and is not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InfoganError(f"cannot create --out {folder}: {error.strerror or error}") from None
    figures: dict[str, Path] = {}
    for column in comparison.headline:
        figures[column] = bar_chart(comparison.groups, column, folder / f"bars-{safe_name(column)}.png", comparison.protocol.name)
    figures["traversals (one per run, same seed)"] = traversal_panel(
        [entry.run for entry in comparison.runs], [f"{entry.label} ({entry.model})" for entry in comparison.runs],
        folder / "traversals.png", seed=comparison.seed, columns=traversal_columns,
    )
    files = {path.name: path for path in figures.values()}
    explorer_name = _write_explorer(comparison, folder, files) if explorer else None
    files["scores.csv"] = write_csv(comparison, folder / "scores.csv")
    files["scores.json"] = write_json_atomic(folder / "scores.json", scores_json(comparison))
    files["report.md"] = atomic_write_text(folder / "report.md", markdown_report(comparison, figures, explorer_name))
    files["report.html"] = atomic_write_text(folder / "report.html", html_report(comparison, figures, explorer_name))
    return files


def _write_explorer(comparison: Comparison, folder: Path, files: dict[str, Path]) -> str | None:
    """``explorer.html`` of the compared runs into ``folder`` (added to ``files``); its name, or None with a note."""
    from ..viz.explorer import ExplorerError, write_explorer

    try:
        files[EXPLORER_FILE] = write_explorer([entry.run for entry in comparison.runs], folder / EXPLORER_FILE,
                                              seed=comparison.seed)
    except ExplorerError as error:
        comparison.notes.append(f"no explorer page: {error}")
        return None
    return EXPLORER_FILE


__all__ = [
    "Comparison", "GroupScores", "RunScores", "check_same_protocol", "choose_protocol", "compare_runs",
    "default_out_dir", "format_text_table", "write_report",
]
