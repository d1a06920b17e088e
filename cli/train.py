"""``infogan train``: resolve a config (``infogan_kit.resolve``: preset -> file -> options -> --set), then train."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

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
@click.option("--seeds", "seeds_text", default=None, metavar="LIST",
              help="Train one run per seed (e.g. 0-7 or 0,3,5) into --out/seed-<S>/, one after the other in this process; "
                   "--resume of such a directory continues every seed.")
@click.option("--select", "select_seeds", is_flag=True,
              help="With --seeds: rank the finished seeds (UDR, ModelCentrality; fast protocol) into --out/selection.json.")
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
    seeds_text: str | None = None,
    select_seeds: bool = False,
) -> None:
    """Train a model; writes a run directory with checkpoints, TensorBoard events, stats.jsonl,
    sample and traversal grids and fast metrics.

    Ctrl-C or SIGTERM finishes the current step, saves a checkpoint and prints how to resume.
    """
    from infogan_kit.resolve import resolve_config, resolve_resume_config
    from infogan_kit.training.seeds import seed_run_dirs

    values = {"steps": steps, "time_budget": time_budget, "batch_size": batch_size, "precision": precision,
              "seed": seed, "device": device, "data_path": data_path}
    options = {OPTION_KEYS[name]: value for name, value in values.items()}
    seeds = _check_seeds(seeds_text, seed, resume, select_seeds)
    state = None
    if resume:
        if model or dataset or preset or config_file:
            raise click.UsageError("--resume continues a run with its own config; do not combine it with --model, --dataset, --preset or --config")
        if out and out != resume:
            raise click.UsageError("--out and --resume name different directories")
        if seed_run_dirs(resume):
            _resume_seeds(resume, options, list(overrides), dry_run, not no_final_metrics)
            return
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
        if seeds:
            click.echo(f"seeds: {', '.join(map(str, seeds))}")
        return
    if seeds:
        _train_seeds(config, seeds, out, not no_final_metrics, select_seeds)
        return
    from infogan_kit.training.api import train as run_training

    run = run_training(config, out=out, resume=resume, final_metrics=not no_final_metrics, resume_state=state)
    if os.environ.get("RANK", "0") == "0":
        click.echo(f"run directory: {run.run_dir}")


def _check_seeds(text: str | None, seed: int | None, resume: str | None, select_seeds: bool) -> list[int]:
    """The parsed ``--seeds`` (empty without it); refuses the combinations that make no sense."""
    from infogan_kit.training.seeds import parse_seeds

    if text is None:
        if select_seeds:
            raise click.UsageError("--select ranks the runs of --seeds; give --seeds too")
        return []
    if seed is not None:
        raise click.UsageError("give --seeds or --seed, not both")
    if resume:
        raise click.UsageError("--seeds with --resume: resuming a seeds directory continues every seed; drop --seeds")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise click.UsageError("--seeds is not supported under torchrun (each process would train every seed)")
    seeds = parse_seeds(text)
    if select_seeds and len(seeds) < 2:
        raise click.UsageError("--select ranks seeds against each other: give at least two")
    return seeds


def _train_seeds(config: Any, seeds: list[int], out: str | None, final_metrics: bool, select_seeds: bool) -> None:
    from infogan_kit.training.api import default_run_dir
    from infogan_kit.training.seeds import train_seeds

    root = Path(out) if out else Path(f"{default_run_dir(config)}-seeds")
    runs = train_seeds(config, seeds, root, final_metrics=final_metrics)
    click.echo(f"seeds directory: {root} ({len(runs)} runs: {', '.join(str(run.run_dir.name) for run in runs)})")
    if select_seeds:
        _select(runs, root)


def _resume_seeds(folder: str, options: dict[str, Any], overrides: list[str], dry_run: bool, final_metrics: bool) -> None:
    from infogan_kit.training.seeds import resume_seeds, seed_run_dirs

    if dry_run:
        click.echo(f"would resume {len(seed_run_dirs(folder))} seeds of {folder}")
        return
    runs = resume_seeds(folder, options, overrides, final_metrics=final_metrics)
    click.echo(f"seeds directory: {folder} ({len(runs)} runs resumed)")


def _select(runs: list[Any], root: Path) -> None:
    """Rank ``runs`` (fast protocol, every method) into ``root/selection.json`` and print the ranking."""
    from infogan_kit.cli.select import format_ranking
    from infogan_kit.metrics import write_json_atomic
    from infogan_kit.run import load_run
    from infogan_kit.selection import select_runs
    from infogan_kit.versions import library_versions

    selection = select_runs([load_run(run.run_dir, device=run.device) for run in runs], protocol="fast")
    selection["versions"] = library_versions()
    click.echo(format_ranking(selection))
    write_json_atomic(root / "selection.json", selection)
    click.echo(f"ranking written to {root / 'selection.json'}")
