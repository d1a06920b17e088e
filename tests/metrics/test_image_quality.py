"""Image-quality metrics: estimators against closed forms, the shipped feature network, the
reference-statistics cache, and the Inception path with a scripted stand-in network."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.linalg
import torch
from click.testing import CliRunner

from infogan_kit import metrics
from infogan_kit.cli import cli
from infogan_kit.data import load_dataset
from infogan_kit.errors import MetricError
from infogan_kit.metrics.feature_net import factor_accuracy, feature_net_files, load_feature_net, sha256_file
from infogan_kit.metrics.image_features import inception_extractor, reference_statistics
from infogan_kit.metrics.image_quality import (
    ImageQualityOptions,
    feature_statistics,
    frechet_distance,
    kernel_distance,
    polynomial_mmd2_unbiased,
)


@pytest.fixture(scope="module")
def dsprites():
    return load_dataset("dsprites")


def real_generate(dataset):
    """A 'generator' that draws real images (its own stream: not the reference draw)."""
    return lambda count, generator: dataset.sample(count, generator)[0]


def noise_generate(count: int, generator: torch.Generator) -> torch.Tensor:
    return torch.rand(count, 1, 64, 64, generator=generator)


def score(dataset, generate, names: str, tmp_path: Path, **options) -> dict:
    """Run only image metrics at small sizes with the cache in ``tmp_path``."""
    settings = {"num_real": 400, "num_generated": 400, "kid_num_subsets": 20, "cache_dir": tmp_path, "device": "cpu", **options}
    return metrics.evaluate(lambda images: images.flatten(1)[:, :3], dataset, names=names, protocol="fast", seed=0,
                            generate=generate, image_options=ImageQualityOptions(**settings))


# ------------------------------------------------------------------ estimators
def test_frechet_distance_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    factor = rng.normal(size=(12, 12))
    cov = factor @ factor.T + 0.1 * np.eye(12)
    mean = rng.normal(size=12)
    assert frechet_distance(mean, cov, mean, cov) == pytest.approx(0.0, abs=1e-9 * np.trace(cov))


def test_frechet_distance_of_diagonal_gaussians_matches_closed_form():
    mean_a, mean_b = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    var_a, var_b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = np.sum((mean_a - mean_b) ** 2) + np.sum((np.sqrt(var_a) - np.sqrt(var_b)) ** 2)  # 7.25 + 5
    assert frechet_distance(mean_a, np.diag(var_a), mean_b, np.diag(var_b)) == pytest.approx(expected, rel=1e-12)
    assert expected == pytest.approx(12.25)


def test_frechet_distance_agrees_with_sqrtm_on_full_covariances():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(8, 8)), rng.normal(size=(8, 8))
    cov_a, cov_b = a @ a.T, b @ b.T + np.eye(8)
    mean_a, mean_b = rng.normal(size=8), rng.normal(size=8)
    root = scipy.linalg.sqrtm(cov_a @ cov_b).real
    reference = np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2 * root)
    assert frechet_distance(mean_a, cov_a, mean_b, cov_b) == pytest.approx(reference, rel=1e-8)


def test_polynomial_mmd_matches_a_direct_double_sum():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(4, 3)) + 0.3
    kernel = lambda u, v: (u @ v / 3 + 1) ** 3  # noqa: E731
    within_x = sum(kernel(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    within_y = sum(kernel(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / 12
    cross = sum(kernel(x[i], y[j]) for i in range(5) for j in range(4)) / 20
    assert polynomial_mmd2_unbiased(x, y) == pytest.approx(within_x + within_y - 2 * cross, rel=1e-12)


def test_kid_is_about_zero_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(3)
    real, same = rng.normal(size=(1500, 16)), rng.normal(size=(1500, 16))
    shifted = rng.normal(size=(1500, 16)) + 0.5
    null = kernel_distance(real, same, np.random.default_rng(0), subset_size=1000, num_subsets=20)
    moved = kernel_distance(real, shifted, np.random.default_rng(0), subset_size=1000, num_subsets=20)
    assert moved["kid_mean"] > 0.05
    assert abs(null["kid_mean"]) < 0.02 * moved["kid_mean"]
    assert moved["kid_std"] > 0  # subsets of 1,000 out of 1,500 differ


def test_feature_statistics_use_ddof_one():
    features = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 8.0]])
    mean, cov = feature_statistics(features)
    np.testing.assert_allclose(mean, [2.0, 4.0])
    np.testing.assert_allclose(cov, np.cov(features.T, ddof=1))


# ------------------------------------------------------------------ the shipped network
def test_shipped_feature_net_matches_its_record_and_accuracy(dsprites):
    weights, record_file = feature_net_files("dsprites")
    record = json.loads(record_file.read_text())
    assert sha256_file(weights) == record["weights_sha256"]
    assert weights.stat().st_size < 1_000_000
    loaded = load_feature_net("dsprites")
    assert loaded.sha256 == record["weights_sha256"]
    accuracy = factor_accuracy(loaded.network, dsprites, 1000, seed=record["accuracy_eval"]["seed"])
    for factor, recorded in record["accuracy"].items():
        assert accuracy[factor] == pytest.approx(recorded, abs=0.05), factor
    assert accuracy["shape"] > 0.8 and accuracy["pos_x"] > 0.7  # far above chance (1/3, 1/32)
    features = loaded.network.features(dsprites.sample(4, torch.Generator().manual_seed(0))[0])
    assert features.shape == (4, record["architecture"]["feature_dim"])


def test_a_tampered_feature_net_is_refused(tmp_path):
    weights, record_file = feature_net_files("dsprites")
    data = weights.read_bytes()
    (tmp_path / "dsprites.pt").write_bytes(data[:1000] + bytes([data[1000] ^ 1]) + data[1001:])  # one bit flipped
    (tmp_path / "dsprites.json").write_text(record_file.read_text())
    with pytest.raises(MetricError, match="sha256"):
        load_feature_net("dsprites", directory=tmp_path)


# ------------------------------------------------------------------ metrics through the suite
def test_fd_and_kid_separate_real_images_from_noise(dsprites, tmp_path):
    real = score(dsprites, real_generate(dsprites), "fd,kid", tmp_path)
    noise = score(dsprites, noise_generate, "fd,kid", tmp_path)
    assert real["metrics"]["fd"]["fd"] < 0.05 * noise["metrics"]["fd"]["fd"]
    assert abs(real["metrics"]["kid"]["kid_mean"]) < 0.05 * noise["metrics"]["kid"]["kid_mean"]
    record = json.loads(feature_net_files("dsprites")[1].read_text())
    config = real["config"]
    assert config["image_quality"]["feature_net"]["sha256"] == record["weights_sha256"]
    assert record["weights_sha256"] in config["estimators"]["fd"]
    assert config["sizes"]["image_quality"]["num_real"] == 400
    assert any("400 real / 400 generated" in note for note in real["notes"])


def test_results_repeat_for_a_seed_and_fd_kid_share_generated_images(dsprites, tmp_path):
    calls = []

    def counted(count, generator):
        calls.append(count)
        return real_generate(dsprites)(count, generator)

    first = score(dsprites, counted, "fd,kid", tmp_path, batch_size=200)
    assert calls == [200, 200]  # 400 images once, not once per metric
    second = score(dsprites, counted, "fd,kid", tmp_path, batch_size=200)
    assert first["metrics"] == second["metrics"]


class CountingDataset:
    """Forwards to a dataset and counts ``sample`` calls."""

    def __init__(self, dataset):
        self.dataset, self.sample_calls = dataset, 0
        self.name, self.variant, self.image_shape = dataset.name, dataset.variant, dataset.image_shape

    def sample(self, count, generator=None, device=None):
        self.sample_calls += 1
        return self.dataset.sample(count, generator, device)


def test_reference_statistics_are_cached_and_reused(dsprites, tmp_path):
    counting = CountingDataset(dsprites)
    extractor = metrics.image_quality.factor_net_extractor("dsprites", torch.device("cpu"))
    first = reference_statistics(counting, extractor, "fast", 300, batch_size=100, cache_dir=tmp_path)
    assert counting.sample_calls == 3 and not first.from_cache and first.cache_file.is_file()
    second = reference_statistics(counting, extractor, "fast", 300, batch_size=100, cache_dir=tmp_path)
    assert counting.sample_calls == 3 and second.from_cache
    np.testing.assert_array_equal(first.features, second.features)
    np.testing.assert_allclose(first.cov, second.cov)
    other_protocol = reference_statistics(counting, extractor, "dlib", 300, batch_size=100, cache_dir=tmp_path)
    assert counting.sample_calls == 6 and not other_protocol.from_cache
    assert sorted(path.suffix for path in tmp_path.iterdir()) == [".npz", ".npz"]  # no temporary files left
    first.cache_file.write_bytes(b"not an npz")  # a corrupt cache is recomputed, not trusted
    again = reference_statistics(counting, extractor, "fast", 300, batch_size=100, cache_dir=tmp_path)
    assert counting.sample_calls == 9 and not again.from_cache


def test_image_metrics_need_a_generator_and_a_known_dataset(dsprites, tmp_path):
    without = metrics.evaluate(lambda images: images.flatten(1)[:, :3], dsprites, names="fd", protocol="fast")
    assert "fd" not in without["metrics"] and any("generative model" in note for note in without["notes"])
    mnist_like = CountingDataset(dsprites)
    mnist_like.name = "unknown_dataset"
    result = metrics.evaluate_representation(
        lambda factors: factors.float(), dsprites.factor_sizes, names="fd,kid", protocol="fast",
        dataset=mnist_like, generate_images=noise_generate, image_options=ImageQualityOptions(cache_dir=tmp_path),
    )
    assert result["metrics"] == {}
    assert any("no factor-classifier feature network" in note for note in result["notes"])


# ------------------------------------------------------------------ inception
class TinyInception(torch.nn.Module):
    """Stands in for Inception: a conv, global average pool, 8-d features [n, 8, 1, 1]."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.conv = torch.nn.Conv2d(3, 8, 3, stride=2)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.adaptive_avg_pool2d(torch.relu(self.conv(images / 255.0)), 1)


class RangeProbe(torch.nn.Module):
    """Returns per-image [channels, side, min, max] of its input; takes return_features like NVIDIA's."""

    def forward(self, images: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        count = images.shape[0]
        shape = torch.tensor([float(images.shape[1]), float(images.shape[-1])]).expand(count, 2)
        return torch.cat([shape, images.amin(dim=(1, 2, 3))[:, None], images.amax(dim=(1, 2, 3))[:, None]], 1)


def scripted(module: torch.nn.Module, path: Path) -> Path:
    """Save ``module`` as a TorchScript file (what users pass as --inception-weights)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=FutureWarning, message=r".*torch\.jit")
        torch.jit.save(torch.jit.script(module), str(path))
    return path


def test_inception_metrics_skip_without_weights(dsprites, tmp_path):
    result = score(dsprites, real_generate(dsprites), "fd,inception_fid,inception_kid", tmp_path)
    assert set(result["metrics"]) == {"fd"}
    notes = " ".join(result["notes"])
    assert "inception_fid: skipped" in notes and "inception_kid: skipped" in notes and "--inception-weights" in notes


def test_inception_metrics_with_a_scripted_network(dsprites, tmp_path):
    weights = scripted(TinyInception(), tmp_path / "tiny_inception.pt")
    settings = {"inception_weights": weights, "inception_image_size": 48}
    real = score(dsprites, real_generate(dsprites), "inception_fid,inception_kid", tmp_path, **settings)
    noise = score(dsprites, noise_generate, "inception_fid,inception_kid", tmp_path, **settings)
    assert real["metrics"]["inception_fid"]["fid"] < 0.05 * noise["metrics"]["inception_fid"]["fid"]
    assert noise["metrics"]["inception_kid"]["kid_mean"] > 0
    inception = real["config"]["image_quality"]["inception"]
    assert inception["sha256"] == sha256_file(weights) and inception["input_range"] == "tf"
    assert inception["image_size"] == 48 and sha256_file(weights) in real["config"]["estimators"]["inception_fid"]


@pytest.mark.parametrize("input_range, low, high", [("auto", 0.0, 255.0), ("tf", -1.0, 0.9921875), ("pt", -1.0, 1.0)])
def test_inception_preprocessing_grey_to_rgb_resize_and_range(tmp_path, input_range, low, high):
    probe = inception_extractor(scripted(RangeProbe(), tmp_path / "probe.pt"), torch.device("cpu"), input_range, 40)
    images = torch.zeros(2, 1, 64, 64)
    images[:, :, :8] = 1.0  # black and white rows survive the bilinear resize at the extremes
    channels, side, smallest, largest = probe.forward(images)[0].tolist()
    assert (channels, side) == (3.0, 40.0)
    assert smallest == pytest.approx(low) and largest == pytest.approx(high)
    assert probe.description["input_range"] == ("0-255" if input_range == "auto" else input_range)


def test_unloadable_inception_file_is_a_clear_error(tmp_path):
    bogus = tmp_path / "not_torchscript.pt"
    bogus.write_bytes(b"nothing")
    with pytest.raises(MetricError, match="TorchScript"):
        inception_extractor(bogus, torch.device("cpu"))


def test_cli_inception_weights_apply_to_runs_only(tmp_path):
    codes = tmp_path / "codes.npz"
    np.savez(codes, codes=np.zeros((10, 2)), factors=np.zeros((10, 1), dtype=int))
    weights = scripted(TinyInception(), tmp_path / "tiny.pt")
    outcome = CliRunner().invoke(cli, ["evaluate", "--codes", str(codes), "--inception-weights", str(weights)])
    assert outcome.exit_code != 0 and "--inception-weights" in outcome.output


def test_a_trained_run_gets_fd_and_kid_with_options_from_the_context(tiny_run_dir, tmp_path):
    from infogan_kit.run import load_run

    run = load_run(tiny_run_dir, device="cpu")
    weights = scripted(TinyInception(), tmp_path / "tiny.pt")
    options = ImageQualityOptions(num_real=200, num_generated=200, kid_num_subsets=5, cache_dir=tmp_path,
                                  inception_weights=weights, inception_image_size=32, device="cpu")
    with metrics.image_quality_options(options):
        result = run.evaluate(names="fd,kid,inception_fid", protocol="fast", merge=False)
    assert result["metrics"]["fd"]["fd"] > 0 and np.isfinite(result["metrics"]["kid"]["kid_mean"])
    assert result["metrics"]["inception_fid"]["fid"] >= 0
    assert result["config"]["image_quality"]["sizes"]["num_generated"] == 200
