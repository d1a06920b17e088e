"""BetaVAE and FactorVAE: golden cases, the pair / vote construction, determinism, representations
of factors (lookup table, model), and an optional oracle against disentanglement_lib."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infogan_kit.errors import MetricError
from infogan_kit.metrics import beta_vae, factor_vae, lookup_representation, model_representation
from infogan_kit.metrics.beta_vae import beta_vae_points
from infogan_kit.metrics.factor_vae import active_dimensions, local_variances, majority_vote_accuracy, vote_matrix
from infogan_kit.metrics.sampling import flat_index, grid_lookup_table, sample_uniform_factors

GRID = (3, 6, 8, 5)  # a small factor grid, 720 points
SMALL = {"num_train": 300, "num_eval": 200}


def identity(factors: torch.Tensor) -> np.ndarray:
    """Each factor normalized to [0, 1]: a perfectly disentangled representation."""
    return (factors.double() / (torch.tensor(GRID, dtype=torch.float64) - 1)).numpy()


def constant(factors: torch.Tensor) -> np.ndarray:
    return np.zeros((len(factors), 4))


def noise_representation(seed: int = 0):
    rng = np.random.default_rng(seed)
    return lambda factors: rng.normal(size=(len(factors), 6))


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ golden cases
def test_identity_scores_high() -> None:
    assert beta_vae(identity, GRID, gen(), **SMALL)["eval_accuracy"] >= 0.9
    result = factor_vae(identity, GRID, gen(), num_variance_estimate=1000, **SMALL)
    assert result["eval_accuracy"] >= 0.9 and result["train_accuracy"] >= 0.9
    assert result["num_active_dims"] == len(GRID)


def test_constant_representation_is_chance_or_zero() -> None:
    chance = 1 / len(GRID)
    assert abs(beta_vae(constant, GRID, gen(), **SMALL)["eval_accuracy"] - chance) < 0.12
    assert factor_vae(constant, GRID, gen(), num_variance_estimate=500, **SMALL) == {
        "train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0,
    }


def test_random_representation_is_about_chance() -> None:
    chance = 1 / len(GRID)
    assert abs(beta_vae(noise_representation(), GRID, gen(), **SMALL)["eval_accuracy"] - chance) < 0.12
    result = factor_vae(noise_representation(), GRID, gen(), num_variance_estimate=500, **SMALL)
    assert abs(result["eval_accuracy"] - chance) < 0.12 and result["num_active_dims"] == 6


def test_a_duplicated_factor_lowers_factor_vae() -> None:
    """Two codes for one factor (and none for another) cannot both be classified right."""

    def merged(factors: torch.Tensor) -> np.ndarray:
        codes = identity(factors)
        codes[:, 3] = codes[:, 2]
        return codes

    good = factor_vae(identity, GRID, gen(), num_variance_estimate=500, **SMALL)["eval_accuracy"]
    worse = factor_vae(merged, GRID, gen(), num_variance_estimate=500, **SMALL)["eval_accuracy"]
    assert worse < good - 0.15


# ------------------------------------------------------------------ construction of points and votes
def test_beta_vae_pairs_share_exactly_the_labelled_factor() -> None:
    raw = lambda factors: factors.double()  # noqa: E731 - codes are the factors themselves
    features, labels = beta_vae_points(raw, GRID, gen(), 50, batch_size=16, chunk_rows=100)
    assert features.shape == (50, len(GRID)) and labels.shape == (50,)
    assert np.all(features[np.arange(50), labels] == 0.0)
    others = np.ones_like(features, dtype=bool)
    others[np.arange(50), labels] = False
    assert np.all(features[others] > 0.0)  # independent draws: 16 pairs never all agree here


def test_factor_vae_batches_fix_one_factor_to_the_first_rows_value() -> None:
    raw = lambda factors: factors.double()  # noqa: E731
    variances, fixed = local_variances(raw, GRID, gen(), 40, batch_size=8, chunk_rows=64)
    assert variances.shape == (40, len(GRID))
    assert np.all(variances[np.arange(40), fixed] == 0.0)
    assert set(fixed.tolist()) <= set(range(len(GRID)))


def test_vote_index_skips_pruned_dimensions_and_uses_original_index() -> None:
    global_variance = np.array([0.0001, 1.0, 4.0, 1.0])  # dim 0 has std 0.01 < 0.05: pruned
    active = active_dimensions(global_variance, 0.05)
    assert active.tolist() == [False, True, True, True]
    batch_variances = np.array([
        [0.0, 0.5, 1.0, 0.9],  # normalized: dim0 pruned (would win), dims 1..3 -> 0.5, 0.25, 0.9 -> dim 2
        [0.0, 0.1, 3.9, 0.8],  # -> dim 1
        [0.0, 0.9, 3.9, 0.05],  # -> dim 3
        [0.0, 0.9, 0.4, 0.9],  # -> dim 2
    ])
    votes = vote_matrix(batch_variances, np.array([1, 0, 2, 1]), global_variance, active, num_factors=3)
    expected = np.zeros((3, 4), dtype=np.int64)
    expected[1, 2], expected[0, 1], expected[2, 3] = 2, 1, 1
    np.testing.assert_array_equal(votes, expected)
    classifier = np.argmax(votes, axis=0)
    assert majority_vote_accuracy(votes, classifier) == 1.0
    assert majority_vote_accuracy(votes, np.array([0, 0, 0, 0])) == 0.25  # only the (0, 1) vote is right


def test_vote_matrix_needs_an_active_dimension() -> None:
    with pytest.raises(MetricError):
        vote_matrix(np.ones((2, 3)), np.zeros(2, dtype=int), np.ones(3), np.zeros(3, dtype=bool), 2)


# ------------------------------------------------------------------ determinism and inputs
def test_same_generator_seed_same_result() -> None:
    first = beta_vae(noise_representation(1), GRID, gen(5), **SMALL)
    again = beta_vae(noise_representation(1), GRID, gen(5), **SMALL)
    assert first == again
    assert factor_vae(identity, GRID, gen(3), num_variance_estimate=300, **SMALL) == factor_vae(
        identity, GRID, gen(3), num_variance_estimate=300, **SMALL
    )


def test_lookup_table_matches_the_function_it_tabulates() -> None:
    grid = torch.tensor(np.stack(np.meshgrid(*[np.arange(s) for s in GRID], indexing="ij"), -1).reshape(-1, len(GRID)))
    rng = np.random.default_rng(0)
    codes = identity(grid) + 0.01 * rng.normal(size=(len(grid), len(GRID)))
    shuffled = rng.permutation(len(grid))
    table = grid_lookup_table(codes[shuffled], grid.numpy()[shuffled], GRID)
    assert table is not None
    np.testing.assert_array_equal(table[flat_index(grid, GRID)], codes)
    looked_up = lookup_representation(table, GRID)
    direct = lambda factors: codes[flat_index(factors, GRID)]  # noqa: E731
    assert factor_vae(looked_up, GRID, gen(), num_variance_estimate=300, **SMALL) == factor_vae(
        direct, GRID, gen(), num_variance_estimate=300, **SMALL
    )
    assert grid_lookup_table(codes[:-1], grid.numpy()[:-1], GRID) is None


def test_model_representation_batches_without_grad() -> None:
    from infogan_kit.data import load_dataset

    dataset = load_dataset("dsprites")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64, 3))
    calls = []

    def represent(images: torch.Tensor) -> torch.Tensor:
        calls.append(len(images))
        assert not torch.is_grad_enabled()
        return net(images)

    factors = sample_uniform_factors(25, dataset.factor_sizes, gen())
    codes = model_representation(represent, dataset, batch_size=10)(factors)
    assert calls == [10, 10, 5] and codes.dtype == np.float64 and codes.shape == (25, 3)
    with torch.no_grad():
        # float32 sums of 4,096 products: batches of 10 and of 25 may take different BLAS kernels
        np.testing.assert_allclose(codes, net(dataset.images(factors)).double().numpy(), rtol=1e-5, atol=1e-6)


def test_model_and_dataset_call_form() -> None:
    """``factor_vae(model.represent, dataset, generator)`` = the same on the wrapped representation."""
    from infogan_kit.data import load_dataset

    dataset = load_dataset("dsprites")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64, 4))
    sizes = {"batch_size": 8, "num_train": 40, "num_eval": 20}
    direct = factor_vae(net, dataset, gen(), num_variance_estimate=200, **sizes)
    wrapped = factor_vae(model_representation(net, dataset), dataset.factor_sizes, gen(), num_variance_estimate=200, **sizes)
    assert direct == wrapped and direct["num_active_dims"] >= 1
    assert set(beta_vae(net, dataset, gen(), **sizes)) == {"train_accuracy", "eval_accuracy"}


def test_bad_representation_output_is_a_metric_error() -> None:
    with pytest.raises(MetricError, match="NaN or inf"):
        beta_vae(lambda f: np.full((len(f), 3), np.nan), GRID, gen(), **SMALL)
    with pytest.raises(MetricError, match="shape"):
        factor_vae(lambda f: np.zeros(len(f)), GRID, gen(), **SMALL)
    with pytest.raises(MetricError):
        beta_vae(identity, GRID, gen(), batch_size=1)


# ------------------------------------------------------------------ oracle (optional, slow)
@pytest.mark.slow
@pytest.mark.oracle
def test_agrees_with_disentanglement_lib() -> None:
    import sys
    import types

    sys.modules.setdefault("gin.tf", types.ModuleType("gin.tf"))
    dlib_beta = pytest.importorskip("disentanglement_lib.evaluation.metrics.beta_vae")
    dlib_factor = pytest.importorskip("disentanglement_lib.evaluation.metrics.factor_vae")
    dlib_factor.gin.clear_config()
    dlib_factor.gin.bind_parameter("prune_dims.threshold", 0.05)

    rng = np.random.default_rng(0)
    mixing = np.eye(len(GRID)) + 0.9 * rng.normal(size=(len(GRID), len(GRID)))

    def codes_of(factors: np.ndarray) -> np.ndarray:
        """A mixed, noisy representation with two pure-noise dimensions (stochastic, like a VAE)."""
        normalized = np.asarray(factors) / (np.array(GRID) - 1.0)
        noise = rng.normal(size=(len(normalized), len(GRID) + 2))
        return np.concatenate([normalized @ mixing, np.zeros((len(normalized), 2))], 1) + 0.3 * noise

    class GridData:  # disentanglement_lib's GroundTruthData contract; observations are the factors
        num_factors = len(GRID)
        factors_num_values = list(GRID)
        observation_shape = [len(GRID)]

        def sample_factors(self, num, random_state):
            return np.stack([random_state.randint(size, size=num) for size in GRID], axis=1)

        def sample_observations_from_factors(self, factors, random_state):
            return factors.astype(np.float64)

        def sample_observations(self, num, random_state):
            return self.sample_observations_from_factors(self.sample_factors(num, random_state), random_state)

    ours_beta = beta_vae(lambda f: codes_of(f.numpy()), GRID, gen(), num_train=2000, num_eval=1000)
    theirs_beta = dlib_beta.compute_beta_vae_sklearn(
        GridData(), codes_of, np.random.RandomState(0), batch_size=64, num_train=2000, num_eval=1000
    )
    ours_factor = factor_vae(lambda f: codes_of(f.numpy()), GRID, gen(), num_train=2000, num_eval=1000)
    theirs_factor = dlib_factor.compute_factor_vae(
        GridData(), codes_of, np.random.RandomState(0), batch_size=64, num_train=2000, num_eval=1000,
        num_variance_estimate=10000,
    )
    assert abs(ours_beta["eval_accuracy"] - theirs_beta["eval_accuracy"]) < 0.03
    assert abs(ours_factor["eval_accuracy"] - theirs_factor["eval_accuracy"]) < 0.03
    assert abs(ours_factor["train_accuracy"] - theirs_factor["train_accuracy"]) < 0.03
    dlib_factor.gin.clear_config()
