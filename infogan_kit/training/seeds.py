"""Many seeds of one config: ``infogan train --seeds 0-7`` and ``infogan_kit.training.seeds.train_seeds``.

A seeds directory holds one ordinary run directory per seed (``seed-0/``, ``seed-1/``, ...).
Each seed is trained exactly as a single-seed run of that seed (the trainer seeds the global RNG
and owns its data and latent generators), so its networks, EMA and optimizer state are bit-equal
on the CPU to what ``infogan train --seed S`` writes. The seeds run one after the other in one
process (on a GPU they do not yet overlap). ``--resume DIR`` continues every seed; ``infogan
select DIR`` and ``infogan compare DIR`` take the directory as its runs (:func:`expand_run_dirs`).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, Sequence

from ..config import RunConfig
from ..errors import ConfigError

SEED_DIR = re.compile(r"^seed-(\d+)$")


def parse_seeds(text: str) -> list[int]:
    """``"0-7"``, ``"0,3,5"`` or ``"1-3,7"`` -> the seeds in the order given.

    Raises:
        ConfigError: an empty list or range, a malformed part, a negative or a duplicate seed.
    """
    seeds: list[int] = []
    for part in (piece.strip() for piece in str(text).split(",")):
        match = re.fullmatch(r"(\d+)(?:-(\d+))?", part)
        if not match:
            raise ConfigError(f"--seeds takes non-negative integers and ranges such as 0-7 or 0,3,5; got {part!r} in {text!r}")
        first, last = int(match.group(1)), int(match.group(2) or match.group(1))
        if last < first:
            raise ConfigError(f"--seeds range {part!r} is empty (write it low-high)")
        seeds.extend(range(first, last + 1))
    duplicates = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if duplicates:
        raise ConfigError(f"--seeds lists seed(s) {', '.join(map(str, duplicates))} more than once")
    return seeds


def seed_run_dirs(folder: str | Path) -> list[Path]:
    """The ``seed-<S>`` run directories of a seeds directory, by seed (empty when it is none)."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), path) for path in root.iterdir() if path.is_dir() and (m := SEED_DIR.match(path.name))]
    return [path for _, path in sorted(found)]


def expand_run_dirs(paths: Sequence[str | Path]) -> list[str]:
    """Each path as given, except a seeds directory, which becomes its seed run directories (sorted)."""
    expanded: list[str] = []
    for path in paths:
        members = seed_run_dirs(path)
        if members:
            expanded.extend(str(member) for member in members)
        else:
            expanded.append(str(path))
    return expanded


def train_seeds(config: RunConfig, seeds: Sequence[int], out: str | Path, final_metrics: bool = True) -> list[Any]:
    """Train ``config`` once per seed into ``out/seed-<S>/``; returns the runs (in seed order).

    Raises:
        ConfigError: no seed, or ``out`` is an existing non-empty directory (resume it instead).
    """
    from .api import train

    if not seeds:
        raise ConfigError("--seeds selects no seed")
    root = Path(out)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise ConfigError(f"--out {root} already exists and is not empty; use --resume {root} to continue its seeds")
    runs = []
    for seed in seeds:
        seeded = copy.deepcopy(config)
        seeded.train.seed = int(seed)
        runs.append(train(seeded, out=root / f"seed-{seed}", final_metrics=final_metrics))
    return runs


def resume_seeds(folder: str | Path, options: dict[str, Any] | None = None, overrides: Sequence[str] = (),
                 final_metrics: bool = True) -> list[Any]:
    """Continue every seed of a seeds directory (with the same options and overrides each).

    Raises:
        ConfigError: ``folder`` holds no ``seed-<S>`` run directory.
    """
    from ..resolve import resolve_resume_config
    from .api import train
    from .checkpoint import load_checkpoint

    members = seed_run_dirs(folder)
    if not members:
        raise ConfigError(f"{folder} holds no seed-<S> run directories (is it a seeds directory?)")
    runs = []
    for member in members:
        state = load_checkpoint(member)
        config = resolve_resume_config(state["config"], options, overrides)
        runs.append(train(config, resume=member, final_metrics=final_metrics, resume_state=state))
    return runs
