"""``infogan traverse RUN -o FILE.png``: one row per code, one column per value."""

from __future__ import annotations

import click

from infogan_kit.cli.options import truncation_option
from infogan_kit.run import load_run
from infogan_kit.viz import save_image, traversal_gif, traversal_image


def _parse_range(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        low, high = (float(part) for part in value.split(","))
    except ValueError:
        raise click.BadParameter(f"expected LOW,HIGH such as -1,1, got {value!r}") from None
    if not low < high:
        raise click.BadParameter(f"LOW must be below HIGH, got {value!r}")
    return low, high


@click.command("traverse")
@click.argument("run_path", metavar="RUN")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@click.option("--code", "codes", multiple=True, help="Code to traverse (repeatable; default: every code).")
@click.option("--columns", type=click.IntRange(min=2, max=64), default=10, show_default=True, help="Values per continuous code.")
@click.option("--range", "value_range", callback=_parse_range, default=None, help="LOW,HIGH of the sweep (default -1,1 for GAN codes, -2,2 for VAE latents).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the fixed latent (or the encoded image).")
@click.option("--gif", is_flag=True, help="Also write FILE.gif animating the sweep.")
@click.option("--mixing", is_flag=True, help="Write a style-mixing grid instead (style-based models): --columns sources B "
              "across the top, rows A1..A4 taking B's coarse (4x4-8x8) styles.")
@truncation_option
@click.option("--data-path", default=None, help="Override the run's recorded dataset file.")
@click.option("--device", default=None, help="auto, cpu or cuda.")
def traverse(run_path: str, output: str, codes: tuple[str, ...], columns: int, value_range: tuple[float, float] | None,
             seed: int, gif: bool, mixing: bool, data_path: str | None, device: str | None,
             truncation_psi: float | None = None) -> None:
    """Latent traversal grid of RUN: each row sweeps one code (the categories of a categorical
    code), everything else fixed; code names are drawn in the left margin. With --mixing, a
    style-mixing grid of a style-based model instead."""
    run = load_run(run_path, data_path=data_path, device=device)
    if truncation_psi is not None:
        run.set_truncation(truncation_psi)
    if mixing:
        rows = run.style_mixing_rows(columns, seed)
        path = save_image(traversal_image(rows), output)
        click.echo(f"wrote a style-mixing grid of {len(rows) - 1} x {columns} images to {path}")
        return
    rows = run.traversal(list(codes) or None, columns, value_range, seed)
    path = save_image(traversal_image(rows), output)
    click.echo(f"wrote a traversal of {len(rows)} codes x {max(len(i) for _, i in rows)} values to {path}")
    if gif:
        gif_path = path.with_suffix(".gif")
        traversal_gif(rows, gif_path)
        click.echo(f"wrote {gif_path}")
