"""The grid cache: represent each distinct grid image at most once per suite.

The sampling metrics (BetaVAE, FactorVAE) and the array draw ask for millions of codes under the
``dlib`` protocol (about 2.9 million rows on dSprites) but dSprites has only 737,280 grid
points, so most rows repeat. When a dataset declares ``deterministic_images`` (the image is a
function of its factors alone: procedural or file dSprites; not colour or noisy dSprites, which
draw per-image randomness), :class:`GridCodeCache` wraps the suite's representation of factors:

* every call maps its factor rows to flat grid indices, represents only the distinct indices not
  seen before (sorted, rendered and represented in the suite's batches), stores their codes in a
  table ``[grid points, D]`` and returns ``table[indices]``;
* the rows to represent are padded (with copies of the first) to whole batches of ``pad_to``
  images: CPU convolutions of tiny batches (1-7 images) take other kernels, whose codes differ
  by about 1e-7, while the direct route's batches are whole or large;
* the metrics draw exactly the same factor samples as without the cache (it sits behind the
  representation), so a representation that is a function of each row alone gives identical
  values; a real network differs at most by the round-off of other batch compositions (about
  1e-7 on the codes; none for the shipped InfoGAN-CR, whose batches of 8 or more agree bitwise).

Memory is bounded: the table is allocated when the code size ``D`` is first known and only if
``grid points x D x 8 bytes <= max_bytes`` (:data:`MAX_TABLE_BYTES`, 1 GiB; dSprites with 10
codes: 59 MB, of which only the rows represented are touched). A larger grid falls back to the
direct route for the rest of the suite and says so in ``config.representation.grid_cache``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ..data.base import grid_factors, num_grid_points
from ..errors import MetricError
from .sampling import RepresentFactors, flat_index, represent_numpy

MAX_TABLE_BYTES = 2**30
"""Largest code table (``grid points x D x 8`` bytes) the cache allocates; beyond it the suite
falls back to the direct route."""


class GridCodeCache:
    """A representation of factors that represents each grid point at most once.

    Args:
        represent_factors: the direct representation ``factors LongTensor [n, K] -> codes [n, D]``.
        factor_sizes: the grid.
        max_bytes: bound of the code table (see :data:`MAX_TABLE_BYTES`).
        pad_to: represent whole multiples of this many rows (the representation's batch size;
            1: no padding).

    Calling it is a drop-in replacement for ``represent_factors`` (float64 numpy ``[n, D]``).
    :meth:`record` describes what it did (written to ``config.representation.grid_cache``).
    """

    def __init__(self, represent_factors: RepresentFactors, factor_sizes: Sequence[int], max_bytes: int = MAX_TABLE_BYTES,
                 pad_to: int = 1) -> None:
        if max_bytes < 0 or pad_to < 1:
            raise MetricError(f"max_bytes must be non-negative and pad_to positive, got {max_bytes} and {pad_to}")
        self.pad_to = int(pad_to)
        self.padded_rows = 0
        self.represent_factors = represent_factors
        self.factor_sizes = tuple(int(size) for size in factor_sizes)
        self.num_points = num_grid_points(self.factor_sizes)
        self.max_bytes = int(max_bytes)
        self.table: np.ndarray | None = None
        self.known = np.zeros(self.num_points, dtype=bool)
        self.requested_rows = 0
        self.represented_rows = 0
        self.fallback_reason: str | None = None

    def __call__(self, factors: torch.Tensor) -> np.ndarray:
        if self.fallback_reason is not None or len(factors) == 0:
            return self._direct(factors)
        index = flat_index(factors, self.factor_sizes)
        self.requested_rows += len(index)
        missing = np.unique(index[~self.known[index]])
        if missing.size:
            codes = self._represent(missing)
            if self.table is None and not self._allocate(codes.shape[1]):
                return codes[np.searchsorted(missing, index)]
            self.table[missing] = codes
            self.known[missing] = True
        return self.table[index]

    def _represent(self, missing: np.ndarray) -> np.ndarray:
        """Codes ``[len(missing), D]`` of the sorted distinct flat indices ``missing``, padded to whole batches."""
        extra = -len(missing) % self.pad_to
        rows = np.concatenate([missing, np.full(extra, missing[0])]) if extra else missing
        codes = represent_numpy(self.represent_factors, grid_factors(torch.from_numpy(rows), self.factor_sizes))
        self.represented_rows += len(missing)
        self.padded_rows += extra
        return codes[: len(missing)]

    def _allocate(self, num_codes: int) -> bool:
        """Allocate the table for ``num_codes`` codes, or switch to the direct route (False)."""
        size = self.num_points * num_codes * 8
        if size > self.max_bytes:
            self.fallback_reason = (f"a table of {self.num_points} grid points x {num_codes} codes ({size / 2**20:.0f} MiB) "
                                    f"exceeds the bound of {self.max_bytes / 2**20:.0f} MiB; direct route used")
            self.known = np.zeros(0, dtype=bool)
            return False
        self.table = np.empty((self.num_points, num_codes), dtype=np.float64)
        return True

    def _direct(self, factors: torch.Tensor) -> np.ndarray:
        self.requested_rows += len(factors)
        self.represented_rows += len(factors)
        return represent_numpy(self.represent_factors, factors)

    def record(self) -> dict[str, Any]:
        """``{"used", "grid_points", "requested_rows", "represented_rows", "padding_rows"}`` (+ ``"reason"``
        when it fell back)."""
        record: dict[str, Any] = {"used": self.fallback_reason is None, "grid_points": self.num_points,
                                  "requested_rows": self.requested_rows, "represented_rows": self.represented_rows,
                                  "padding_rows": self.padded_rows}
        if self.fallback_reason is not None:
            record["reason"] = self.fallback_reason
        return record


def cache_skip_reason(dataset: Any, enabled: bool) -> str | None:
    """Why the suite represents every row directly (None: the grid cache applies)."""
    if not enabled:
        return "turned off (grid_cache=False)"
    if not getattr(dataset, "deterministic_images", False):
        return f"dataset {getattr(dataset, 'name', dataset)!r} does not declare deterministic images"
    return None


def maybe_cached(
    represent_factors: RepresentFactors, dataset: Any, enabled: bool = True, batch_size: int = 1,
    max_bytes: int = MAX_TABLE_BYTES,
) -> tuple[RepresentFactors, GridCodeCache | None, str | None]:
    """The suite's representation of factors: cached (padded to whole batches of ``batch_size``)
    when ``dataset`` allows it.

    Returns:
        ``(representation, cache or None, reason it is not cached or None)``.

    Raises:
        MetricError: ``enabled`` is not a bool.
    """
    if not isinstance(enabled, bool):
        raise MetricError(f"grid_cache must be True or False, got {enabled!r}")
    reason = cache_skip_reason(dataset, enabled)
    if reason is not None:
        return represent_factors, None, reason
    cache = GridCodeCache(represent_factors, dataset.factor_sizes, max_bytes, pad_to=batch_size)
    return cache, cache, None
