"""``infogan explore RUN [RUN ...] -o explorer.html``: one self-contained HTML page with a slider
per code, base samples, a pair grid, the code-vs-factor MI/H heatmap and the stored scores."""

from __future__ import annotations

import click


def parse_pair(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, str] | None:
    """``A,B`` -> ``("A", "B")`` (None passes through)."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",")]
    if len(names) != 2 or not all(names):
        raise click.BadParameter(f"expected two code names separated by a comma (e.g. z1,z2), got {value!r}", ctx=ctx, param=param)
    return names[0], names[1]


@click.command("explore")
@click.argument("runs", nargs=-1, required=True, metavar="RUN...")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="HTML file to write.")
@click.option("--bases", type=click.IntRange(1, 16), default=4, show_default=True, help="Base samples to choose from.")
@click.option("--columns", type=click.IntRange(3, 21), default=11, show_default=True,
              help="Slider positions of a continuous code (the pair grid is COLUMNS x COLUMNS).")
@click.option("--pair", default=None, callback=parse_pair,
              help="The two codes of the pair grid, e.g. z1,z3 (default: per run, the first two codes matched to different factors).")
@click.option("--mi-samples", type=click.IntRange(min=100), default=2000, show_default=True,
              help="Dataset images of the code-vs-factor MI/H matrix.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the dataset images and base samples.")
@click.option("--data-path", default=None, help="Override the runs' recorded dataset file.")
@click.option("--device", default=None, help="auto, cpu or cuda (the batch size follows it and is recorded in the page).")
@click.pass_context
def explore(ctx: click.Context, runs: tuple[str, ...], output: str, bases: int, columns: int, pair: tuple[str, str] | None,
            mi_samples: int, seed: int, data_path: str | None, device: str | None) -> None:
    """Write an interactive page of one or more RUNs (directories or checkpoints) of one dataset.

    Runs are shown side by side, their sliders paired by the ground-truth factor each code
    matches best. The page embeds every frame and opens from file:// without a network.
    """
    if len(set(runs)) != len(runs):
        ctx.fail("each RUN may be given only once")
    from infogan_kit.run import load_run
    from infogan_kit.viz.explorer import check_writable, write_explorer

    check_writable(output)
    loaded = [load_run(path, data_path=data_path, device=device) for path in runs]
    path = write_explorer(loaded, output, bases=bases, columns=columns, pair=pair, mi_samples=mi_samples, seed=seed)
    click.echo(f"wrote the explorer of {len(loaded)} run(s) to {path} ({path.stat().st_size / 2**20:.2f} MB)")
