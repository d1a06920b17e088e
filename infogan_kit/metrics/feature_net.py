"""The factor-classifier CNN whose penultimate layer is the feature space of ``fd`` and ``kid``.

Inception features need a 100 MB download and describe natural photographs. Our benchmark
datasets are small synthetic images with known factors, so the image-quality metrics use a small
CNN trained once per dataset to predict every ground-truth factor (one classification head per
factor) and read the 128-d penultimate layer. The weights ship with the package
(``infogan_kit/assets/feature_nets/<dataset>.pt``) next to a JSON record of the recipe
(architecture, steps, seed, data, accuracy per factor, torch version, sha256 of the weights), so
every machine scores with the same network; results record the sha256.

Architecture (:class:`FactorFeatureNet`): ``widths`` stride-2 4x4 convolutions with ReLU
(64 -> 32 -> 16 -> 8 -> 4 pixels), flatten, ``Linear -> feature_dim`` with ReLU, then one
``Linear(feature_dim, size_k)`` head per factor. No normalization layers, so train and eval
modes compute the same function. The features are that ReLU layer times a fixed
``feature_scale`` (a buffer in the weights file), calibrated after training so that the mean
squared feature over real images is 1: KID's kernel ``(x.y / d + 1)^3`` then sees values of
the order Inception features give, instead of numbers in the thousands.

``bench/train_feature_net.py`` runs :func:`train_feature_net` and :func:`save_feature_net`.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import MetricError

ASSET_DIR = Path(__file__).resolve().parent.parent / "assets" / "feature_nets"
"""Where the shipped feature networks live (``<dataset>.pt`` and ``<dataset>.json``)."""


@dataclass(frozen=True)
class FeatureNetSpec:
    """The architecture of a :class:`FactorFeatureNet` (recorded in the JSON).

    Attributes:
        in_channels: image channels C.
        image_size: image height = width (a multiple of ``2 ** len(widths)``).
        factor_sizes: classes per factor (one head each).
        widths: output channels of the stride-2 convolutions.
        feature_dim: size of the penultimate layer (the features).
    """

    in_channels: int
    image_size: int
    factor_sizes: tuple[int, ...]
    widths: tuple[int, ...] = (16, 32, 32, 32)
    feature_dim: int = 128

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "FeatureNetSpec":
        """Rebuild a spec from its JSON form (lists become tuples)."""
        return cls(
            int(values["in_channels"]), int(values["image_size"]), tuple(int(v) for v in values["factor_sizes"]),
            tuple(int(v) for v in values["widths"]), int(values["feature_dim"]),
        )


class FactorFeatureNet(nn.Module):
    """A CNN with one classification head per factor.

    Args:
        spec: the architecture.
    """

    def __init__(self, spec: FeatureNetSpec) -> None:
        super().__init__()
        self.spec = spec
        layers: list[nn.Module] = []
        channels = spec.in_channels
        for width in spec.widths:
            layers += [nn.Conv2d(channels, width, kernel_size=4, stride=2, padding=1), nn.ReLU()]
            channels = width
        side = spec.image_size // 2 ** len(spec.widths)
        self.body = nn.Sequential(*layers, nn.Flatten(), nn.Linear(channels * side * side, spec.feature_dim), nn.ReLU())
        self.heads = nn.ModuleList(nn.Linear(spec.feature_dim, size) for size in spec.factor_sizes)
        self.register_buffer("feature_scale", torch.ones(()))

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate-layer features, times ``feature_scale``.

        Args:
            images: float ``[n, C, H, W]`` in ``[0, 1]``.

        Returns:
            float ``[n, feature_dim]`` (non-negative: after ReLU).
        """
        return self.body(images) * self.feature_scale

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        """Per-factor logits: a list of K tensors ``[n, size_k]`` for images ``[n, C, H, W]``."""
        hidden = self.body(images)
        return [head(hidden) for head in self.heads]


@dataclass
class LoadedFeatureNet:
    """A shipped feature network, verified against its record.

    Attributes:
        dataset: the dataset it was trained on.
        network: the module, in eval mode, without gradients.
        sha256: hex digest of the weights file.
        record: the JSON recipe record.
        weights_path: the ``.pt`` file.
    """

    dataset: str
    network: FactorFeatureNet
    sha256: str
    record: dict[str, Any] = field(repr=False)
    weights_path: Path = field(repr=False)

    def describe(self) -> dict[str, Any]:
        """What results record about the network: name, file, sha256, feature size."""
        return {
            "name": f"factor_classifier/{self.dataset}",
            "file": f"infogan_kit/assets/feature_nets/{self.weights_path.name}",
            "sha256": self.sha256,
            "feature_dim": self.network.spec.feature_dim,
        }


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(2**20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def feature_net_files(dataset_name: str, directory: str | Path | None = None) -> tuple[Path, Path]:
    """``(weights .pt, record .json)`` paths of ``dataset_name``'s network (they may not exist)."""
    folder = Path(directory) if directory is not None else ASSET_DIR
    return folder / f"{dataset_name}.pt", folder / f"{dataset_name}.json"


def has_feature_net(dataset_name: str) -> bool:
    """Whether a feature network ships for ``dataset_name``."""
    weights, record = feature_net_files(dataset_name)
    return weights.is_file() and record.is_file()


def available_feature_nets() -> list[str]:
    """Names of the datasets with a shipped feature network."""
    return sorted(path.stem for path in ASSET_DIR.glob("*.pt") if path.with_suffix(".json").is_file())


_LOADED: dict[tuple[str, str, str], LoadedFeatureNet] = {}


def load_feature_net(
    dataset_name: str, device: torch.device | str = "cpu", directory: str | Path | None = None
) -> LoadedFeatureNet:
    """Load (once per process and device) the feature network of ``dataset_name``.

    The weights' sha256 is checked against the JSON record, so a corrupt or swapped file fails
    loudly instead of silently changing every number.

    Raises:
        MetricError: no network for this dataset, or the file does not match its record.
    """
    weights_path, record_path = feature_net_files(dataset_name, directory)
    key = (dataset_name, str(torch.device(device)), str(weights_path.parent))
    if key in _LOADED:
        return _LOADED[key]
    if not (weights_path.is_file() and record_path.is_file()):
        known = ", ".join(available_feature_nets()) or "none"
        raise MetricError(f"no image-quality feature network for dataset {dataset_name!r} (available: {known})")
    record = json.loads(record_path.read_text())
    digest = sha256_file(weights_path)
    if digest != record["weights_sha256"]:
        raise MetricError(f"{weights_path}: sha256 {digest} does not match its record {record['weights_sha256']}")
    network = FactorFeatureNet(FeatureNetSpec.from_dict(record["architecture"]))
    network.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    network.eval().requires_grad_(False).to(device)
    loaded = LoadedFeatureNet(dataset_name, network, digest, record, weights_path)
    _LOADED[key] = loaded
    return loaded


@torch.no_grad()
def factor_accuracy(
    network: FactorFeatureNet, dataset: Any, num_images: int, seed: int, batch_size: int = 500
) -> dict[str, float]:
    """Accuracy of every head on ``num_images`` uniform samples of ``dataset``.

    Args:
        network: the classifier.
        dataset: a FactorDataset (``sample(n, generator) -> (images, factors)``).
        num_images: images to score.
        seed: seeds the sample (a CPU ``torch.Generator``).

    Returns:
        ``{factor name: accuracy in [0, 1]}``.
    """
    generator = torch.Generator().manual_seed(seed)
    device = next(network.parameters()).device
    correct = torch.zeros(len(network.spec.factor_sizes), dtype=torch.long)
    done = 0
    while done < num_images:
        count = min(batch_size, num_images - done)
        images, factors = dataset.sample(count, generator)
        logits = network(images.to(device))
        correct += torch.stack([(out.argmax(1).cpu() == factors[:, k]).sum() for k, out in enumerate(logits)])
        done += count
    return {name: round(float(hits) / num_images, 4) for name, hits in zip(dataset.factor_names, correct)}


def train_feature_net(
    dataset: Any,
    *,
    steps: int = 3000,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    seed: int = 0,
    widths: tuple[int, ...] = (16, 32, 32, 32),
    feature_dim: int = 128,
    eval_images: int = 5000,
) -> tuple[FactorFeatureNet, dict[str, Any]]:
    """Train a factor classifier on fresh uniform samples of a procedural dataset.

    Recipe: Adam(``learning_rate``, betas (0.9, 0.999)) with a cosine decay to 0 over ``steps``,
    ``batch_size`` new images per step (no image is seen twice, so there is no overfitting),
    loss = mean over factors of the cross-entropy. Weights are initialized under
    ``torch.manual_seed(seed)``; images come from a CPU generator seeded with ``seed``.
    Accuracy is measured on ``eval_images`` images drawn with seed ``seed + 1``; then
    ``feature_scale`` is set so that the mean squared feature over ``eval_images`` images drawn
    with seed ``seed + 2`` is 1.

    Args:
        dataset: a FactorDataset with factors, images ``[n, C, S, S]`` in ``[0, 1]``.

    Returns:
        ``(network in eval mode, record)``; the record holds everything but the file hash
        (:func:`save_feature_net` adds it).
    """
    channels, height, width = dataset.image_shape
    if height != width:
        raise MetricError(f"feature networks need square images, got {dataset.image_shape}")
    spec = FeatureNetSpec(channels, height, tuple(dataset.factor_sizes), tuple(widths), feature_dim)
    torch.manual_seed(seed)
    network = FactorFeatureNet(spec)
    optimizer = torch.optim.Adam(network.parameters(), lr=learning_rate)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
    generator = torch.Generator().manual_seed(seed)
    start = time.perf_counter()
    network.train()
    for _ in range(steps):
        images, factors = dataset.sample(batch_size, generator)
        logits = network(images)
        loss = torch.stack([F.cross_entropy(out, factors[:, k]) for k, out in enumerate(logits)]).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
    train_seconds = time.perf_counter() - start
    network.eval().requires_grad_(False)
    accuracy = factor_accuracy(network, dataset, eval_images, seed + 1)
    calibration_images = dataset.sample(eval_images, torch.Generator().manual_seed(seed + 2))[0]
    with torch.no_grad():
        network.feature_scale.fill_(float(network.body(calibration_images).square().mean().rsqrt()))
    record = {
        "dataset": dataset.name,
        "variant": getattr(dataset, "variant", None),
        "architecture": {**asdict(spec), "class": "infogan_kit.metrics.feature_net.FactorFeatureNet",
                         "num_parameters": sum(p.numel() for p in network.parameters())},
        "features": "penultimate layer (after ReLU) times feature_scale",
        "feature_scale": {"value": float(network.feature_scale), "num_images": eval_images, "seed": seed + 2,
                          "rule": "mean over images and dimensions of feature^2 = 1"},
        "training": {
            "steps": steps, "batch_size": batch_size, "optimizer": "Adam(betas=(0.9, 0.999))",
            "learning_rate": learning_rate, "schedule": "cosine decay to 0", "seed": seed,
            "loss": "mean over factors of cross-entropy",
            "data": "fresh uniform factor samples rendered by the dataset each step",
            "threads": torch.get_num_threads(), "seconds": round(train_seconds, 1),
        },
        "accuracy": accuracy,
        "accuracy_eval": {"num_images": eval_images, "seed": seed + 1},
        "torch_version": torch.__version__,
    }
    return network, record


def save_feature_net(network: FactorFeatureNet, record: dict[str, Any], directory: str | Path | None = None) -> Path:
    """Write ``<dataset>.pt`` (the float32 state dict) and ``<dataset>.json`` (record + sha256).

    Returns:
        the weights path.
    """
    weights_path, record_path = feature_net_files(record["dataset"], directory)
    weights_path.parent.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().float().contiguous() for name, tensor in network.state_dict().items()}
    torch.save(state, weights_path)
    full_record = {**record, "weights_file": weights_path.name, "weights_sha256": sha256_file(weights_path),
                   "weights_bytes": weights_path.stat().st_size}
    record_path.write_text(json.dumps(full_record, indent=2) + "\n")
    _LOADED.clear()
    return weights_path
