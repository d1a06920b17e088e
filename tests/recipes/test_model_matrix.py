"""Every registered model, and a model registered by a user-style plugin, through the same matrix:
a few CPU steps, exact resume, ``load_run``, ``represent``, ``generate`` and traversals.

The parameters come from the registry (sorted, so collection is deterministic), so a new model
is covered the moment it is registered.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

import infogan_kit
from infogan_kit.recipes import MODELS, registered_model
from infogan_kit.training.api import train

from ..conftest import tiny_config
from .plugin_model import ToyAutoencoder

PLUGIN = "toy-autoencoder"
MATRIX = sorted(MODELS.names()) + [PLUGIN]


@pytest.fixture
def model_name(request: pytest.FixtureRequest) -> str:
    """The model of this case; the plugin is registered for this test only."""
    name = request.param
    if name != PLUGIN:
        yield name
        return
    with registered_model(ToyAutoencoder):
        yield name
    assert PLUGIN not in MODELS  # the registration does not leak


def _small(name: str, steps: int):
    config = tiny_config(name, steps=steps, batch_size=8)
    if name == "stylegan-info":
        config.model.r1_interval = 4  # a lazy R1 phase inside 20 steps
    return config


def _weights(run) -> dict[str, torch.Tensor]:
    state = {f"{n}.{k}": v for n, net in run.model.networks.items() for k, v in net.state_dict().items()}
    state.update({f"ema.{n}.{k}": v for n, net in run.model.ema.items() for k, v in net.state_dict().items()})
    return state


@pytest.mark.parametrize("model_name", MATRIX, indirect=True)
def test_model_trains_resumes_exactly_and_loads_for_inference(model_name: str, tmp_path: Path) -> None:
    straight = train(_small(model_name, 20), out=tmp_path / "straight", final_metrics=False)
    train(_small(model_name, 10), out=tmp_path / "resumed", final_metrics=False)
    resumed = train(_small(model_name, 20), resume=tmp_path / "resumed", final_metrics=False)
    assert resumed.step == straight.step == 20
    expected, got = _weights(straight), _weights(resumed)
    assert expected.keys() == got.keys()
    assert all(torch.equal(expected[key], got[key]) for key in expected), "resume is not bit-exact"

    run = infogan_kit.load_run(tmp_path / "resumed", device="cpu")
    assert run.model.name == model_name and run.step == 20
    images, _ = run.dataset.sample(5, torch.Generator().manual_seed(0))
    codes = run.represent(images, batch_size=2)
    assert codes.shape == (5, len(run.code_names())) and torch.isfinite(codes).all()
    assert torch.allclose(codes, straight.represent(images), atol=1e-6)
    samples = run.generate(3, seed=1)
    assert samples.shape == (3, *run.dataset.image_shape) and torch.equal(samples, run.generate(3, seed=1))
    rows = run.traversal(columns=3)
    assert len(rows) >= 1 and all(images.shape[1:] == tuple(run.dataset.image_shape) for _, images in rows)
    activity = run.latent_activity(images)
    assert activity.shape == (len(run.code_names()),) and activity.dtype == torch.float64


def test_plugin_registration_is_scoped_and_resolvable() -> None:
    from infogan_kit.errors import ConfigError
    from infogan_kit.resolve import resolve_config

    with registered_model(ToyAutoencoder):
        config = resolve_config(PLUGIN, options={"train.steps": 3})
        assert type(config.model).__name__ == "ToyConfig" and config.train.steps == 3
    with pytest.raises(ConfigError, match="unknown model 'toy-autoencoder'"):
        resolve_config(PLUGIN)
