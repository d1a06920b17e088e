"""``infogan_kit.train(config)``: create or resume a run directory and train.

Run directory (default ``checkpoints/<model>-<dataset>-<YYYYmmdd-HHMMSS>/``)::

    config.json              the resolved config
    checkpoint-<step>.pt     the newest 3 checkpoints
    events.out.tfevents.*    TensorBoard
    stats.jsonl              one JSON object per log step
    samples/ traversals/     PNG grids every sample_every steps and at the end
    metrics.json             one result object per metric protocol
"""

from __future__ import annotations

import contextlib
import json
import time
from pathlib import Path
from typing import Any

from ..config import RunConfig, config_to_dict, validate_config
from ..devices import cuda_requested
from ..errors import ConfigError
from ..files import atomic_write_text
from .artifacts import RunArtifacts
from . import distributed
from ..rundir import lock_for_training
from .checkpoint import load_checkpoint
from .logger import RunLogger
from .loop import PeriodicTasks, Trainer

RESUMABLE_KEYS = {"train.steps", "train.time_budget_min", "train.log_every", "train.sample_every",
                  "train.checkpoint_every", "train.metrics_every", "train.keep_checkpoints", "train.device",
                  "train.threads", "data.path", "data.num_workers", "train.max_consecutive_skips"}
"""Config keys a resume may change; anything else must match the checkpoint's config."""


def default_run_dir(config: RunConfig, root: str | Path = "checkpoints") -> Path:
    """``checkpoints/<model>-<dataset>-<YYYYmmdd-HHMMSS>`` (a suffix is added if it exists)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{config.model.name}-{config.data.name}-{stamp}"
    candidate, counter = base, 1
    while candidate.exists():
        candidate = Path(f"{base}-{counter}")
        counter += 1
    return candidate


def _flat(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat = {}
    for key, value in values.items():
        if isinstance(value, dict) and key != "options":
            flat.update(_flat(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def check_resume_changes(saved: dict[str, Any], requested: dict[str, Any]) -> None:
    """Refuse a resume whose config differs from the checkpoint's outside :data:`RESUMABLE_KEYS`."""
    old, new = _flat(saved), _flat(requested)
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k) and k not in RESUMABLE_KEYS)
    if changed:
        raise ConfigError(f"cannot change {', '.join(changed)} when resuming (only {', '.join(sorted(RESUMABLE_KEYS))})")


def prepare_run_dir(out: str | Path | None, config: RunConfig, resume: bool) -> Path:
    """Create (or check) the run directory; an existing non-empty ``out`` needs ``resume``."""
    if out is None:
        run_dir = default_run_dir(config)
    else:
        run_dir = Path(out)
        if run_dir.exists() and not run_dir.is_dir():
            raise ConfigError(f"--out {run_dir} exists and is not a directory")
        if not resume and run_dir.is_dir() and any(run_dir.iterdir()):
            raise ConfigError(f"--out {run_dir} already exists and is not empty; use --resume {run_dir} to continue it")
    run_dir.mkdir(parents=True, exist_ok=True)
    return run_dir


def _write_config(run_dir: Path, config: RunConfig) -> None:
    atomic_write_text(run_dir / "config.json", json.dumps(config_to_dict(config), indent=2) + "\n", ConfigError)


def train(config: RunConfig | None = None, out: str | Path | None = None, resume: str | Path | None = None,
          final_metrics: bool = True, resume_state: dict[str, Any] | None = None) -> Any:
    """Train ``config`` into a new run directory (``out``) or continue ``resume``.

    Args:
        config: the run configuration (validated here; build it with
            :func:`infogan_kit.resolve_config`). When resuming it must equal the checkpoint's
            config except for :data:`RESUMABLE_KEYS`; None with ``resume``: the checkpoint's own.
        out: run directory for a new run (default: ``checkpoints/<model>-<dataset>-<time>``).
        resume: a run directory (or checkpoint file) to continue.
        final_metrics: evaluate fast-protocol metrics at the end (when the data has factors).
        resume_state: the checkpoint of ``resume`` when the caller has read it already (it is
            then not read again).

    Returns:
        a :class:`~infogan_kit.run.Run` over the finished run, with ``stop_reason`` set.
    """
    from ..run import Run

    if config is None and resume is None:
        raise ConfigError("train() needs a config (infogan_kit.resolve_config()) or a run to resume")
    context = distributed.from_environment()
    with contextlib.ExitStack() as cleanup:  # in reverse: the logger, the process group, the lock
        config, state, run_dir = _open_run(config, out, resume, resume_state, context, cleanup)
        trainer = Trainer(config, run_dir, resume_state=state, distributed=context)
        if context.is_main:
            _write_config(run_dir, config)
        logger = RunLogger(run_dir, config.train.steps, trainer.step, enabled=context.is_main)
        cleanup.callback(logger.close)
        artifacts = RunArtifacts(run_dir, logger)
        logger.message(
            f"run {run_dir}: {config.model.name} on {config.data.name}, device {trainer.device}, "
            f"precision {trainer.precision} ({trainer.precision_reason}), step {trainer.step}/{config.train.steps}"
        )
        reason = trainer.run(logger, PeriodicTasks(artifacts))
        checkpoint = trainer.save()
        if context.is_main:
            _finish_run(config, trainer, artifacts, logger, reason, checkpoint, run_dir, final_metrics)
    run = Run.from_trainer(trainer, checkpoint)
    run.stop_reason = reason
    return run


def _open_run(config: RunConfig | None, out: str | Path | None, resume: str | Path | None,
              resume_state: dict[str, Any] | None, context: Any,
              cleanup: contextlib.ExitStack) -> tuple[RunConfig, dict[str, Any] | None, Path]:
    """Lock the run directory (new or resumed), read the checkpoint of a resume once, check the
    config, start the process group; registers the lock's release and the group's shutdown with
    ``cleanup``. Returns ``(config, checkpoint state or None, run directory)``."""
    from ..recipes import config_from_dict

    state = None
    if resume is not None:
        cleanup.callback(lock_for_training(resume, context).release)  # one writer per run directory (rank 0)
        state = resume_state if resume_state is not None else load_checkpoint(resume)
        saved = config_from_dict(state["config"])
        config = config if config is not None else saved
        check_resume_changes(config_to_dict(saved), config_to_dict(config))
    validate_config(config)
    distributed.initialize(context, "cuda" if cuda_requested(config.train.device) else "cpu")
    cleanup.callback(distributed.shutdown)
    if resume is not None:
        resume_path = Path(resume)
        return config, state, resume_path if resume_path.is_dir() else resume_path.parent
    error, run_dir = None, None
    if context.is_main:
        try:
            run_dir = prepare_run_dir(out, config, resume=False)
        except ConfigError as problem:
            error = str(problem)
    error, run_dir = distributed.broadcast_object((error, run_dir), context)
    if error:
        raise ConfigError(error)
    cleanup.callback(lock_for_training(run_dir, context).release)
    return config, state, run_dir


def _finish_run(config: RunConfig, trainer: Trainer, artifacts: RunArtifacts, logger: RunLogger, reason: str,
                checkpoint: Path | None, run_dir: Path, final_metrics: bool) -> None:
    """Rank 0's end of a run: images, final fast metrics (unless interrupted), the closing message."""
    artifacts.write_images(trainer.model, trainer.step, trainer.dataset)
    if final_metrics and reason in ("completed", "time_budget"):  # an interrupted run exits promptly
        scores = artifacts.fast_metrics(trainer.model, trainer.dataset, trainer.step)
        hparams = {"model": config.model.name, "dataset": config.data.name, "preset": config.preset,
                   "batch_size": config.train.batch_size, "lr_g": config.optim.lr_g, "lr_d": config.optim.lr_d,
                   "precision": trainer.precision, "seed": config.train.seed}
        logger.hparams(hparams, scores)
    if reason == "signal":
        logger.message(f"interrupted: saved {checkpoint}; resume with: infogan train --resume {run_dir}")
    elif reason == "time_budget":
        logger.message(f"time budget spent at step {trainer.step}: saved {checkpoint}; continue with: infogan train --resume {run_dir}")
    else:
        logger.message(f"done: {trainer.step} steps, {trainer.wall_s:.0f} s; saved {checkpoint}")
