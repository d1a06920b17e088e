"""Checkpoints: one file of tensors and plain containers, written atomically, loaded safely.

* Writes go to a temporary file in the same directory, are fsync'ed, then ``os.replace``d
  over the final name: a crash mid-write leaves the previous checkpoints intact and no
  partial ``checkpoint-*.pt``.
* Loads use ``torch.load(weights_only=True)``: a file crafted to run code on unpickling is
  refused (with a clear error), never executed.
* Names are ``checkpoint-<step, 8 digits>.pt``; the highest step is the one loaded.
"""

from __future__ import annotations

import os
import pickle
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..files import give_default_permissions

FORMAT = "infogan-kit-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^checkpoint-(\d{8})\.pt$")


def checkpoint_name(step: int) -> str:
    """``checkpoint-00001234.pt`` for step 1234."""
    return f"checkpoint-{step:08d}.pt"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint files of a run directory, sorted by step (oldest first)."""
    found = [(int(m.group(1)), p) for p in Path(run_dir).iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def atomic_save(state: dict[str, Any], path: Path) -> None:
    """Save ``state`` to ``path`` via temp file + fsync + ``os.replace``."""
    path = Path(path)
    handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as temp_file:
            torch.save(state, temp_file)
            temp_file.flush()
            os.fsync(temp_file.fileno())
        give_default_permissions(temp_name)
        os.replace(temp_name, path)
        try:
            directory = os.open(path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError:
            pass
    except BaseException:
        if os.path.exists(temp_name):
            os.unlink(temp_name)
        raise


def save_checkpoint(state: dict[str, Any], run_dir: Path, step: int, keep: int) -> Path:
    """Write ``checkpoint-<step>.pt`` into ``run_dir`` and keep only the newest ``keep`` files."""
    state = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    path = Path(run_dir) / checkpoint_name(step)
    atomic_save(state, path)
    for old in list_checkpoints(run_dir)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def resolve_checkpoint(path: str | Path) -> Path:
    """A run directory -> its highest-step checkpoint; a checkpoint file -> itself."""
    target = Path(path)
    if not target.exists():
        raise CheckpointError(f"no run directory or checkpoint at {target}")
    if target.is_dir():
        checkpoints = list_checkpoints(target)
        if not checkpoints:
            raise CheckpointError(f"{target} holds no checkpoint-*.pt file (is it a run directory?)")
        return checkpoints[-1]
    return target


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and check a checkpoint file (or a run directory's newest one).

    Raises:
        CheckpointError: missing, corrupt, foreign (not an infogan-kit checkpoint), from an
            incompatible format version, or containing objects other than tensors and plain
            containers (refused without running them).
    """
    file = resolve_checkpoint(path)
    if not zipfile.is_zipfile(file):
        raise CheckpointError(f"cannot read checkpoint {file}: corrupt or not a checkpoint (not a torch zip archive)")
    try:
        state = torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"refusing to load {file}: it contains objects other than tensors and plain containers "
            "(possibly crafted to run code; nothing was executed)"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CheckpointError(f"cannot read checkpoint {file}: corrupt or not a checkpoint ({first[:160]})") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{file} is not an infogan-kit checkpoint")
    if state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{file} has checkpoint format version {state.get('format_version')}; this infogan-kit reads version {FORMAT_VERSION}"
        )
    return state


INFERENCE_ONLY_DROPPED = ("optimizers", "scalers", "rng", "rng_per_rank")
"""What :func:`export_for_inference` removes: everything only a resume needs."""


def export_for_inference(source: str | Path, target_dir: str | Path) -> Path:
    """Write a small copy of a run for sampling, traversals and evaluation (not for resuming).

    The newest checkpoint of ``source`` is saved into ``target_dir`` without optimizer, scaler
    and RNG states (marked ``inference_only``); ``config.json`` and ``metrics.json`` are copied.

    Returns:
        the written checkpoint path.
    """
    import shutil

    state = load_checkpoint(source)
    checkpoint = resolve_checkpoint(source)
    run_dir = checkpoint.parent
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "metrics.json"):
        if (run_dir / name).exists():
            shutil.copyfile(run_dir / name, target / name)
    slim = {key: value for key, value in state.items() if key not in INFERENCE_ONLY_DROPPED and key not in ("format", "format_version")}
    slim["inference_only"] = True
    return save_checkpoint(slim, target, int(state["step"]), keep=1)
