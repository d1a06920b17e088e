"""Latent specification parsing, sampling and the G-input / Q-output layouts."""

from __future__ import annotations

import pytest
import torch

from infogan_kit.errors import ConfigError
from infogan_kit.models.latent import LatentSpec


def test_parse_mnist_spec() -> None:
    spec = LatentSpec("cat10+cont2+noise62")
    assert spec.cat_sizes == [10] and spec.num_cont == 2 and spec.noise_dim == 62
    assert spec.input_dim == 74
    assert [c.name for c in spec.regularized] == ["cat1", "c1", "c2"]
    assert spec.q_output_dim(False) == 12 and spec.q_output_dim(True) == 14


def test_weights_and_multiple_categoricals() -> None:
    spec = LatentSpec("cat3@2+cat4+cont2@0.5+noise3")
    assert spec.cat_sizes == [3, 4] and spec.cat_weights == [2.0, 1.0]
    assert spec.cont_weights.tolist() == [0.5, 0.5]
    assert [c.name for c in spec.regularized] == ["cat1", "cat2", "c1", "c2"]


@pytest.mark.parametrize("text", ["", "cont0", "cat1", "foo3", "cont2+", "noise4", "noise4@2+cont1", "cont2@-1"])
def test_invalid_specs_raise(text: str) -> None:
    with pytest.raises(ConfigError):
        LatentSpec(text)


def test_sample_ranges_and_input_layout() -> None:
    spec = LatentSpec("cat3+cont2+noise4")
    latents = spec.sample(5000, torch.Generator().manual_seed(0))
    assert latents.codes_cat.shape == (5000, 1) and latents.codes_cat.min() == 0 and latents.codes_cat.max() == 2
    assert latents.codes_cont.min() >= -1 and latents.codes_cont.max() <= 1
    assert latents.codes_cont.min() < -0.99 and latents.codes_cont.max() > 0.99  # uniform over the whole range
    assert abs(latents.noise.std().item() - 1) < 0.05
    g_input = spec.to_input(latents)
    assert g_input.shape == (5000, 3 + 2 + 4)
    assert torch.equal(g_input[:, :3].argmax(1), latents.codes_cat[:, 0])
    assert torch.equal(g_input[:, 3:5], latents.codes_cont) and torch.equal(g_input[:, 5:], latents.noise)


def test_split_q_layout() -> None:
    spec = LatentSpec("cat3+cont2+noise4")
    q_params = torch.arange(7.0)[None]
    logits, means, logvars = spec.split_q(q_params, learned_variance=True)
    assert logits[0].tolist() == [[0, 1, 2]] and means.tolist() == [[3, 4]] and logvars.tolist() == [[5, 6]]
    _, means, logvars = spec.split_q(q_params[:, :5], learned_variance=False)
    assert logvars is None and means.tolist() == [[3, 4]]


def test_noise_std_scales_only_the_noise() -> None:
    plain = LatentSpec("cont2+noise4").sample(4000, torch.Generator().manual_seed(3))
    scaled = LatentSpec("cont2+noise4", noise_std=0.25).sample(4000, torch.Generator().manual_seed(3))
    assert torch.equal(plain.codes_cont, scaled.codes_cont)
    torch.testing.assert_close(scaled.noise, 0.25 * plain.noise)
    assert abs(scaled.noise.std().item() - 0.25) < 0.02


@pytest.mark.parametrize("noise_std", [0.0, -1.0, float("nan"), float("inf")])
def test_invalid_noise_std_raises(noise_std: float) -> None:
    with pytest.raises(ConfigError, match="noise standard deviation"):
        LatentSpec("cont2+noise4", noise_std=noise_std)
