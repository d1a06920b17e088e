"""One writer per run directory; concurrent metrics.json merges; shipped models stay untouched."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from infogan_kit.cli import run as cli
from infogan_kit.metrics.results import merge_into_metrics_file
from infogan_kit.rundir import LOCK_NAME, SHIPPED_MARKER, RunLock

PRETRAINED = Path(__file__).resolve().parents[1] / "checkpoints" / "pretrained"


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Names, sizes and hashes of every file under ``folder``."""
    return {str(p.relative_to(folder)): (p.stat().st_size, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def error_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("Error:")]


def _merge_many(path: str, prefix: str, count: int) -> None:
    for index in range(count):
        merge_into_metrics_file(path, {"protocol": f"{prefix}{index}", "metrics": {"mig": {"score": index}}})


def test_concurrent_merges_keep_every_entry(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_merge_many, args=(str(path), prefix, 25)) for prefix in ("a", "b")]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        assert worker.exitcode == 0
    assert sorted(json.loads(path.read_text())) == sorted(f"{p}{i}" for p in "ab" for i in range(25))
    assert not list(tmp_path.glob("*.tmp"))


def test_stale_metrics_temporary_is_removed_by_the_next_merge(tmp_path: Path) -> None:
    (tmp_path / ".metrics.json.abc123.tmp").write_text('{"half": ')
    merge_into_metrics_file(tmp_path / "metrics.json", {"protocol": "fast", "metrics": {}})
    assert not list(tmp_path.glob("*.tmp"))


@pytest.fixture
def run_copy(tiny_run_dir: Path, tmp_path: Path) -> Path:
    target = tmp_path / "run"
    shutil.copytree(tiny_run_dir, target)
    (target / LOCK_NAME).unlink(missing_ok=True)
    return target


def test_second_writer_is_refused_naming_the_holder(run_copy: Path, capfd: pytest.CaptureFixture[str]) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from infogan_kit.rundir import RunLock; held = RunLock(sys.argv[1]).acquire(); "
         "print('held', flush=True); time.sleep(120)", str(run_copy)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = snapshot(run_copy)
        assert cli(["train", "--resume", str(run_copy), "--steps", "6", "--no-final-metrics"]) == 1
        errors = error_lines(capfd.readouterr().err)
        assert len(errors) == 1 and f"PID {holder.pid}" in errors[0] and socket.gethostname() in errors[0]
        assert snapshot(run_copy) == before
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    # the killed holder's lock is gone with it; its note is taken over
    assert cli(["train", "--resume", str(run_copy), "--steps", "6", "--no-final-metrics"]) == 0
    err = capfd.readouterr().err
    assert f"stale lock of {run_copy} left by PID {holder.pid}" in err
    assert (run_copy / LOCK_NAME).read_text() == ""  # a clean exit leaves no note


def test_in_process_second_lock_is_refused(tmp_path: Path) -> None:
    with RunLock(tmp_path):
        with pytest.raises(Exception, match=f"PID {os.getpid()}"):
            RunLock(tmp_path).acquire()
    RunLock(tmp_path).acquire().release()


def test_leftover_temporary_is_gone_after_the_next_resume(run_copy: Path) -> None:
    leftover = run_copy / ".checkpoint-00000004.pt.k1ll3d.tmp"
    leftover.write_bytes(b"PK\x03\x04 half a checkpoint")
    assert cli(["train", "--resume", str(run_copy), "--steps", "5", "--no-final-metrics"]) == 0
    assert not leftover.exists()


@pytest.mark.parametrize("name", ["infogan-cr-dsprites", "beta-vae-dsprites"])
def test_shipped_models_carry_the_marker(name: str) -> None:
    assert (PRETRAINED / name / SHIPPED_MARKER).is_file()


def test_evaluating_a_shipped_model_prints_scores_and_stores_nothing(capfd: pytest.CaptureFixture[str]) -> None:
    shipped = PRETRAINED / "infogan-cr-dsprites"
    before = snapshot(shipped)
    assert cli(["evaluate", str(shipped), "--protocol", "fast", "--metrics", "mig", "--device", "cpu"]) == 0
    out, err = capfd.readouterr()
    assert "mig" in out
    assert len([line for line in err.splitlines() if "not stored" in line]) == 1
    assert cli(["train", "--resume", str(shipped), "--steps", "20000"]) == 1
    assert len(error_lines(capfd.readouterr().err)) == 1
    assert snapshot(shipped) == before


def run_unprivileged(script: str, *args: str) -> subprocess.CompletedProcess:
    """Run ``script`` (which imports what it needs first) with root's rights dropped after
    ``# drop`` (tests run as root, which ignores file permissions)."""
    drop = "import os; os.setgid(65534); os.setuid(65534)" if os.geteuid() == 0 else "pass"
    return subprocess.run([sys.executable, "-c", script.replace("# drop", drop), *args], capture_output=True, text=True, timeout=120)


@pytest.fixture
def read_only_dir():
    """A folder (inside a world-traversable one) whose mode is 0o555 during the test."""
    import tempfile

    outer = Path(tempfile.mkdtemp(prefix="infogan-ro-"))
    outer.chmod(0o755)
    folder = outer / "ro"
    folder.mkdir()
    yield folder
    folder.chmod(0o755)
    shutil.rmtree(outer)


def test_read_only_run_directory_is_not_stored(read_only_dir: Path) -> None:
    (read_only_dir / "metrics.json").write_text('{"dlib": {"protocol": "dlib"}}\n')
    read_only_dir.chmod(0o555)
    done = run_unprivileged(
        "import sys, infogan_kit.rundir; from infogan_kit.metrics.results import merge_into_metrics_file as merge\n"
        "# drop\n"
        "r = merge(sys.argv[1], {'protocol': 'fast', 'metrics': {}}); print(r.stored, ','.join(sorted(r)))",
        str(read_only_dir / "metrics.json"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "dlib,fast"]
    assert done.stderr.count("not stored") == 1
    assert sorted(p.name for p in read_only_dir.iterdir()) == ["metrics.json"]
