"""Representations of factors: the one input the sampling metrics (BetaVAE, FactorVAE) need.

A *representation of factors* is a callable ``represent_factors(factors) -> codes`` mapping a
LongTensor ``[n, K]`` of 0-based factor indices to codes ``[n, D]`` (numpy array or tensor).
It hides where the codes come from, so the same metric code serves:

* a trained model: :func:`model_representation` renders ``dataset.images(factors)`` and runs
  ``represent(images)`` in batches on the model's device, without gradients;
* a table of precomputed codes covering the whole factor grid (``infogan evaluate --codes``):
  :func:`lookup_representation` returns ``codes[flat index of factors]``;
* anything else a user or a benchmark writes (e.g. a noisy linear map of the factors).

Also here: uniform factor sampling with a ``torch.Generator`` and per-metric generators derived
from one seed.
"""

from __future__ import annotations

import zlib
from typing import Any, Callable, Sequence, Union

import numpy as np
import torch

from ..data.base import grid_flat_index, num_grid_points, sample_grid_factors
from ..errors import MetricError

Codes = Union[np.ndarray, torch.Tensor]
RepresentFactors = Callable[[torch.Tensor], Codes]
"""``represent_factors(factors: LongTensor [n, K]) -> codes [n, D]`` (numpy or torch)."""

REPRESENT_BATCH_SIZE = 64
"""Images per ``represent`` call (CPU convolutions of the shipped networks run about 1.5-2x faster
in batches of 32-64 than of 256: the activations stay in cache)."""

DEFAULT_CHUNK_ROWS = 65_536
"""Representation rows per vectorized step (bounds memory: rows x D float64)."""


def check_sampling_sizes(factor_sizes: Sequence[int], batch_size: int, *counts: int) -> tuple[int, ...]:
    """Validate a sampling metric's grid and sizes; return ``factor_sizes`` as a tuple of ints.

    Raises:
        MetricError: an empty grid or a non-positive class count, ``batch_size < 2``, or a
            non-positive sample count.
    """
    sizes = tuple(int(size) for size in factor_sizes)
    if not sizes or min(sizes) < 1:
        raise MetricError(f"factor_sizes must be positive class counts, got {tuple(factor_sizes)}")
    if batch_size < 2:
        raise MetricError(f"batch_size must be at least 2, got {batch_size}")
    if min(counts) < 1:
        raise MetricError(f"sample sizes must be positive, got {counts}")
    return sizes


def derive_generator(seed: int, name: str) -> torch.Generator:
    """A CPU generator seeded from ``(seed, name)``: each metric gets its own stream.

    Metrics drawing from their own stream keep their values when other metrics are added to or
    removed from a suite (disentanglement_lib also restarts its random state per metric).
    """
    mixed = (int(seed) * 1_000_003 + zlib.crc32(name.encode("utf-8"))) % (2**63 - 1)
    return torch.Generator().manual_seed(mixed)


def sample_uniform_factors(num_samples: int, factor_sizes: Sequence[int], generator: torch.Generator) -> torch.Tensor:
    """Draw factor tuples uniformly from the grid ``factor_sizes``.

    The arithmetic of :meth:`FactorDataset.sample_factors` (both call
    :func:`~infogan_kit.data.base.sample_grid_factors`), so a dataset and its ``factor_sizes``
    give identical draws for one generator state.

    Returns:
        LongTensor ``[num_samples, K]`` on the CPU.
    """
    return sample_grid_factors(num_samples, factor_sizes, generator)


def flat_index(factors: torch.Tensor | np.ndarray, factor_sizes: Sequence[int]) -> np.ndarray:
    """Row-major flat grid index (last factor fastest) of factor tuples ``[n, K]`` -> int64 ``[n]``.

    The arithmetic of :meth:`FactorDataset.factors_to_index` (both call
    :func:`~infogan_kit.data.base.grid_flat_index`), on numpy or CPU torch input.
    """
    if isinstance(factors, torch.Tensor):
        as_tensor = factors.detach().to("cpu", torch.long)
    else:
        as_tensor = torch.from_numpy(np.array(factors, dtype=np.int64))
    return grid_flat_index(as_tensor, factor_sizes).numpy()


def codes_to_numpy(codes: Codes, num_rows: int) -> np.ndarray:
    """Check a representation's output and return it as float64 numpy ``[num_rows, D]``.

    Raises:
        MetricError: wrong shape, or NaN/inf values.
    """
    if isinstance(codes, torch.Tensor):
        codes = codes.detach().to("cpu", torch.float64).numpy()
    array = np.asarray(codes, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != num_rows:
        raise MetricError(f"the representation must return codes of shape [{num_rows}, D], got {array.shape}")
    if not np.isfinite(array).all():
        raise MetricError("the representation returned NaN or inf codes")
    return array


def represent_numpy(represent_factors: RepresentFactors, factors: torch.Tensor) -> np.ndarray:
    """Evaluate ``represent_factors`` on ``factors [n, K]`` and return checked float64 ``[n, D]``."""
    return codes_to_numpy(represent_factors(factors), len(factors))


def model_representation(
    represent: Callable[[torch.Tensor], torch.Tensor],
    dataset,
    *,
    device: torch.device | str | None = None,
    batch_size: int = REPRESENT_BATCH_SIZE,
    generator: torch.Generator | None = None,
) -> RepresentFactors:
    """Wrap a model's ``represent(images) -> codes`` as a representation of factors.

    Args:
        represent: maps float images ``[n, C, H, W]`` in ``[0, 1]`` on ``device`` to codes ``[n, D]``.
        dataset: a :class:`~infogan_kit.data.FactorDataset` rendering images from factors.
        device: where images are rendered and ``represent`` runs (default: CPU).
        batch_size: images per call of ``represent``.
        generator: CPU generator for per-image randomness of the dataset (noise, colour).

    Returns:
        ``represent_factors(factors [n, K]) -> float64 numpy [n, D]``, evaluated under
        ``torch.no_grad()`` in batches of ``batch_size``.
    """
    if batch_size <= 0:
        raise MetricError(f"batch_size must be positive, got {batch_size}")
    target = torch.device(device) if device is not None else torch.device("cpu")

    def represent_factors(factors: torch.Tensor) -> np.ndarray:
        chunks = []
        with torch.no_grad():
            for start in range(0, len(factors), batch_size):
                images = dataset.images(factors[start : start + batch_size], device=target, generator=generator)
                codes = represent(images)
                chunks.append(codes_to_numpy(codes, len(images)))
        if not chunks:
            raise MetricError("cannot represent an empty set of factors")
        return np.concatenate(chunks, axis=0)

    return represent_factors


def module_device(represent: Any) -> torch.device:
    """The device of an ``nn.Module``'s first parameter (CPU for anything else)."""
    if isinstance(represent, torch.nn.Module):
        for parameter in represent.parameters():
            return parameter.device
    return torch.device("cpu")


def resolve_representation(
    represent: Callable[[torch.Tensor], Codes], grid: Any, generator: torch.Generator
) -> tuple[RepresentFactors, tuple[int, ...]]:
    """Accept both call forms of the sampling metrics.

    Args:
        represent: a representation of factors, or (when ``grid`` is a dataset) a model's
            ``represent(images) -> codes``.
        grid: ``factor_sizes`` (a sequence of ints), or a :class:`~infogan_kit.data.FactorDataset`.
        generator: the metric's generator (also feeds the dataset's per-image randomness).

    Returns:
        ``(represent_factors, factor_sizes)``; with a dataset, images are rendered and
        represented in batches of :data:`REPRESENT_BATCH_SIZE` on the model's device.
    """
    if hasattr(grid, "images") and hasattr(grid, "factor_sizes"):
        wrapped = model_representation(represent, grid, device=module_device(represent), generator=generator)
        return wrapped, tuple(int(size) for size in grid.factor_sizes)
    return represent, tuple(grid)


def lookup_representation(codes_by_index: np.ndarray, factor_sizes: Sequence[int]) -> RepresentFactors:
    """A representation that looks codes up in a table covering the whole factor grid.

    Args:
        codes_by_index: float ``[prod(factor_sizes), D]``: row ``i`` holds the code of the grid
            point with flat index ``i`` (last factor fastest).
        factor_sizes: the grid.

    Returns:
        ``represent_factors(factors [n, K]) -> float64 numpy [n, D]``.
    """
    table = np.asarray(codes_by_index, dtype=np.float64)
    expected = num_grid_points(factor_sizes)
    if table.ndim != 2 or table.shape[0] != expected:
        raise MetricError(f"a lookup table needs {expected} rows (one per grid point), got shape {table.shape}")

    def represent_factors(factors: torch.Tensor) -> np.ndarray:
        return table[flat_index(factors, factor_sizes)]

    return represent_factors


def grid_lookup_table(codes: np.ndarray, factors: np.ndarray, factor_sizes: Sequence[int]) -> np.ndarray | None:
    """Codes indexed by flat grid index when the rows cover every grid point, else ``None``.

    Args:
        codes: ``[N, D]`` codes; factors: ``[N, K]`` their factor classes (inside the grid).
        factor_sizes: the grid.

    Returns:
        float64 ``[prod(factor_sizes), D]`` (for repeated grid points the last row wins), or
        ``None`` when some grid point has no row.
    """
    num_points = num_grid_points(factor_sizes)
    if len(codes) < num_points:
        return None
    index = flat_index(factors, factor_sizes)
    if np.unique(index).size != num_points:
        return None
    table = np.empty((num_points, codes.shape[1]), dtype=np.float64)
    table[index] = codes
    return table
