"""Checkpoint files: atomic writes, safe loading, clear errors."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from infogan_kit.errors import CheckpointError
from infogan_kit.training import checkpoint as ckpt


def _state(value: float) -> dict:
    return {"weights": torch.full((3,), value), "step": int(value)}


def test_save_keeps_newest_and_loads_highest(tmp_path: Path) -> None:
    for step in (1, 2, 3, 4):
        ckpt.save_checkpoint(_state(step), tmp_path, step, keep=3)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == [
        "checkpoint-00000002.pt", "checkpoint-00000003.pt", "checkpoint-00000004.pt"]
    assert ckpt.load_checkpoint(tmp_path)["step"] == 4


def test_crash_mid_write_leaves_previous_checkpoint_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ckpt.save_checkpoint(_state(1), tmp_path, 1, keep=3)
    real_save = torch.save

    def crashing_save(obj, file, *args, **kwargs):
        file.write(b"PK\x03\x04 partial bytes")  # some bytes reach the temp file...
        raise OSError("disk died mid-write")  # ...then the process 'crashes'

    monkeypatch.setattr(torch, "save", crashing_save)
    with pytest.raises(OSError):
        ckpt.save_checkpoint(_state(2), tmp_path, 2, keep=3)
    monkeypatch.setattr(torch, "save", real_save)
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint-00000001.pt"]  # no partial file, no temp
    assert ckpt.load_checkpoint(tmp_path)["step"] == 1


class _Exploit:
    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


MARKER = Path("/tmp/infogan-kit-test-exploit-marker")


def test_crafted_checkpoint_is_refused_without_running(tmp_path: Path) -> None:
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "checkpoint-00000001.pt"
    torch.save({"format": ckpt.FORMAT, "format_version": 1, "payload": _Exploit()}, path)
    with pytest.raises(CheckpointError, match="refusing to load"):
        ckpt.load_checkpoint(path)
    assert not MARKER.exists()


def test_corrupt_foreign_and_missing(tmp_path: Path) -> None:
    corrupt = tmp_path / "checkpoint-00000001.pt"
    corrupt.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupt"):
        ckpt.load_checkpoint(corrupt)
    foreign = tmp_path / "foreign.pt"
    torch.save({"state_dict": {"w": torch.ones(1)}}, foreign)
    with pytest.raises(CheckpointError, match="not an infogan-kit checkpoint"):
        ckpt.load_checkpoint(foreign)
    future = tmp_path / "future.pt"
    torch.save({"format": ckpt.FORMAT, "format_version": 99}, future)
    with pytest.raises(CheckpointError, match="format version 99"):
        ckpt.load_checkpoint(future)
    with pytest.raises(CheckpointError, match="no run directory"):
        ckpt.load_checkpoint(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CheckpointError, match="holds no checkpoint"):
        ckpt.load_checkpoint(empty)


def test_export_for_inference_is_small_loadable_and_not_resumable(tiny_run_dir: Path, tmp_path: Path) -> None:
    from infogan_kit.errors import InfoganError
    from infogan_kit.run import load_run
    from infogan_kit.training.api import train

    from ..conftest import tiny_config

    exported = ckpt.export_for_inference(tiny_run_dir, tmp_path / "slim")
    full = ckpt.list_checkpoints(tiny_run_dir)[-1]
    assert exported.stat().st_size < 0.6 * full.stat().st_size
    assert (tmp_path / "slim" / "config.json").exists() and (tmp_path / "slim" / "metrics.json").exists()
    images = torch.rand(8, 1, 64, 64)
    assert torch.equal(load_run(tmp_path / "slim").represent(images), load_run(tiny_run_dir).represent(images))
    with pytest.raises(InfoganError, match="inference only"):
        train(tiny_config(steps=6), resume=tmp_path / "slim")
