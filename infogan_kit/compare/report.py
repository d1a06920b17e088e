"""Text, Markdown, CSV, JSON and self-contained HTML renderings of a :class:`Comparison`."""

from __future__ import annotations

import base64
import csv
import html
import io
from pathlib import Path
from typing import Any, Sequence

from ..files import atomic_write_text
from .figures import family_sorted
from .scores import Comparison

EXPLORER_FILE = "explorer.html"
"""The explorer page ``write_report`` puts next to ``report.html`` (:mod:`infogan_kit.viz.explorer`)."""

EXPLORER_TEXT = "a slider per code of every run, paired by the factor each code matches best, with the MI/H heatmap."


def explorer_section(name: str = EXPLORER_FILE) -> str:
    """The report's link to the explorer page (a relative link: the two files stay side by side)."""
    return f'<h2>Explorer</h2><p id="explorer"><a href="{html.escape(name)}">Open the code explorer</a>: {EXPLORER_TEXT}</p>'


def protocol_statement(comparison: Comparison) -> str:
    """One sentence on the protocol and whether the numbers compare with published ones."""
    protocol = comparison.protocol
    if protocol.comparable:
        return (f"Protocol {protocol.name}: disentanglement_lib's sample sizes and estimators; the numbers are "
                "comparable with published disentanglement_lib tables (given the same library versions).")
    return (f"Protocol {protocol.name}: reduced sample sizes and cheap estimators; these numbers are NOT comparable "
            "with published ones (quick looks only). Use --protocol dlib for comparable numbers.")


def format_value(mean: float | None, std: float | None, plus_minus: str = "±", column: str = "") -> str:
    """``0.512 ± 0.034`` (several runs), ``0.512`` (one run) or ``n/a`` (no value); counts
    (``*.num_*`` columns) without decimals for one run."""
    if mean is None:
        return "n/a"
    digits = 1 if column.split(".")[-1].startswith("num_") else 3
    if std is None:
        return f"{mean:.0f}" if digits == 1 and float(mean).is_integer() else f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} {plus_minus} {std:.{digits}f}"


def format_duration(seconds: float) -> str:
    """``12.3s``, ``4.5m`` or ``1.2h``."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    return f"{seconds / 60:.1f}m" if seconds < 3600 else f"{seconds / 3600:.1f}h"


def _span(values: Sequence[int]) -> str:
    return str(values[0]) if min(values) == max(values) else f"{min(values)}-{max(values)}"


def table_rows(comparison: Comparison, columns: Sequence[str], plus_minus: str = "±") -> tuple[list[str], list[list[str]]]:
    """Header and rows of the group table: model, family, runs, steps, wall time, ``columns``."""
    header = ["model", "family", "runs", "steps", "wall time"] + list(columns)
    rows = []
    for group in family_sorted(comparison.groups):
        walls = [run.wall_s for run in group.runs]
        rows.append([group.label, group.family, str(len(group.runs)), _span([run.step for run in group.runs]),
                     format_duration(sum(walls) / len(walls))]
                    + [format_value(group.mean.get(c), group.std.get(c), plus_minus, c) for c in columns])
    return header, rows


def run_rows(comparison: Comparison) -> tuple[list[str], list[list[str]]]:
    """Header and rows of the per-run table (every run, its seed and source, headline values)."""
    header = ["run", "model", "family", "seed", "steps", "wall time", "source"] + comparison.headline
    rows = []
    for run in comparison.runs:
        values = run.values()
        rows.append([run.label, run.model, run.family, str(run.seed), str(run.step), format_duration(run.wall_s), run.source]
                    + [format_value(values.get(c), None, column=c) for c in comparison.headline])
    return header, rows


def format_text_table(comparison: Comparison) -> str:
    """The table ``infogan compare`` prints (aligned columns, ``+-`` for the spread)."""
    header, rows = table_rows(comparison, comparison.headline, plus_minus="+-")
    widths = [max(len(line[i]) for line in [header] + rows) for i in range(len(header))]
    lines = [protocol_statement(comparison), ""]
    lines.append("  ".join(cell.ljust(width) for cell, width in zip(header, widths)).rstrip())
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    return "\n".join(lines)


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    def escape(cell: str) -> str:
        return cell.replace("|", "\\|")

    lines = ["| " + " | ".join(escape(c) for c in header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(escape(c) for c in row) + " |" for row in rows]


def markdown_report(comparison: Comparison, figures: dict[str, Path], explorer: str | None = None) -> str:
    """``report.md``: protocol, group table, runs, every value, the explorer link (``explorer``: its
    file name, when written), figures (relative links), notes, versions."""
    lines = [f"# Comparison of {len(comparison.runs)} runs", "", f"Created {comparison.created}; seed {comparison.seed}.", "",
             f"**{protocol_statement(comparison)}**", "", "## Scores (mean ± std over seeds)", ""]
    lines += _markdown_table(*table_rows(comparison, comparison.headline))
    lines += ["", "## Runs", ""] + _markdown_table(*run_rows(comparison))
    lines += ["", "## Every value", ""] + _markdown_table(*table_rows(comparison, comparison.columns))
    if explorer:
        lines += ["", "## Explorer", "", f"[Open the code explorer]({explorer}): {EXPLORER_TEXT}"]
    lines += ["", "## Figures", ""] + [f"![{title}]({path.name})" for title, path in figures.items()]
    lines += ["", "## Notes", ""] + [f"- {note}" for note in comparison.notes or ["none"]]
    lines += ["", "## Versions", ""] + [f"- {name}: {version}" for name, version in comparison.versions.items()]
    return "\n".join(lines) + "\n"


def write_csv(comparison: Comparison, path: Path) -> Path:
    """``scores.csv`` (atomically): one row per run (run facts, group label, every ``metric.key`` column)."""
    labels = {id(run): group.label for group in comparison.groups for run in group.runs}
    facts = ["run", "label", "group", "model", "family", "seed", "step", "images_seen", "wall_s", "source", "protocol"]
    stream = io.StringIO(newline="")
    writer = csv.writer(stream)
    writer.writerow(facts + comparison.columns)
    for run in comparison.runs:
        values = run.values()
        writer.writerow([str(run.run.run_dir), run.label, labels[id(run)], run.model, run.family, run.seed, run.step,
                         run.images_seen, f"{run.wall_s:.3f}", run.source, comparison.protocol.name]
                        + ["" if values.get(c) is None else repr(values[c]) for c in comparison.columns])
    return atomic_write_text(path, stream.getvalue())


def scores_json(comparison: Comparison) -> dict[str, Any]:
    """``scores.json``: protocol, runs (with their full results), groups (mean/std), notes, versions."""
    return {
        "protocol": comparison.protocol.name,
        "comparable": comparison.protocol.comparable,
        "statement": protocol_statement(comparison),
        "sizes": comparison.protocol.sizes(),
        "seed": comparison.seed,
        "created": comparison.created,
        "metrics": comparison.metrics,
        "columns": comparison.columns,
        "headline": comparison.headline,
        "runs": [{**run.to_json(), "result": run.result} for run in comparison.runs],
        "groups": [group.to_json() for group in family_sorted(comparison.groups)],
        "notes": comparison.notes,
        "versions": comparison.versions,
    }


_STYLE = """body{font-family:sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #bbb;padding:4px 8px;text-align:left;font-size:13px}th{background:#eee}
.warning{color:#a00;font-weight:bold}.ok{color:#060}img{max-width:100%;border:1px solid #ddd;margin:6px 0}"""


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], css_class: str) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def html_report(comparison: Comparison, figures: dict[str, Path], explorer: str | None = None) -> str:
    """``report.html``: every table, the explorer link (``explorer``: its file name, when written),
    every figure (inlined as base64 PNG data URIs), note and version, in one file that needs
    nothing else to open."""
    statement_class = "ok" if comparison.protocol.comparable else "warning"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>infogan compare: {len(comparison.runs)} runs ({html.escape(comparison.protocol.name)})</title>",
        f"<style>{_STYLE}</style></head><body>",
        f"<h1>Comparison of {len(comparison.runs)} runs</h1>",
        f"<p>Created {html.escape(comparison.created)}; seed {comparison.seed}.</p>",
        f'<p class="{statement_class}" id="protocol">{html.escape(protocol_statement(comparison))}</p>',
        "<h2>Scores (mean ± std over seeds)</h2>", _html_table(*table_rows(comparison, comparison.headline), "scores"),
        "<h2>Runs</h2>", _html_table(*run_rows(comparison), "runs"),
        "<h2>Every value</h2>", _html_table(*table_rows(comparison, comparison.columns), "values"),
    ]
    if explorer:
        parts.append(explorer_section(explorer))
    parts.append("<h2>Figures</h2>")
    for title, path in figures.items():
        parts.append(f'<figure><img alt="{html.escape(title)}" src="{_data_uri(path)}"><figcaption>{html.escape(title)}</figcaption></figure>')
    parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{html.escape(n)}</li>" for n in comparison.notes or ["none"]) + "</ul>")
    parts.append("<h2>Versions</h2>" + _html_table(["library", "version"], [[k, v] for k, v in comparison.versions.items()], "versions"))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

