"""Checkpoint files: atomic writes, safe loading, clear errors."""

from __future__ import annotations

import json
import os
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
    with pytest.raises(CheckpointError, match="disk died mid-write"):
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


# ---------------------------------------------------------------------------- which checkpoint a run means


def _damage(path: Path, how: str) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    else:  # flip one byte inside the first tensor's bytes (the zip structure stays valid)
        import zipfile

        with zipfile.ZipFile(path) as archive:
            info = next(i for i in archive.infolist() if "/data/" in i.filename)
        name_length, extra_length = int.from_bytes(data[info.header_offset + 26 : info.header_offset + 28], "little"), \
            int.from_bytes(data[info.header_offset + 28 : info.header_offset + 30], "little")
        offset = info.header_offset + 30 + name_length + extra_length + 4  # the local header's extra field differs
        data[offset] ^= 0xFF
        path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["truncate", "flip"])
@pytest.mark.parametrize("with_hash", [True, False])
def test_verify_detects_damage_without_unpickling(tmp_path: Path, how: str, with_hash: bool) -> None:
    path = tmp_path / "checkpoint-00000001.pt"
    if with_hash:
        ckpt.save_checkpoint(_state(1), tmp_path, 1, keep=3)
        import zipfile

        assert any(n.endswith(ckpt.INTEGRITY_MEMBER) for n in zipfile.ZipFile(path).namelist())
    else:  # a file written before the integrity hash existed: checked by its zip CRCs
        torch.save({"format": ckpt.FORMAT, "format_version": 1, "weights": torch.arange(64.0)}, path)
    assert ckpt.verify_checkpoint(path) is None
    _damage(path, how)
    assert ckpt.verify_checkpoint(path) is not None
    with pytest.raises(CheckpointError, match="corrupt"):
        ckpt.load_checkpoint(path)


def test_verify_does_not_unpickle(tmp_path: Path) -> None:
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "checkpoint-00000001.pt"
    torch.save({"format": ckpt.FORMAT, "format_version": 1, "payload": _Exploit()}, path)
    assert ckpt.verify_checkpoint(path) is None and not MARKER.exists()


def test_damaged_newest_is_skipped_with_one_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for step in (1, 2, 3):
        ckpt.save_checkpoint(_state(step), tmp_path, step, keep=3)
    _damage(tmp_path / "checkpoint-00000003.pt", "truncate")
    assert ckpt.select_checkpoint(tmp_path).name == "checkpoint-00000002.pt"
    assert ckpt.load_checkpoint(tmp_path)["step"] == 2
    warnings = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and "checkpoint-00000003.pt" in warnings[0]


def test_pruning_counts_only_intact_and_never_deletes_damaged(tmp_path: Path) -> None:
    for step in (1, 2, 3):
        ckpt.save_checkpoint(_state(step), tmp_path, step, keep=2)
    _damage(tmp_path / "checkpoint-00000003.pt", "flip")
    ckpt.save_checkpoint(_state(4), tmp_path, 4, keep=1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint-00000003.pt", "checkpoint-00000004.pt"]
    _damage(tmp_path / "checkpoint-00000004.pt", "truncate")
    with pytest.raises(CheckpointError, match="no intact checkpoint"):
        ckpt.load_checkpoint(tmp_path)
    ckpt.save_checkpoint(_state(4), tmp_path, 4, keep=1)  # a damaged file in the way is moved aside, not deleted
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint-00000003.pt", "checkpoint-00000004.pt", "checkpoint-00000004.pt.damaged"]
    assert ckpt.load_checkpoint(tmp_path)["step"] == 4


def test_resume_continues_from_the_intact_checkpoint(tmp_path: Path) -> None:
    from infogan_kit.cli import run as cli

    from ..conftest import tiny_config, train

    out = tmp_path / "run"
    train(tiny_config(steps=4, checkpoint_every=2), out=out, final_metrics=False)
    _damage(out / "checkpoint-00000004.pt", "truncate")
    assert cli(["train", "--resume", str(out), "--steps", "6", "--no-final-metrics"]) == 0
    assert ckpt.load_checkpoint(out)["step"] == 6
    assert (out / "checkpoint-00000004.pt.damaged").exists()  # kept for inspection
    rows = [json.loads(line)["step"] for line in (out / "stats.jsonl").read_text().splitlines()]
    assert rows == [2, 4, 6]  # the rows of the lost steps 3-4 were dropped on resume
