"""Shared test settings: one torch thread per process (the machine has 2 cores and torch's
OpenMP spin-waiting makes concurrent processes crawl), and small shared fixtures."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("MKL_NUM_THREADS", "1")
# Caches (npz decompression, image-quality reference statistics) go to a throw-away folder,
# never into the user's home.
import tempfile  # noqa: E402

os.environ["INFOGAN_CACHE"] = tempfile.mkdtemp(prefix="infogan-test-cache-")

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
import torch  # noqa: E402

from infogan_kit.config import RunConfig  # noqa: E402
from infogan_kit.recipes import get_model  # noqa: E402
from infogan_kit.training.api import train  # noqa: E402

torch.set_num_threads(1)


@pytest.fixture
def generator() -> torch.Generator:
    """A CPU generator seeded with 0."""
    return torch.Generator().manual_seed(0)


def tiny_config(model: str = "infogan", steps: int = 6, precision: str = "fp32", batch_size: int = 16, **train_values) -> RunConfig:
    """A config that trains in about a second on one CPU thread."""
    config = get_model(model).default_config("quick", "dsprites")
    config.train.steps = steps
    config.train.batch_size = batch_size
    config.train.precision = precision
    config.train.device = "cpu"
    config.train.time_budget_min = None
    config.train.log_every = 2
    config.train.sample_every = 0
    config.train.checkpoint_every = 0
    for key, value in train_values.items():
        setattr(config.train, key, value)
    return config


def build_model(model: str, config: RunConfig, image_shape: tuple[int, int, int] = (1, 64, 64), training: bool = False):
    """The registered ``model`` built on the CPU; with ``training``, ``(model, TrainingParts)``."""
    built = get_model(model)(config, image_shape, torch.device("cpu"))
    return (built, built.build_training()) if training else built


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 4-step InfoGAN run directory (final fast metrics included)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    train(tiny_config(steps=4), out=out, final_metrics=True)
    return out


def free_port() -> int:
    """A TCP port nobody listens on right now (for a torchrun rendezvous)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def torchrun_train(nproc: int, train_args: list[str], timeout: float, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node nproc -m infogan_kit train ARGS`` on a free port; output captured."""
    torchrun = shutil.which("torchrun")
    command = [torchrun] if torchrun else [sys.executable, "-m", "torch.distributed.run"]
    command += ["--nproc_per_node", str(nproc), "--master_port", str(free_port()), "-m", "infogan_kit", "train", *train_args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
