"""``infogan compare RUN... [--out DIR] [--protocol dlib|fast]``: score runs under one protocol
and write a report (Markdown, CSV, JSON, bar charts, a traversal panel and one HTML file).

Stored results in each run's ``metrics.json`` are reused when they were made with the same
protocol (name and sample sizes), seed and checkpoint step; missing ones are evaluated and
merged into that file. Results of different protocols are never shown together.
"""

from __future__ import annotations

from pathlib import Path

import click

from infogan_kit.cli.options import check_metrics, check_protocol


@click.command("compare")
@click.argument("runs", nargs=-1, required=True, metavar="RUN...")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the report (default: checkpoints/compare-<time>/).")
@click.option("--protocol", default=None, callback=check_protocol,
              help="'dlib' (comparable with published numbers) or 'fast' (seconds; NOT comparable). "
                   "Default: the protocol every run already has results for, else dlib.")
@click.option("--metrics", "names", default="all", show_default=True, callback=check_metrics,
              help="'all' or a comma-separated list, e.g. mig,dci,factor_vae.")
@click.option("--seed", type=int, default=0, show_default=True, help="Evaluation seed; also the seed of every traversal.")
@click.option("--data-path", default=None, help="Override the runs' recorded dataset file.")
@click.option("--device", default=None, help="auto, cpu or cuda.")
@click.option("--explorer/--no-explorer", default=True, show_default=True,
              help="Also write explorer.html (infogan explore of the runs) and link it from report.html.")
@click.pass_context
def compare(ctx: click.Context, runs: tuple[str, ...], out: Path | None, protocol: str | None, names: str,
            seed: int, data_path: str | None, device: str | None, explorer: bool = True) -> None:
    """Compare trained RUNs (directories or checkpoints; a seeds directory stands for its
    seed-<S> runs) under one metric protocol.

    Prints a table (model, family, steps, wall time, every metric; runs of one model with
    different seeds as mean +- std) and writes report.md, report.html, scores.csv,
    scores.json, a bar chart per metric, a traversal panel and explorer.html into --out.
    """
    from infogan_kit.training.seeds import expand_run_dirs

    runs = tuple(expand_run_dirs(runs))  # a seeds directory stands for its seed-<S> runs
    if len(set(runs)) != len(runs):
        ctx.fail("each RUN may be given only once")
    from infogan_kit.compare import compare_runs, format_text_table, write_report

    comparison = compare_runs(runs, protocol=protocol, names=names, seed=seed, device=device, data_path=data_path)
    click.echo(format_text_table(comparison))
    notes_before = len(comparison.notes)
    for note in comparison.notes:
        click.echo(f"note: {note}")
    files = write_report(comparison, out, explorer=explorer)
    for note in comparison.notes[notes_before:]:
        click.echo(f"note: {note}")
    click.echo(f"\nreport written to {files['report.html'].parent} ({', '.join(sorted(files))})")
