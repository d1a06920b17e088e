"""`infogan train/sample/traverse` on a tiny run, and the bad-input contract of each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from infogan_kit.cli import cli, run as run_cli
from infogan_kit.training.checkpoint import list_checkpoints, load_checkpoint


def _error_line(capsys: pytest.CaptureFixture[str]) -> str:
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines, "no error output"
    return lines[-1]


def test_sample_writes_a_grid(tiny_run_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "samples.png"
    result = CliRunner().invoke(cli, ["sample", str(tiny_run_dir), "-n", "16", "-o", str(output), "--seed", "3"])
    assert result.exit_code == 0, result.output
    width, height = Image.open(output).size
    assert (width, height) == (4 * 66 + 2, 4 * 66 + 2)


def test_traverse_one_row_per_code_one_column_per_value(tiny_run_dir: Path, tmp_path: Path) -> None:
    output = tmp_path / "traversal.png"
    result = CliRunner().invoke(cli, ["traverse", str(tiny_run_dir), "-o", str(output), "--columns", "7", "--gif"])
    assert result.exit_code == 0, result.output
    width, height = Image.open(output).size
    assert height == 5 * 66 + 2  # cont5: five codes
    assert width == 56 + 7 * 66 + 2
    assert output.with_suffix(".gif").exists()
    single = tmp_path / "c2.png"
    assert CliRunner().invoke(cli, ["traverse", str(tiny_run_dir), "-o", str(single), "--code", "c2"]).exit_code == 0
    assert Image.open(single).size[1] == 66 + 2


def test_traverse_checkpoint_file_and_unknown_code(tiny_run_dir: Path, tmp_path: Path, capsys) -> None:
    checkpoint = list_checkpoints(tiny_run_dir)[-1]
    assert run_cli(["traverse", str(checkpoint), "-o", str(tmp_path / "t.png"), "--code", "c9"]) == 1
    assert _error_line(capsys).startswith("Error: unknown code(s) c9")
    assert run_cli(["traverse", str(checkpoint), "-o", str(tmp_path / "t.png"), "--range", "1,-1"]) == 2
    assert _error_line(capsys).startswith("Error:")


def test_missing_corrupt_and_foreign_runs(tmp_path: Path, capsys) -> None:
    assert run_cli(["sample", str(tmp_path / "nope"), "-o", str(tmp_path / "s.png")]) == 1
    assert _error_line(capsys) == f"Error: no run directory or checkpoint at {tmp_path / 'nope'}"
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "checkpoint-00000001.pt").write_bytes(b"not a zip file at all")
    assert run_cli(["traverse", str(corrupt), "-o", str(tmp_path / "t.png")]) == 1
    assert "corrupt or not a checkpoint" in _error_line(capsys)
    assert not (tmp_path / "t.png").exists()


def test_train_bad_input(tmp_path: Path, capsys) -> None:
    assert run_cli(["train", "--model", "nope", "--dry-run"]) == 1
    assert _error_line(capsys).startswith("Error: unknown model 'nope'; available: ")
    assert run_cli(["train", "--steps", "-5", "--dry-run"]) == 2
    assert _error_line(capsys).startswith("Error: Invalid value for '--steps'")
    assert run_cli(["train", "--set", "optim.lr_q=1", "--dry-run"]) == 1
    assert _error_line(capsys).startswith("Error: unknown config key 'optim.lr_q'")
    assert run_cli(["train", "--set", "train.batch_size=big", "--dry-run"]) == 1
    assert _error_line(capsys) == "Error: train.batch_size must be an integer, got 'big'"
    assert run_cli(["train", "--set", "model.noise_std=0", "--dry-run"]) == 1
    assert _error_line(capsys) == "Error: model.noise_std must be a positive number, got 0.0"
    assert run_cli(["train", "--config", str(tmp_path / "missing.yaml"), "--dry-run"]) == 1
    assert _error_line(capsys).startswith("Error: config file not found")
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    assert run_cli(["train", "--steps", "1", "--out", str(taken)]) == 1
    assert "already exists and is not empty" in _error_line(capsys)
    assert sorted(p.name for p in taken.iterdir()) == ["keep.txt"]


def test_config_file_and_set_overrides(tmp_path: Path) -> None:
    config_file = tmp_path / "run.yaml"
    config_file.write_text("model:\n  name: infogan\n  lambda_cont: 0.2\ntrain:\n  batch_size: 32\n")
    result = CliRunner().invoke(cli, ["train", "--config", str(config_file), "--batch-size", "48", "--set", "optim.lr_g=2e-3", "--dry-run"])
    assert result.exit_code == 0, result.output
    config = json.loads(result.output)
    assert config["model"]["name"] == "infogan" and config["model"]["lambda_cont"] == 0.2
    assert config["train"]["batch_size"] == 48 and config["optim"]["lr_g"] == 2e-3


def test_sigterm_finishes_the_step_and_saves(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    process = subprocess.Popen(
        [sys.executable, "-m", "infogan_kit", "train", "--model", "infogan", "--steps", "100000", "--batch-size", "8",
         "--precision", "fp32", "--device", "cpu", "--out", str(out), "--no-final-metrics", "--set", "train.log_every=1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("step"):
                break
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=120)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert f"resume with: infogan train --resume {out}" in stderr
    state = load_checkpoint(out)
    assert 0 < state["step"] < 100000
