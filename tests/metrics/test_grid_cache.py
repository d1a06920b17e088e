"""The grid cache: each distinct grid image represented once, same draws and values as the direct route."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from infogan_kit import metrics
from infogan_kit.data import load_dataset
from infogan_kit.errors import MetricError
from infogan_kit.metrics.grid_cache import GridCodeCache, maybe_cached
from infogan_kit.metrics.sampling import flat_index, sample_uniform_factors
from infogan_kit.metrics.image_quality import kernel_distance, polynomial_mmd2_unbiased, subset_mmd2_values

GRID = (3, 4, 5)
TINY = metrics.DLIB.replace(name="tiny", num_train=300, num_test=200, beta_vae_batch_size=8, beta_vae_num_train=60,
                            beta_vae_num_eval=30, factor_vae_batch_size=8, factor_vae_num_train=60,
                            factor_vae_num_eval=30, factor_vae_num_variance_estimate=300)
NAMES = "beta_vae,factor_vae,mig,sap,modularity,irs,unsupervised"


class Counting:
    """A representation of factors (a fixed function of each row) that counts the rows it sees."""

    def __init__(self) -> None:
        self.rows: list[int] = []

    def __call__(self, factors: torch.Tensor) -> np.ndarray:
        self.rows.extend(flat_index(factors, GRID).tolist())
        values = factors.double().numpy()
        return np.concatenate([values, np.sin(values.sum(1, keepdims=True))], axis=1)


def test_each_grid_point_is_represented_once_and_codes_match_the_direct_route() -> None:
    counting = Counting()
    cache = GridCodeCache(counting, GRID, pad_to=8)
    generator = torch.Generator().manual_seed(0)
    draws = [sample_uniform_factors(size, GRID, generator) for size in (50, 200, 7)]
    for factors in draws:
        assert np.array_equal(cache(factors), Counting()(factors))
    record = cache.record()
    assert len(set(counting.rows)) == record["represented_rows"] <= 60 and len(counting.rows) % 8 == 0
    assert record == {"used": True, "grid_points": 60, "requested_rows": 257, "represented_rows": len(set(counting.rows)),
                      "padding_rows": len(counting.rows) - len(set(counting.rows))}


def test_a_grid_too_large_for_the_bound_falls_back_to_the_direct_route() -> None:
    cache = GridCodeCache(Counting(), GRID, max_bytes=100)
    factors = sample_uniform_factors(40, GRID, torch.Generator().manual_seed(1))
    assert np.array_equal(cache(factors), Counting()(factors)) and np.array_equal(cache(factors), Counting()(factors))
    record = cache.record()
    assert record["used"] is False and "exceeds the bound" in record["reason"] and record["represented_rows"] > 40
    for bad in ({"max_bytes": -1}, {"pad_to": 0}):
        with pytest.raises(MetricError, match="max_bytes must be non-negative and pad_to positive"):
            GridCodeCache(Counting(), GRID, **bad)


def test_only_datasets_declaring_deterministic_images_are_cached() -> None:
    assert load_dataset("dsprites").deterministic_images is True
    for name in ("color_dsprites", "noisy_dsprites"):
        represent, cache, reason = maybe_cached(Counting(), load_dataset(name))
        assert cache is None and "deterministic" in reason
    with pytest.raises(MetricError, match="grid_cache must be True or False"):
        maybe_cached(Counting(), load_dataset("dsprites"), "yes")  # type: ignore[arg-type]


def pixel_counts(images: torch.Tensor) -> torch.Tensor:
    """A batch-invariant model: sprite pixels per quadrant (exact integer sums, any batch size)."""
    quadrants = images.reshape(len(images), 2, 32, 2, 32).sum(dim=(2, 4)).reshape(len(images), 4)
    return quadrants + 0.01 * torch.arange(4)


def test_evaluate_gives_identical_values_for_a_batch_invariant_model() -> None:
    dataset = load_dataset("dsprites")
    direct = metrics.evaluate(pixel_counts, dataset, NAMES + ",dci", TINY.replace(name="tiny_fast_dci", fast_estimators=True),
                              grid_cache=False, batch_size=256)
    cached = metrics.evaluate(pixel_counts, dataset, NAMES + ",dci", TINY.replace(name="tiny_fast_dci", fast_estimators=True))
    assert cached["metrics"] == direct["metrics"]
    assert cached["config"]["representation"]["grid_cache"]["used"] is True
    assert direct["config"]["representation"]["grid_cache"] == {"used": False, "reason": "turned off (grid_cache=False)"}


def test_evaluate_with_a_real_model_agrees_within_1e_6() -> None:
    run = metrics_run()
    direct = metrics.evaluate(run.represent, run.dataset, NAMES, TINY, grid_cache=False, batch_size=256)
    cached = metrics.evaluate(run.represent, run.dataset, NAMES, TINY)
    for name, values in direct["metrics"].items():
        for key, value in values.items():
            assert cached["metrics"][name][key] == pytest.approx(value, abs=1e-6), f"{name}.{key}"
    assert direct["config"]["protocol_version"] == 1


def metrics_run():
    from infogan_kit.run import load_run

    return load_run(Path(__file__).resolve().parents[2] / "checkpoints" / "pretrained" / "infogan-cr-dsprites", device="cpu")


def test_kid_from_whole_kernels_equals_the_per_subset_loop() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(250, 16)) + 0.2
    subsets = [(rng.choice(300, 100, replace=False), rng.choice(250, 100, replace=False)) for _ in range(5)]
    loop = [polynomial_mmd2_unbiased(a[rows_a], b[rows_b]) for rows_a, rows_b in subsets]
    assert np.allclose(subset_mmd2_values(a, b, subsets), loop, rtol=1e-10, atol=1e-12)
    assert kernel_distance(a, b, np.random.default_rng(3), 100, 5)["kid_mean"] == pytest.approx(
        float(np.mean([polynomial_mmd2_unbiased(a[i], b[j]) for i, j in _draws(np.random.default_rng(3))])), rel=1e-10)


def _draws(rng: np.random.Generator) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rng.choice(300, 100, replace=False), rng.choice(250, 100, replace=False)) for _ in range(5)]
