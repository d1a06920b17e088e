"""Tiny InfoGAN runs shared by the training tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from infogan_kit.config import RunConfig
from infogan_kit.recipes import get_recipe
from infogan_kit.training.api import train


def tiny_config(model: str = "infogan", steps: int = 6, precision: str = "fp32", batch_size: int = 16, **train_values) -> RunConfig:
    """A config that trains in about a second on one CPU thread."""
    config = get_recipe(model).default_config("quick", "dsprites")
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


@pytest.fixture(scope="session")
def tiny_run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished 4-step InfoGAN run directory (final fast metrics included)."""
    out = tmp_path_factory.mktemp("runs") / "tiny"
    train(tiny_config(steps=4), out=out, final_metrics=True)
    return out
