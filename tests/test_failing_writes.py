"""Writes that fail (full disk, no permission, a read-only directory) end with one clear error,
leave the previous file intact and no partial file; training stops resumable."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
import torch

from infogan_kit.cli import run as cli
from infogan_kit.errors import CheckpointError, MetricError
from infogan_kit.metrics import results
from infogan_kit.training import checkpoint as ckpt

from .test_rundir import error_lines, read_only_dir, run_unprivileged, snapshot  # noqa: F401 (fixture)

ERRNOS = [errno.ENOSPC, errno.EACCES]


def _failing(code: int, real=None, after: int = 0):
    """A torch.save / json.dump stand-in that writes a few bytes, then fails with ``code``
    (the first ``after`` calls go through to ``real``)."""
    calls = {"n": 0}

    def write(obj, stream, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] <= after:
            return real(obj, stream, *args, **kwargs)
        stream.write(b"PK\x03\x04" if "b" in getattr(stream, "mode", "b") else "{\"half")
        raise OSError(code, __import__("os").strerror(code))

    return write


@pytest.mark.parametrize("code", ERRNOS)
def test_checkpoint_write_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    ckpt.save_checkpoint({"step": 1, "w": torch.ones(2)}, tmp_path, 1, keep=3)
    before = snapshot(tmp_path)
    monkeypatch.setattr(ckpt.torch, "save", _failing(code))
    with pytest.raises(CheckpointError, match="cannot write checkpoint"):
        ckpt.save_checkpoint({"step": 2, "w": torch.ones(2)}, tmp_path, 2, keep=3)
    assert snapshot(tmp_path) == before  # previous checkpoint intact, no partial or temporary file


@pytest.mark.parametrize("code", ERRNOS)
def test_metrics_write_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int) -> None:
    path = tmp_path / "metrics.json"
    results.merge_into_metrics_file(path, {"protocol": "dlib", "metrics": {"mig": {"score": 0.1}}})
    before = path.read_bytes()
    monkeypatch.setattr(results.json, "dump", _failing(code))
    with pytest.raises(MetricError, match="cannot write"):
        results.merge_into_metrics_file(path, {"protocol": "fast", "metrics": {}})
    with pytest.raises(MetricError, match="cannot write"):
        results.write_json_atomic(tmp_path / "scores.json", {"a": 1})  # a compare report's / --json file
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]


def test_training_stops_cleanly_and_resumes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    args = ["train", "--model", "infogan", "--steps", "6", "--batch-size", "16", "--precision", "fp32", "--device", "cpu",
            "--no-final-metrics", "--set", "train.log_every=2", "--set", "train.sample_every=0",
            "--set", "train.checkpoint_every=2", "--set", "data.num_workers=0"]
    monkeypatch.setattr(ckpt.torch, "save", _failing(errno.ENOSPC, real=torch.save, after=1))  # step 2 saves, step 4 fails
    assert cli([*args, "--out", str(out)]) == 1
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "cannot write checkpoint" in errors[0] and "No space left" in errors[0]
    assert [p.name for p in ckpt.list_checkpoints(out)] == ["checkpoint-00000002.pt"] and not list(out.glob(".*.tmp"))
    monkeypatch.undo()
    assert cli(["train", "--resume", str(out)]) == 0
    assert ckpt.load_checkpoint(out)["step"] == 6
    assert [json.loads(line)["step"] for line in (out / "stats.jsonl").read_text().splitlines()] == [2, 4, 6]


def test_real_read_only_directory(read_only_dir: Path) -> None:
    ckpt.save_checkpoint({"step": 1}, read_only_dir, 1, keep=3)
    (read_only_dir / "metrics.json").write_text("{}\n")
    before = snapshot(read_only_dir)
    read_only_dir.chmod(0o555)
    done = run_unprivileged(
        "import sys, torch\n"
        "from infogan_kit.errors import InfoganError\n"
        "from infogan_kit.training.checkpoint import save_checkpoint\n"
        "from infogan_kit.metrics.results import write_json_atomic\n"
        "# drop\n"
        "for attempt in (lambda: save_checkpoint({'step': 2}, sys.argv[1], 2, keep=3),\n"
        "                lambda: write_json_atomic(sys.argv[1] + '/metrics.json', {'a': 1})):\n"
        "    try:\n"
        "        attempt(); print('written')\n"
        "    except InfoganError as error:\n"
        "        print('Error:', error)\n", str(read_only_dir))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("Error: cannot write") for line in lines), done.stdout
    assert snapshot(read_only_dir) == before


WRITERS = {
    "codes file": lambda run, out: ["evaluate", str(run), "--protocol", "fast", "--metrics", "mig",
                                    "--save-codes", str(out / "target"), "--codes-size", "64"],
    "compare report": lambda run, out: ["compare", str(run), "--protocol", "fast", "--metrics", "mig", "--no-explorer",
                                        "--out", str(out)],
    "explorer page": lambda run, out: ["explore", str(run), "-o", str(out / "target"), "--bases", "1", "--columns", "3",
                                       "--mi-samples", "100"],
}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_full_disk_under_every_writer(writer: str, tiny_run_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """A codes file, a compare report and an explorer page that cannot be written (the disk fills
    at the rename): one Error: line, the previous file intact, no partial or temporary file."""
    import shutil

    from infogan_kit import files

    run = tmp_path / "run"
    shutil.copytree(tiny_run_dir, run)
    out = tmp_path / "out"
    out.mkdir()
    target = out / ("report.html" if writer == "compare report" else "target")
    target.write_text("old")
    args = WRITERS[writer](run, out)

    def full_disk(source, destination):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files.os, "replace", full_disk)
    assert cli(args) == 1
    errors = error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and "No space left" in errors[0], errors
    assert target.read_text() == "old"
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
