"""Crash consistency: real training processes killed with SIGKILL at random moments, resumed after each.

The kill times come from a seed printed at the start (set ``INFOGAN_CRASH_SEED`` to replay a run).
Every other kill waits for a checkpoint's temporary file to appear, so some land mid-write.
After every kill: every checkpoint on disk is intact, the newest one never goes back, the
resume succeeds, ``stats.jsonl`` holds whole lines with strictly increasing steps, and a planted
leftover temporary file is gone once the next writer holds the directory. At the end the
weights equal those of an uninterrupted run of the same length (exact resume).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from infogan_kit.training import checkpoint as ckpt
from infogan_kit.training.api import train

TRAIN_ARGS = ["--model", "infogan", "--dataset", "dsprites", "--preset", "quick", "--batch-size", "16", "--precision", "fp32",
              "--device", "cpu", "--no-final-metrics", "--set", "train.log_every=2", "--set", "train.sample_every=0",
              "--set", "train.checkpoint_every=1", "--set", "train.keep_checkpoints=2", "--set", "data.num_workers=0",
              "--set", "train.threads=1"]


def _start(run_dir: Path, steps: int, log: Path, first: bool) -> subprocess.Popen:
    args = ["--out", str(run_dir), "--steps", str(steps), *TRAIN_ARGS] if first else ["--resume", str(run_dir)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "infogan_kit", "train", *args], stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"), env=env)


def _wait_for(condition, process: subprocess.Popen, timeout: float = 60.0) -> bool:
    """Poll ``condition`` until true (True) or the process ended (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.005)
    raise AssertionError("training did not get going in time")


def _check_stats(run_dir: Path) -> None:
    path = run_dir / "stats.jsonl"
    if not path.exists():
        return
    text = path.read_text()
    whole = text.split("\n")[:-1]  # a killed writer may leave a last line without its newline
    steps = [json.loads(line)["step"] for line in whole]
    assert steps == sorted(set(steps)), f"stats.jsonl steps not strictly increasing: {steps}"


def _intact_steps(run_dir: Path) -> list[int]:
    files = ckpt.list_checkpoints(run_dir)
    assert all(ckpt.verify_checkpoint(path) is None for path in files), "a damaged checkpoint appeared"
    return [int(path.name[11:19]) for path in files]


def _weights(path: Path) -> dict[str, torch.Tensor]:
    state = ckpt.load_checkpoint(path)
    return {f"{group}.{net}.{key}": value for group in ("networks", "ema") for net, values in state[group].items()
            for key, value in values.items()}


def _crash_and_resume(tmp_path: Path, kills: int, steps: int, budget_s: float) -> None:
    seed = int(os.environ.get("INFOGAN_CRASH_SEED", random.SystemRandom().randrange(2**31)))
    print(f"crash-consistency seed: {seed} (replay with INFOGAN_CRASH_SEED={seed})")
    rng = random.Random(seed)
    run_dir = tmp_path / "run"
    started = time.monotonic()
    done, last_step, attempt = 0, 0, 0
    while done < kills:
        attempt += 1
        log = tmp_path / f"attempt-{attempt}.log"
        planted = run_dir / f".checkpoint-{99999999 - attempt:08d}.pt.planted.tmp"
        if attempt > 1:
            planted.write_bytes(b"PK\x03\x04 leftover of a killed writer")
        process = _start(run_dir, steps, log, first=attempt == 1)
        going = _wait_for(lambda: "precision" in log.read_text(), process)  # lock held, logger open
        assert going or process.returncode == 0, log.read_text()
        assert not planted.exists(), "the next writer must remove stale temporary files"
        if attempt == 1:  # a run killed before its first checkpoint has nothing to resume
            _wait_for(lambda: bool(ckpt.list_checkpoints(run_dir)), process)
        if attempt % 2:
            time.sleep(rng.uniform(0.0, 0.6))
        else:  # right while a checkpoint is being written
            time.sleep(rng.uniform(0.0, 0.3))
            _wait_for(lambda: any(run_dir.glob(".checkpoint-*.tmp")), process)
        if process.poll() is not None:
            assert process.returncode == 0, log.read_text()
            break  # finished before the kill
        process.send_signal(signal.SIGKILL)
        process.wait()
        done += 1
        _check_stats(run_dir)
        intact = _intact_steps(run_dir)
        assert intact and intact[-1] >= last_step, f"newest checkpoint went back: {intact} after {last_step}"
        last_step = intact[-1]
    assert done >= kills, f"only {done} kills: the run finished too early (seed {seed})"
    assert time.monotonic() - started < budget_s, f"{done} kills took {time.monotonic() - started:.0f} s"
    final = subprocess.run([sys.executable, "-m", "infogan_kit", "train", "--resume", str(run_dir)], capture_output=True,
                           text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert final.returncode == 0, final.stderr
    _check_stats(run_dir)
    assert [json.loads(line)["step"] for line in (run_dir / "stats.jsonl").read_text().splitlines()] == list(range(2, steps + 1, 2))
    assert not list(run_dir.glob(".*.tmp"))
    from infogan_kit.recipes import config_from_dict

    config = config_from_dict(json.loads((run_dir / "config.json").read_text()))
    config.train.checkpoint_every = 0
    straight = train(config, out=tmp_path / "straight", final_metrics=False)
    a, b = _weights(straight.checkpoint), _weights(run_dir / ckpt.checkpoint_name(steps))
    assert a.keys() == b.keys() and all(torch.equal(a[key], b[key]) for key in a), "resumed weights differ from a straight run"


def test_sigkill_at_random_moments_then_resume(tmp_path: Path) -> None:
    _crash_and_resume(tmp_path, kills=4, steps=30, budget_s=45)


@pytest.mark.slow
def test_sigkill_many_times_then_resume(tmp_path: Path) -> None:
    _crash_and_resume(tmp_path, kills=20, steps=120, budget_s=300)
