"""Checkpoints: one file of tensors and plain containers, written atomically, loaded safely.

* Writes go to a temporary file in the same directory, are fsync'ed, then ``os.replace``d
  over the final name: a crash mid-write leaves the previous checkpoints intact and no
  partial ``checkpoint-*.pt``.
* Loads use ``torch.load(weights_only=True)``: a file crafted to run code on unpickling is
  refused (with a clear error), never executed.
* Names are ``checkpoint-<step, 8 digits>.pt``.
* Every checkpoint carries an integrity hash (a SHA-256 over its zip members, stored as the
  member ``<archive>/infogan-integrity.json``); files written before it existed are checked
  by their zip CRCs. Either check reads bytes only: nothing is unpickled.
* Which checkpoint a run directory means (:func:`select_checkpoint`, used by every command):
  the newest one that verifies. A damaged newer one is skipped with a one-line warning;
  pruning counts only intact checkpoints and never deletes a damaged one.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import re
import sys
import zipfile
import zlib
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..files import atomic_write

FORMAT = "infogan-kit-checkpoint"
FORMAT_VERSION = 1
_NAME = re.compile(r"^checkpoint-(\d{8})\.pt$")


def checkpoint_name(step: int) -> str:
    """``checkpoint-00001234.pt`` for step 1234."""
    return f"checkpoint-{step:08d}.pt"


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Checkpoint files of a run directory, sorted by step (oldest first), intact or not."""
    found = [(int(m.group(1)), p) for p in Path(run_dir).iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


INTEGRITY_MEMBER = "infogan-integrity.json"
"""Name of the zip member (inside the archive's top folder) that holds the integrity hash."""

_verified: dict[tuple, str | None] = {}  # (path, inode, size, mtime) -> None (intact) or the damage
_warned: set[tuple] = set()


def _members_digest(archive: zipfile.ZipFile) -> str:
    """SHA-256 over every member's name and bytes except the integrity member (reading them
    also checks each member's CRC)."""
    digest = hashlib.sha256()
    for info in sorted(archive.infolist(), key=lambda item: item.filename):
        if info.filename.rsplit("/", 1)[-1] == INTEGRITY_MEMBER:
            continue
        digest.update(f"{info.filename}\0{info.file_size}\0".encode())
        with archive.open(info) as member:
            while chunk := member.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def _add_integrity(path: str | Path) -> str:
    """Append the integrity member to the freshly written torch archive at ``path``."""
    with zipfile.ZipFile(path, "a") as archive:
        top = archive.infolist()[0].filename.split("/", 1)[0]
        digest = _members_digest(archive)
        archive.writestr(f"{top}/{INTEGRITY_MEMBER}", json.dumps({"algorithm": "sha256-members-v1", "sha256": digest}))
    return digest


def _cache_key(path: Path) -> tuple | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)


def _settled(key: tuple) -> bool:
    """Whether a file last changed long enough ago that a same-size rewrite would show in its
    timestamps (coarse file-system clocks): only such results are cached."""
    import time

    return time.time_ns() - key[4] > 2_000_000_000


def verify_checkpoint(path: str | Path) -> str | None:
    """Check that a checkpoint file reads completely, without unpickling anything.

    Files with an integrity member are checked against its hash; older files by their zip CRCs.

    Returns:
        None when the file is intact, else a short description of the damage.
    """
    path = Path(path)
    key = _cache_key(path)
    if key is None:
        return "missing or unreadable"
    if key in _verified:
        return _verified[key]
    try:
        if not zipfile.is_zipfile(path):
            problem: str | None = "not a complete zip archive (truncated?)"
        else:
            with zipfile.ZipFile(path) as archive:
                stored = [info for info in archive.infolist() if info.filename.rsplit("/", 1)[-1] == INTEGRITY_MEMBER]
                if stored:
                    expected = json.loads(archive.read(stored[-1])).get("sha256")
                    problem = None if _members_digest(archive) == expected else "integrity hash mismatch"
                else:
                    bad = archive.testzip()
                    problem = None if bad is None else f"bad CRC in member {bad}"
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, KeyError, NotImplementedError, RuntimeError) as error:
        problem = (str(error).splitlines()[0] if str(error) else type(error).__name__)[:120]
    if _settled(key):
        _verified[key] = problem
    return problem


def _warn_once(path: Path, text: str) -> None:
    key = _cache_key(path)
    if key not in _warned:
        _warned.add(key)
        print(text, file=sys.stderr, flush=True)


def select_checkpoint(run_dir: str | Path) -> Path:
    """The checkpoint a run directory means: the newest one that verifies.

    Damaged newer files are skipped with a one-line warning each (never deleted).

    Raises:
        CheckpointError: no checkpoint, or none of them is intact.
    """
    run_dir = Path(run_dir)
    candidates = list_checkpoints(run_dir)
    if not candidates:
        raise CheckpointError(f"{run_dir} holds no checkpoint-*.pt file (is it a run directory?)")
    damaged = []
    for path in reversed(candidates):
        problem = verify_checkpoint(path)
        if problem is None:
            for bad, why in damaged:
                _warn_once(bad, f"warning: skipping damaged checkpoint {bad} ({why}); using {path.name}")
            return path
        damaged.append((path, problem))
    listed = "; ".join(f"{path.name}: {why}" for path, why in damaged)
    raise CheckpointError(f"no intact checkpoint in {run_dir}: corrupt or not a checkpoint ({listed})")


def atomic_save(state: dict[str, Any], path: Path) -> None:
    """Save ``state`` to ``path`` atomically (:func:`~infogan_kit.files.atomic_write`) with its integrity hash.

    Raises:
        CheckpointError: the file cannot be written (the previous checkpoints are intact).
    """

    def write(temporary: str) -> None:
        with open(temporary, "wb") as stream:
            torch.save(state, stream)
        _add_integrity(temporary)

    try:
        atomic_write(path, write, CheckpointError, what=f"checkpoint {path}")
    except CheckpointError as error:
        raise CheckpointError(f"{error} (the previous checkpoints are intact)") from None


def save_checkpoint(state: dict[str, Any], run_dir: Path, step: int, keep: int) -> Path:
    """Write ``checkpoint-<step>.pt`` into ``run_dir`` and keep only the newest ``keep`` intact files.

    Damaged checkpoints are neither counted nor deleted; one in the way of the new file is
    renamed to ``<name>.damaged`` first.
    """
    state = {"format": FORMAT, "format_version": FORMAT_VERSION, **state}
    path = Path(run_dir) / checkpoint_name(step)
    if path.exists() and verify_checkpoint(path) is not None:
        aside = path.with_name(f"{path.name}.damaged")
        os.replace(path, aside)
        print(f"warning: damaged checkpoint {path} moved to {aside.name} before writing step {step}", file=sys.stderr, flush=True)
    atomic_save(state, path)
    intact = [old for old in list_checkpoints(run_dir) if verify_checkpoint(old) is None]
    for old in intact[: -max(keep, 1)]:
        old.unlink(missing_ok=True)
    return path


def resolve_checkpoint(path: str | Path) -> Path:
    """A run directory -> its newest intact checkpoint (:func:`select_checkpoint`); a file -> itself."""
    target = Path(path)
    if not target.exists():
        raise CheckpointError(f"no run directory or checkpoint at {target}")
    if target.is_dir():
        return select_checkpoint(target)
    return target


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load and check a checkpoint file (or a run directory's newest one).

    Raises:
        CheckpointError: missing, corrupt, foreign (not an infogan-kit checkpoint), from an
            incompatible format version, or containing objects other than tensors and plain
            containers (refused without running them).
    """
    for attempt in (1, 2):  # a run directory's file may be pruned between choosing and opening it
        file = resolve_checkpoint(path)
        problem = verify_checkpoint(file)
        if problem is None or not Path(path).is_dir() or file.exists() or attempt == 2:
            break
    if problem is not None:
        raise CheckpointError(f"cannot read checkpoint {file}: corrupt or not a checkpoint ({problem})")
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

    checkpoint = resolve_checkpoint(source)
    state = load_checkpoint(checkpoint)
    run_dir = checkpoint.parent
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "metrics.json"):
        if (run_dir / name).exists():
            shutil.copyfile(run_dir / name, target / name)
    slim = {key: value for key, value in state.items() if key not in INFERENCE_ONLY_DROPPED and key not in ("format", "format_version")}
    slim["inference_only"] = True
    return save_checkpoint(slim, target, int(state["step"]), keep=1)
