"""``infogan train``: resolve a config (preset -> file -> options -> --set), then train."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from infogan_kit.config import (
    RunConfig,
    apply_overrides,
    config_to_dict,
    load_config_file,
    update_dataclass,
    validate_config,
)

DEFAULT_MODEL = "infogan-cr"


def _positive_int(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 0:
        raise click.BadParameter(f"must be >= 0, got {value}")
    return value


def _explicit_options(options: dict[str, Any]) -> dict[str, Any]:
    """The nested config values given explicitly on the command line."""
    mapping = {
        "steps": ("train", "steps"),
        "time_budget": ("train", "time_budget_min"),
        "batch_size": ("train", "batch_size"),
        "precision": ("train", "precision"),
        "seed": ("train", "seed"),
        "device": ("train", "device"),
        "data_path": ("data", "path"),
    }
    nested: dict[str, Any] = {}
    for option, (section, key) in mapping.items():
        if options.get(option) is not None:
            nested.setdefault(section, {})[key] = options[option]
    return nested


def resolve_config(
    model: str | None,
    dataset: str | None,
    preset: str | None,
    config_file: str | None,
    options: dict[str, Any],
    overrides: list[str],
) -> RunConfig:
    """Build the run config: the model's preset, then the file, the options and ``--set``."""
    from infogan_kit.recipes import get_recipe

    file_values = load_config_file(config_file) if config_file else {}
    file_model = (file_values.get("model") or {}).get("name") if isinstance(file_values.get("model"), dict) else None
    model_name = model or file_model or DEFAULT_MODEL
    if file_model and model and file_model != model:
        click.echo(f"note: --model {model} overrides model.name={file_model} of {config_file}", err=True)
    dataset_name = dataset or (file_values.get("data") or {}).get("name") or "dsprites"
    recipe = get_recipe(model_name)
    config = recipe.default_config(preset or file_values.get("preset") or "quick", dataset_name)
    if file_values:
        file_values = dict(file_values)
        if isinstance(file_values.get("model"), dict):
            file_values["model"] = {k: v for k, v in file_values["model"].items() if k != "name"}
        file_values.pop("preset", None)
        update_dataclass(config, file_values)
    update_dataclass(config, _explicit_options(options))
    config.data.name = dataset_name
    apply_overrides(config, overrides)
    return validate_config(config)


def resolve_resume_config(resume: str, options: dict[str, Any], overrides: list[str]) -> RunConfig:
    """The checkpoint's config with the explicitly given options and ``--set`` applied."""
    from infogan_kit.recipes import config_from_dict
    from infogan_kit.training.checkpoint import load_checkpoint

    state = load_checkpoint(resume)
    config = config_from_dict(state["config"])
    update_dataclass(config, _explicit_options(options))
    apply_overrides(config, overrides)
    return validate_config(config)


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
    options = {"steps": steps, "time_budget": time_budget, "batch_size": batch_size, "precision": precision,
               "seed": seed, "device": device, "data_path": data_path}
    if resume:
        if model or dataset or preset or config_file:
            raise click.UsageError("--resume continues a run with its own config; do not combine it with --model, --dataset, --preset or --config")
        if out and out != resume:
            raise click.UsageError("--out and --resume name different directories")
        config = resolve_resume_config(resume, options, list(overrides))
    else:
        config = resolve_config(model, dataset, preset, config_file, options, list(overrides))
    if dry_run:
        click.echo(json.dumps(config_to_dict(config), indent=2))
        return
    from infogan_kit.training.api import train as run_training

    run = run_training(config, out=out, resume=resume, final_metrics=not no_final_metrics)
    if os.environ.get("RANK", "0") == "0":
        click.echo(f"run directory: {run.run_dir}")
