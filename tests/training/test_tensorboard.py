"""The real TensorBoard server reads a finished run: a scalar and an image through its HTTP API."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def test_tensorboard_server_round_trip(tiny_run_dir: Path) -> None:
    port = _free_port()
    executable = shutil.which("tensorboard")
    command = [executable] if executable else [sys.executable, "-m", "tensorboard.main"]
    server = subprocess.Popen(
        command + ["--logdir", str(tiny_run_dir), "--host", "127.0.0.1", "--port", str(port), "--load_fast", "false"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        tags: dict = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                tags = json.loads(_get(f"{base}/data/plugin/scalars/tags"))
                if any("Loss/D" in run_tags for run_tags in tags.values()):
                    break
            except OSError:
                pass
            time.sleep(1)
        else:
            pytest.fail(f"TensorBoard did not serve the run's scalars: {tags}")
        run_name = next(name for name, run_tags in tags.items() if "Loss/D" in run_tags)
        query = urllib.parse.urlencode({"run": run_name, "tag": "Loss/D"})
        points = json.loads(_get(f"{base}/data/plugin/scalars/scalars?{query}"))
        steps = [point[1] for point in points]
        assert steps == [2, 4] and all(isinstance(point[2], float) for point in points)
        images = json.loads(_get(f"{base}/data/plugin/images/tags"))
        assert "Samples" in images[run_name] and "Traversal" in images[run_name]
        query = urllib.parse.urlencode({"run": run_name, "tag": "Samples", "sample": 0})
        entries = json.loads(_get(f"{base}/data/plugin/images/images?{query}"))
        assert entries and entries[-1]["step"] == 4
        png = _get(f"{base}/data/plugin/images/individualImage?{entries[-1]['query']}")
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        server.terminate()
        server.wait(timeout=30)
