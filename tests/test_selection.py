"""Unsupervised model selection: UDR (Lasso / Spearman) and ModelCentrality.

Constructed case: a world of K ground-truth factors observed through a fixed invertible mixing.
"Good" models code the factors up to permutation, sign and scale (they agree with each other);
"bad" models code a random rotation of them (entangled, and each differently). Both methods
must rank every good model above every bad one. Plus golden values of the building blocks and
one CLI smoke test on tiny trained runs.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from infogan_kit.cli import run as cli_run
from infogan_kit.errors import MetricError
from infogan_kit.metrics import factor_vae, get_protocol
from infogan_kit.metrics.sampling import derive_generator
from infogan_kit.selection import (
    CodeGenerator,
    bin_centers,
    lasso_correlation_matrix,
    model_centrality,
    rank,
    relative_strength_disentanglement,
    spearman_correlation_matrix,
    udr,
)

from .conftest import tiny_config, train

NUM_FACTORS = 4
NUM_GOOD, NUM_BAD = 4, 2


def _rotation(rng: np.random.Generator, size: int) -> np.ndarray:
    """A random rotation that mixes every axis (no entry close to a permutation)."""
    while True:
        q, r = np.linalg.qr(rng.normal(size=(size, size)))
        q = q * np.sign(np.diag(r))
        if np.abs(q).max() < 0.7:
            return q


def _model_maps(seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Code -> factor maps ``A [K, K]`` (good: signed scaled permutations; bad: rotations)
    and the world's mixing ``M [K, K]`` (factors -> observations)."""
    rng = np.random.default_rng(seed)
    maps = []
    for _ in range(NUM_GOOD):
        permutation = np.eye(NUM_FACTORS)[rng.permutation(NUM_FACTORS)]
        maps.append(permutation * rng.choice([-1.0, 1.0], NUM_FACTORS) * rng.uniform(0.5, 2.0, NUM_FACTORS))
    maps += [_rotation(rng, NUM_FACTORS) for _ in range(NUM_BAD)]
    return maps, rng.normal(size=(NUM_FACTORS, NUM_FACTORS)) + 2 * np.eye(NUM_FACTORS)


# ------------------------------------------------------------------ building blocks
def test_relative_strength_golden_values() -> None:
    assert relative_strength_disentanglement(np.eye(3)) == 1.0
    coupled = np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert relative_strength_disentanglement(coupled) == pytest.approx(2 / 3)  # columns 1/2, 1/2, 1
    assert relative_strength_disentanglement(np.ones((3, 3))) == pytest.approx(1 / 3)
    assert relative_strength_disentanglement(np.zeros((3, 3))) == 0.0
    assert relative_strength_disentanglement(np.zeros((0, 2))) == 0.0


def test_correlation_matrices_find_the_matching_dimensions() -> None:
    rng = np.random.default_rng(0)
    codes = rng.uniform(size=(1000, 3)) * 10
    duplicated = codes.copy()
    duplicated[:, 1] = duplicated[:, 0]
    expected = np.array([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    assert np.allclose(spearman_correlation_matrix(codes, duplicated), expected, atol=0.1)
    assert np.allclose(spearman_correlation_matrix(codes, -codes[:, [2, 0, 1]]), np.eye(3)[[1, 2, 0]], atol=0.1)
    lasso = lasso_correlation_matrix(codes, codes)
    assert np.allclose(lasso, np.eye(3) * np.diag(lasso), atol=0.05) and np.diag(lasso).min() > 0.9


def test_bin_centers_are_equal_probability_midpoints() -> None:
    assert torch.allclose(bin_centers(4, "uniform"), torch.tensor([-0.75, -0.25, 0.25, 0.75]))
    normal = bin_centers(2, "normal")
    assert normal[0] == pytest.approx(-0.6745, abs=1e-3) and normal[1] == pytest.approx(0.6745, abs=1e-3)
    with pytest.raises(MetricError):
        bin_centers(1, "uniform")


def test_rank_orders_by_decreasing_score() -> None:
    ranking = rank([0.2, 0.9, 0.5], ["a", "b", "c"])
    assert [entry["run"] for entry in ranking] == ["b", "c", "a"]
    assert [entry["rank"] for entry in ranking] == [1, 2, 3]


# ------------------------------------------------------------------ UDR
def _udr_codes(seed: int = 0, num_points: int = 600) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    factors = rng.uniform(-1, 1, size=(num_points, NUM_FACTORS))
    maps, _ = _model_maps(seed)
    return [factors @ np.linalg.inv(a).T + 0.02 * rng.normal(size=factors.shape) for a in maps]


@pytest.mark.parametrize("correlation", ["lasso", "spearman"])
def test_udr_ranks_the_agreeing_disentangled_models_first(correlation: str) -> None:
    scores = udr(_udr_codes(), correlation=correlation)
    good, bad = scores["model_scores"][:NUM_GOOD], scores["model_scores"][NUM_GOOD:]
    assert min(good) > 0.8
    assert min(good) > max(bad) + 0.1
    pairwise = np.array(scores["pairwise"])
    assert pairwise.shape == (NUM_GOOD + NUM_BAD,) * 2 and np.all(np.diag(pairwise) == 0)


def test_udr_ignores_inactive_dimensions_only_when_told() -> None:
    rng = np.random.default_rng(3)
    codes = []
    for model in _udr_codes()[:NUM_GOOD]:
        codes.append(np.concatenate([model, rng.normal(size=(len(model), 2))], axis=1))  # two noise dimensions
    activity = [np.array([1.0] * NUM_FACTORS + [0.0, 0.0])] * NUM_GOOD
    filtered = udr(codes, activity, correlation="spearman")["model_scores"]
    unfiltered = udr(codes, None, correlation="spearman")["model_scores"]
    assert min(filtered) > 0.85
    assert max(unfiltered) < min(filtered) - 0.1


def test_udr_rejects_bad_input() -> None:
    codes = _udr_codes()
    with pytest.raises(MetricError, match="at least 2"):
        udr(codes[:1])
    with pytest.raises(MetricError, match="lasso"):
        udr(codes, correlation="pearson")
    with pytest.raises(MetricError, match="same points"):
        udr([codes[0], codes[1][:10]])


# ------------------------------------------------------------------ ModelCentrality
def _synthetic_models(num_bins: int = 10) -> tuple[list, list[CodeGenerator]]:
    """Encoders and generators of the constructed world (observations = factors @ M^T)."""
    maps, mixing = _model_maps()
    centers = bin_centers(num_bins, "uniform").double()
    encoders, generators = [], []
    for code_to_factor in maps:
        forward = torch.tensor(code_to_factor.T @ mixing.T)         # codes [n, K] -> observations
        backward = torch.linalg.inv(forward)

        def render(factors: torch.Tensor, generator: torch.Generator, forward=forward) -> torch.Tensor:
            return centers[factors] @ forward

        encoders.append(lambda observations, backward=backward: observations @ backward)
        generators.append(CodeGenerator((num_bins,) * NUM_FACTORS, render))
    return encoders, generators


def _small_protocol():
    import dataclasses

    return dataclasses.replace(get_protocol("fast"), factor_vae_batch_size=16, factor_vae_num_train=150,
                               factor_vae_num_eval=100, factor_vae_num_variance_estimate=500)


def test_model_centrality_picks_a_disentangled_medoid() -> None:
    encoders, generators = _synthetic_models()
    scores = model_centrality(encoders, generators, _small_protocol(), seed=0)
    centrality = scores["model_scores"]
    pairwise = np.array(scores["pairwise"])
    assert np.allclose(np.diag(pairwise), 1.0)  # every model reads its own codes back
    assert np.allclose(pairwise[:NUM_GOOD, :NUM_GOOD], 1.0)  # good models read each other's codes
    assert min(centrality[:NUM_GOOD]) > max(centrality[NUM_GOOD:]) + 0.1
    assert rank(centrality, [str(i) for i in range(len(centrality))])[0]["run"] in {str(i) for i in range(NUM_GOOD)}


def test_model_centrality_entries_are_the_factor_vae_metric() -> None:
    encoders, generators = _synthetic_models()
    protocol = _small_protocol()
    pairwise = np.array(model_centrality(encoders, generators, protocol, seed=5)["pairwise"])
    i, j = NUM_GOOD, 1  # a bad encoder on a good generator: neither 0 nor 1
    nuisance = derive_generator(5, f"centrality-nuisance-{j}")
    expected = factor_vae(
        lambda factors: encoders[i](generators[j].render(factors, nuisance)), generators[j].factor_sizes,
        derive_generator(5, f"centrality-{j}"), batch_size=protocol.factor_vae_batch_size,
        num_train=protocol.factor_vae_num_train, num_eval=protocol.factor_vae_num_eval,
        num_variance_estimate=protocol.factor_vae_num_variance_estimate,
    )["eval_accuracy"]
    assert pairwise[i, j] == pytest.approx(expected)
    assert 0.0 < pairwise[i, j] < 1.0


def test_model_centrality_needs_matching_pairs() -> None:
    encoders, generators = _synthetic_models()
    with pytest.raises(MetricError, match="encoders"):
        model_centrality(encoders[:2], generators[:3])
    with pytest.raises(MetricError, match="at least 2"):
        model_centrality(encoders[:1], generators[:1])


# ------------------------------------------------------------------ CLI on tiny runs
def test_select_cli_on_tiny_runs(tmp_path, capsys) -> None:
    gan, vae = tmp_path / "gan", tmp_path / "vae"
    train(tiny_config("infogan", steps=2), out=gan, final_metrics=False)
    train(tiny_config("beta-vae", steps=2), out=vae, final_metrics=False)
    out = tmp_path / "ranking.json"
    status = cli_run(["select", str(gan), str(vae), "--votes", "4", "--num-points", "64", "--bins", "5", "--json", str(out)])
    printed = capsys.readouterr().out
    assert status == 0
    for method in ("udr-lasso", "udr-spearman", "centrality"):
        assert f"{method}:" in printed
    data = json.loads(out.read_text())
    assert set(data["methods"]) == {"udr-lasso", "udr-spearman", "centrality"}
    for result in data["methods"].values():
        assert sorted(entry["run"] for entry in result["ranking"]) == sorted([str(gan), str(vae)])
        assert result["selected"] == result["ranking"][0]["run"]
        assert np.array(result["pairwise"]).shape == (2, 2)
    assert data["config"]["factor_vae_sizes"]["num_train"] == 4
    assert cli_run(["select", str(gan)]) == 2  # one run cannot be ranked
    assert cli_run(["select", str(gan), str(vae), "--method", "median"]) == 2
