"""``infogan sample RUN -n 64 -o FILE.png``: a grid of samples from the EMA generator."""

from __future__ import annotations

import click

from infogan_kit.cli.options import truncation_option
from infogan_kit.run import load_run
from infogan_kit.viz import sample_grid, save_image


@click.command("sample")
@click.argument("run_path", metavar="RUN")
@click.option("-n", "--num", "num_images", type=click.IntRange(min=1, max=4096), default=64, show_default=True, help="Number of samples.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="PNG file to write.")
@click.option("--seed", type=int, default=0, show_default=True, help="Sampling seed.")
@click.option("--columns", type=click.IntRange(min=1), default=None, help="Images per row (default: square grid).")
@truncation_option
@click.option("--data-path", default=None, help="Override the run's recorded dataset file (VAEs sample via the data).")
@click.option("--device", default=None, help="auto, cpu or cuda.")
def sample(run_path: str, num_images: int, output: str, seed: int, columns: int | None, data_path: str | None, device: str | None,
           truncation_psi: float | None = None) -> None:
    """Write a grid of NUM samples of the run (a run directory or checkpoint file) to a PNG."""
    run = load_run(run_path, data_path=data_path, device=device)
    if truncation_psi is not None:
        run.set_truncation(truncation_psi)
    images = run.generate(num_images, seed=seed)
    path = save_image(sample_grid(images, columns), output)
    click.echo(f"wrote {len(images)} samples of {run.model_name} (step {run.step}) to {path}")
