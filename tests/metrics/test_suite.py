"""The metric registry, the suite runners (evaluate, evaluate_codes, evaluate_representation) and
the result files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from infogan_kit import metrics
from infogan_kit.errors import MetricError
from infogan_kit.metrics import FAST, METRICS

BUILT_IN = {
    "beta_vae": ("sampling", ("train_accuracy", "eval_accuracy")),
    "factor_vae": ("sampling", ("train_accuracy", "eval_accuracy", "num_active_dims")),
    "mig": ("array", ("score",)),
    "dci": ("array", ("disentanglement", "completeness", "informativeness_train", "informativeness_test")),
    "sap": ("array", ("score",)),
    "modularity": ("array", ("modularity", "explicitness_train", "explicitness_test")),
    "irs": ("array", ("score", "num_active_dims")),
    "unsupervised": ("array", ("gaussian_total_correlation", "gaussian_wasserstein_correlation",
                               "gaussian_wasserstein_correlation_norm", "mutual_info_score")),
}
GRID = (3, 4, 5)
TINY = FAST.replace(
    name="tiny", num_train=200, num_test=100, beta_vae_num_train=100, beta_vae_num_eval=50,
    factor_vae_num_train=100, factor_vae_num_eval=50, factor_vae_num_variance_estimate=200,
)


def grid_rows(repeats: int = 1) -> np.ndarray:
    rows = np.stack(np.meshgrid(*[np.arange(s) for s in GRID], indexing="ij"), -1).reshape(-1, len(GRID))
    return np.concatenate([rows] * repeats)


def codes_for(factors: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([factors / (np.array(GRID) - 1.0), rng.normal(size=(len(factors), 2))], 1) + 0.01 * rng.normal(
        size=(len(factors), len(GRID) + 2)
    )


# ------------------------------------------------------------------ registry
def test_built_in_metrics_are_registered_with_kind_and_keys() -> None:
    for name, (kind, keys) in BUILT_IN.items():
        spec = METRICS.get(name)
        assert (spec.kind, spec.keys) == (kind, keys)
    assert metrics.mig is not None and callable(metrics.factor_vae)
    with pytest.raises(MetricError, match="available"):
        metrics.resolve_names("mig,nope")
    assert metrics.resolve_names(" mig , dci,mig") == (["mig", "dci"], False)


def test_every_metric_returns_its_declared_keys() -> None:
    factors = grid_rows(8)
    result = metrics.evaluate_codes(codes_for(factors), factors, protocol=TINY, num_train=300, num_test=150, shuffle_seed=0)
    assert set(result["metrics"]) == set(BUILT_IN)
    for name, values in result["metrics"].items():
        assert tuple(values) == METRICS.get(name).keys


def test_register_metric_joins_all_and_rejects_duplicates(scratch_metric) -> None:
    seen = {}

    def spy(inputs):
        seen["train"], seen["test"] = inputs.codes_train.copy(), inputs.codes_test.copy()
        return {"score": float(inputs.codes_train.shape[0])}

    scratch_metric.append("spy_rows")
    metrics.register_metric("spy_rows", spy, kind="array", keys=("score",), uses_test_split=True)
    with pytest.raises(MetricError, match="already registered"):
        metrics.register_metric("spy_rows", spy)
    with pytest.raises(MetricError, match="kind"):
        metrics.register_metric("other", spy, kind="video")
    factors = grid_rows(4)
    codes = codes_for(factors)
    result = metrics.evaluate_codes(codes, factors, names="all", protocol=TINY, num_train=100, num_test=40)
    assert result["metrics"]["spy_rows"] == {"score": 100.0}
    assert result["config"]["estimators"]["spy_rows"] == "user metric"
    # rows in file order: the first num_train train, the next num_test test
    np.testing.assert_array_equal(seen["train"], codes[:100])
    np.testing.assert_array_equal(seen["test"], codes[100:140])
    metrics.evaluate_codes(codes, factors, names="spy_rows", protocol=TINY, num_train=100, num_test=40, shuffle_seed=3)
    order = np.random.default_rng(3).permutation(len(codes))
    np.testing.assert_array_equal(seen["train"], codes[order][:100])


def test_a_metric_must_return_its_registered_keys(scratch_metric) -> None:
    scratch_metric.append("wrong_keys")
    metrics.register_metric("wrong_keys", lambda inputs: {"value": 1.0}, kind="array", keys=("score",))
    factors = grid_rows(2)
    with pytest.raises(MetricError, match="registered with keys"):
        metrics.evaluate_codes(codes_for(factors), factors, names="wrong_keys", protocol=TINY, num_train=100)


def test_image_metrics_are_skipped_for_codes(scratch_metric) -> None:
    scratch_metric.append("fake_fd")
    metrics.register_metric("fake_fd", lambda inputs: {"fd": 0.0}, kind="image", keys=("fd",))
    factors = grid_rows(4)
    named = metrics.evaluate_codes(codes_for(factors), factors, names="mig,fake_fd", protocol=TINY, num_train=150, num_test=50)
    assert "fake_fd" not in named["metrics"] and any("fake_fd: skipped" in note for note in named["notes"])
    everything = metrics.evaluate_codes(codes_for(factors), factors, names="all", protocol=TINY, num_train=150, num_test=50)
    assert "fake_fd" not in everything["metrics"] and not any("fake_fd" in note for note in everything["notes"])


# ------------------------------------------------------------------ evaluate_codes split rules
def test_array_metrics_use_the_train_rows_only() -> None:
    factors = grid_rows(6)
    codes = codes_for(factors)
    result = metrics.evaluate_codes(codes, factors, names="mig,irs", protocol="dlib", num_train=200, num_test=100)
    assert result["metrics"]["mig"] == metrics.mig(codes[:200], factors[:200])
    assert result["metrics"]["irs"] == metrics.irs(codes[:200], factors[:200])
    assert result["comparable"] is False and any("differ from the dlib protocol" in note for note in result["notes"])


def test_lookup_table_only_when_rows_cover_the_grid() -> None:
    factors = grid_rows(2)
    full = metrics.evaluate_codes(codes_for(factors), factors, names="beta_vae,factor_vae", protocol=TINY)
    assert full["config"]["representation"]["lookup_table"] is True
    assert full["metrics"]["beta_vae"]["eval_accuracy"] > 0.9
    missing_three = grid_rows(1)[:-3]
    partial = metrics.evaluate_codes(codes_for(missing_three), missing_three, factor_sizes=GRID,
                                     names="beta_vae,factor_vae,mig", protocol=TINY, num_train=40, shuffle_seed=0)
    assert set(partial["metrics"]) == {"mig"}
    assert partial["config"]["representation"]["lookup_table"] is False
    assert sum("cover 57 of 60" in note and "skipped" in note for note in partial["notes"]) == 2


def _nan_code(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    codes = codes.copy()
    codes[5, 1] = np.nan
    return codes, factors


def _constant_factor(codes: np.ndarray, factors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    factors = factors.copy()
    factors[:, 1] = 2
    return codes, factors


@pytest.mark.parametrize(
    "change, message",
    [(_nan_code, "NaN"), (lambda c, f: (c[:-1], f), "rows"), (_constant_factor, "single value")],
)
def test_bad_arrays_raise_metric_errors(change, message) -> None:
    codes, factors = change(codes_for(grid_rows(4)), grid_rows(4))
    with pytest.raises(MetricError, match=message):
        metrics.evaluate_codes(codes, factors, names="mig", protocol=TINY, num_train=100, num_test=50)


def test_too_few_rows_and_too_small_factor_sizes() -> None:
    factors = grid_rows(1)
    with pytest.raises(MetricError, match="too few rows"):
        metrics.evaluate_codes(codes_for(factors), factors, names="dci", protocol=TINY, num_train=50, num_test=20)
    with pytest.raises(MetricError, match="exceed factor_sizes"):
        metrics.evaluate_codes(codes_for(factors), factors, factor_sizes=(3, 4, 4), names="mig", protocol=TINY, num_train=40)
    # a train-only metric needs only the train rows
    assert "mig" in metrics.evaluate_codes(codes_for(factors), factors, names="mig", protocol=TINY, num_train=60)["metrics"]


# ------------------------------------------------------------------ result content, determinism, files
def test_evaluate_records_protocol_sizes_estimators_seed_dataset_versions() -> None:
    from infogan_kit.data import load_dataset

    dataset = load_dataset("dsprites")
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64, 4))
    net.train()
    result = metrics.evaluate(net, dataset, names=["mig", "factor_vae"], protocol=TINY, seed=7, batch_size=128)
    assert net.training  # restored after evaluation
    assert result["protocol"] == "tiny" and result["comparable"] is False
    config = result["config"]
    assert (config["seed"], config["dataset"], config["variant"], config["num_bins"]) == (7, "dsprites", "procedural", 20)
    assert config["sizes"] == TINY.sizes() and set(config["estimators"]) == {"mig", "factor_vae"}
    assert config["representation"]["kind"] == "model" and config["representation"]["device"] == "cpu"
    assert {"torch", "numpy", "scikit-learn", "infogan_kit"} <= set(result["versions"])
    assert set(result["timings_s"]) >= {"mig", "factor_vae", "total"}
    assert "NOT comparable" in result["notes"][0]
    json.dumps(result, allow_nan=False)


def test_same_seed_same_result_and_seed_matters() -> None:
    rng = np.random.default_rng(0)
    mixing = rng.normal(size=(3, 6))

    def represent(factors: torch.Tensor) -> np.ndarray:
        normalized = factors.double().numpy() / (np.array(GRID) - 1.0)
        return normalized @ mixing + 0.2 * np.sin(37.0 * np.arange(len(factors)))[:, None] * np.ones((1, 6))

    names = "beta_vae,factor_vae,dci,mig"
    first = metrics.evaluate_representation(represent, GRID, names, TINY, seed=1)
    again = metrics.evaluate_representation(represent, GRID, names, TINY, seed=1)
    other = metrics.evaluate_representation(represent, GRID, names, TINY, seed=2)
    assert first["metrics"] == again["metrics"]
    assert first["metrics"] != other["metrics"]


def test_non_finite_values_are_stored_as_null(scratch_metric) -> None:
    scratch_metric.append("infinite")
    metrics.register_metric("infinite", lambda inputs: {"score": float("inf")}, kind="array")
    factors = grid_rows(2)
    result = metrics.evaluate_codes(codes_for(factors), factors, names="infinite", protocol=TINY, num_train=100)
    assert result["metrics"]["infinite"] == {"score": None}
    assert any("infinite.score" in note for note in result["notes"])


def test_merge_into_metrics_file_keeps_protocols_apart(tmp_path) -> None:
    path = tmp_path / "metrics.json"
    dlib_result = {"protocol": "dlib", "metrics": {"mig": {"score": 0.1}}}
    metrics.merge_into_metrics_file(path, dlib_result)
    metrics.merge_into_metrics_file(path, {"protocol": "fast", "metrics": {"mig": {"score": 0.2}}})
    metrics.merge_into_metrics_file(path, {"protocol": "dlib", "metrics": {"mig": {"score": 0.3}}})
    stored = json.loads(path.read_text())
    assert set(stored) == {"dlib", "fast"}
    assert stored["dlib"]["metrics"]["mig"]["score"] == 0.3 and stored["fast"]["metrics"]["mig"]["score"] == 0.2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # no temporary file left
    path.write_text("[1, 2]")
    with pytest.raises(MetricError, match="JSON object"):
        metrics.merge_into_metrics_file(path, dlib_result)
    with pytest.raises(MetricError, match="protocol"):
        metrics.merge_into_metrics_file(tmp_path / "other.json", {"metrics": {}})


def test_format_table_labels_comparability() -> None:
    factors = grid_rows(4)
    fast = metrics.evaluate_codes(codes_for(factors), factors, names="mig", protocol="fast", num_train=150, num_test=50)
    assert "NOT comparable" in metrics.format_table(fast).splitlines()[0]
    assert fast["comparable"] is False and fast["protocol"] == "fast"
    table = metrics.format_table(dict(fast, comparable=True, notes=[]))
    assert "(comparable with published numbers)" in table and "mig" in table and "score" in table


def test_unknown_protocol() -> None:
    with pytest.raises(MetricError, match="available: dlib, fast"):
        metrics.get_protocol("nope")
