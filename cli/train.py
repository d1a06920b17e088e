"""``infogan train``: resolve a config (``infogan_kit.resolve``: preset -> file -> options -> --set), then train."""

from __future__ import annotations

import json
import os

import click

from infogan_kit.config import config_to_dict
from infogan_kit.resolve import DEFAULT_MODEL

OPTION_KEYS = {
    "steps": "train.steps",
    "time_budget": "train.time_budget_min",
    "batch_size": "train.batch_size",
    "precision": "train.precision",
    "seed": "train.seed",
    "device": "train.device",
    "data_path": "data.path",
}
"""Each command-line option and the config key it sets."""


def _positive_int(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 0:
        raise click.BadParameter(f"must be >= 0, got {value}")
    return value


@click.command("train")
@click.option("--model", default=None, help=f"Model to train (default: {DEFAULT_MODEL}). See the README for the list.")
@click.option("--dataset", default=None, help="Dataset name (default: dsprites; `infogan datasets` lists them).")
@click.option("--data-path", default=None, help="The dataset's file or folder, for file-backed datasets.")
@click.option("--preset", default=None, help="Preset of the model: quick (CPU, ~15 min) or paper.")
@click.option("--steps", type=int, default=None, callback=_positive_int, help="Total training iterations (counting those before a resume).")
@click.option("--time-budget", type=float, default=None, help="Stop cleanly with a checkpoint after this many minutes.")
@click.option("--batch-size", type=int, default=None, help="Global batch size.")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]), default=None, help="Numeric precision (default auto: bf16 where supported).")
@click.option("--seed", type=int, default=None, help="Random seed.")
@click.option("--device", default=None, help="auto, cpu, cuda or cuda:N.")
@click.option("--out", default=None, type=click.Path(), help="Run directory (default checkpoints/<model>-<dataset>-<time>).")
@click.option("--resume", default=None, type=click.Path(), help="Continue this run directory (or checkpoint) exactly.")
@click.option("--config", "config_file", default=None, type=click.Path(), help="YAML/JSON file with config sections (model, data, train, optim).")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override a config key, e.g. --set optim.lr_g=2e-3 (repeatable).")
@click.option("--dry-run", is_flag=True, help="Print the resolved config as JSON and exit.")
@click.option("--no-final-metrics", is_flag=True, help="Skip the fast-protocol metrics at the end of the run.")
def train(
    model: str | None,
    dataset: str | None,
    data_path: str | None,
    preset: str | None,
    steps: int | None,
    time_budget: float | None,
    batch_size: int | None,
    precision: str | None,
    seed: int | None,
    device: str | None,
    out: str | None,
    resume: str | None,
    config_file: str | None,
    overrides: tuple[str, ...],
    dry_run: bool,
    no_final_metrics: bool,
) -> None:
    """Train a model; writes a run directory with checkpoints, TensorBoard events, stats.jsonl,
    sample and traversal grids and fast metrics.

    Ctrl-C or SIGTERM finishes the current step, saves a checkpoint and prints how to resume.
    """
    from infogan_kit.resolve import resolve_config, resolve_resume_config

    values = {"steps": steps, "time_budget": time_budget, "batch_size": batch_size, "precision": precision,
              "seed": seed, "device": device, "data_path": data_path}
    options = {OPTION_KEYS[name]: value for name, value in values.items()}
    state = None
    if resume:
        if model or dataset or preset or config_file:
            raise click.UsageError("--resume continues a run with its own config; do not combine it with --model, --dataset, --preset or --config")
        if out and out != resume:
            raise click.UsageError("--out and --resume name different directories")
        from infogan_kit.training.checkpoint import load_checkpoint

        state = load_checkpoint(resume)
        config = resolve_resume_config(state["config"], options, list(overrides))
    else:
        notes: list[str] = []
        config = resolve_config(model, dataset, preset, config_file, options, list(overrides), notes=notes)
        for note in notes:
            click.echo(f"note: {note}", err=True)
    if dry_run:
        click.echo(json.dumps(config_to_dict(config), indent=2))
        return
    from infogan_kit.training.api import train as run_training

    run = run_training(config, out=out, resume=resume, final_metrics=not no_final_metrics, resume_state=state)
    if os.environ.get("RANK", "0") == "0":
        click.echo(f"run directory: {run.run_dir}")
