"""Files written through temporary files get ordinary permissions, not mkstemp's owner-only 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import torch

from infogan_kit.metrics.results import write_json_atomic
from infogan_kit.training.checkpoint import atomic_save


def test_atomic_writes_follow_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        json_path = write_json_atomic(tmp_path / "metrics.json", {"a": 1})
        atomic_save({"weights": torch.zeros(2)}, tmp_path / "checkpoint-00000001.pt")
        assert stat.S_IMODE(json_path.stat().st_mode) == 0o644
        assert stat.S_IMODE((tmp_path / "checkpoint-00000001.pt").stat().st_mode) == 0o644
        os.umask(0o077)
        assert stat.S_IMODE(write_json_atomic(tmp_path / "private.json", {}).stat().st_mode) == 0o600
    finally:
        os.umask(previous)
