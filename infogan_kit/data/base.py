"""The ground-truth dataset contract every benchmark dataset follows.

A :class:`FactorDataset` is a set of images together with the discrete factors of variation
that produced them (disentanglement_lib's ``GroundTruthData``). Factors are 0-based class
indices on a grid of ``factor_sizes``; the flat index of a factor tuple is row-major with the
*last* factor fastest, as in the official dSprites/3DShapes/MPI3D files.

Subclasses implement :meth:`FactorDataset._render` (factor indices -> images) and set the
class attributes; everything else (uniform sampling, index arithmetic, whole-batch iterators,
a plain ``torch.utils.data.Dataset`` view) is shared here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch

from ..errors import DatasetError


# ------------------------------------------------------------------ factor-grid arithmetic
# The one home of the mixed-radix grid arithmetic: FactorDataset's methods and the metrics'
# lookup tables (infogan_kit.metrics.sampling) both call these.
def num_grid_points(factor_sizes: Sequence[int]) -> int:
    """Number of points on the factor grid (the product of ``factor_sizes``)."""
    return math.prod(int(size) for size in factor_sizes)


def grid_strides(factor_sizes: Sequence[int]) -> tuple[int, ...]:
    """Row-major strides of the grid, last factor fastest: ``flat index = sum(factor * stride)``."""
    strides = [1] * len(factor_sizes)
    for axis in range(len(factor_sizes) - 2, -1, -1):
        strides[axis] = strides[axis + 1] * int(factor_sizes[axis + 1])
    return tuple(strides)


def grid_flat_index(factors: torch.Tensor, factor_sizes: Sequence[int]) -> torch.Tensor:
    """Flat grid indices of integer factor tuples ``[..., K]`` -> LongTensor ``[...]`` (same device)."""
    strides = torch.tensor(grid_strides(factor_sizes), dtype=torch.long, device=factors.device)
    return (factors.long() * strides).sum(-1)


def grid_factors(index: torch.Tensor, factor_sizes: Sequence[int]) -> torch.Tensor:
    """Factor tuples of flat grid indices ``[...]`` -> LongTensor ``[..., K]`` (same device).

    Indices are not range-checked (:meth:`FactorDataset.index_to_factors` checks them).
    """
    sizes = torch.tensor(tuple(factor_sizes), dtype=torch.long, device=index.device)
    strides = torch.tensor(grid_strides(factor_sizes), dtype=torch.long, device=index.device)
    return (index.long()[..., None] // strides) % sizes


def sample_grid_factors(num_samples: int, factor_sizes: Sequence[int], generator: torch.Generator | None = None) -> torch.Tensor:
    """Draw ``num_samples`` factor tuples uniformly from the grid -> LongTensor ``[num_samples, K]`` on the
    generator's device (CPU without one): a training step on a GPU draws its factors there."""
    device = generator.device if generator is not None else torch.device("cpu")
    sizes = torch.tensor(tuple(factor_sizes), dtype=torch.float64, device=device)
    uniform = torch.rand(num_samples, len(sizes), generator=generator, dtype=torch.float64, device=device)
    factors = (uniform * sizes).long()
    # rand() < 1 always, but guard against rounding in the float64 product.
    return torch.minimum(factors, sizes.long() - 1)


@dataclass(frozen=True)
class DatasetInfo:
    """What ``infogan datasets`` shows about a dataset.

    Attributes:
        name: registry name.
        factor_names: names of the ground-truth factors (empty for unlabeled data).
        factor_sizes: number of classes of each factor.
        image_shape: (C, H, W).
        needs_file: True when the data must be supplied by the user.
        source: where the official file can be obtained ("" for procedural data).
        description: one sentence about the dataset.
    """

    name: str
    factor_names: tuple[str, ...]
    factor_sizes: tuple[int, ...]
    image_shape: tuple[int, int, int]
    needs_file: str
    source: str
    description: str


class FactorDataset:
    """Images with the ground-truth factors that generated them.

    Attributes:
        name: registry name of the dataset (``"dsprites"``, ...).
        factor_names: one name per factor, e.g. ``("shape", "scale", ...)``.
        factor_sizes: number of classes of each factor.
        image_shape: ``(C, H, W)`` of one image.
        has_factors: False for unlabeled image collections (the factor methods then raise).
        variant: a short string naming the source, e.g. ``"procedural"`` or ``"file"``.
        deterministic_images: True when ``images(factors)`` is a function of the factors alone
            (no per-image randomness) on a finite grid, so each grid image may be represented once
            and reused (the metrics' grid cache, :mod:`infogan_kit.metrics.grid_cache`).
    """

    name: str = "factor_dataset"
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    image_shape: tuple[int, int, int] = (1, 64, 64)
    has_factors: bool = True
    variant: str = "procedural"
    needs_file: str = "no"
    """``"no"`` (procedural), ``"optional"`` (procedural unless a file is given) or ``"yes"``."""
    source: str = ""
    """Where the official file can be obtained (empty for procedural data)."""
    description: str = ""
    """One sentence shown by ``infogan datasets``."""
    deterministic_images: bool = False
    """Whether each factor tuple always renders the same image (no noise, colour or other draws)."""

    # ------------------------------------------------------------------ factor grid
    @property
    def num_factors(self) -> int:
        """Number of ground-truth factors K."""
        return len(self.factor_sizes)

    @property
    def num_combinations(self) -> int:
        """Number of points on the factor grid (product of ``factor_sizes``)."""
        self._require_factors()
        return num_grid_points(self.factor_sizes)

    def _require_factors(self) -> None:
        if not self.has_factors:
            raise DatasetError(
                f"dataset {self.name!r} has no ground-truth factors; factor sampling and the "
                "disentanglement metrics need a dataset with factors (e.g. dsprites)"
            )

    def sample_factors(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw ``n`` factor tuples uniformly from the grid.

        Args:
            n: number of samples.
            generator: optional CPU ``torch.Generator`` for reproducibility.

        Returns:
            LongTensor ``[n, K]`` of 0-based class indices (on the CPU).
        """
        self._require_factors()
        return sample_grid_factors(n, self.factor_sizes, generator)

    def index_to_factors(self, index: torch.Tensor | int) -> torch.Tensor:
        """Convert flat grid indices (last factor fastest) to factor tuples.

        Args:
            index: int or LongTensor ``[n]`` in ``[0, num_combinations)``.

        Returns:
            LongTensor ``[n, K]`` (``[K]`` for an int).
        """
        self._require_factors()
        index_t = torch.as_tensor(index, dtype=torch.long)
        scalar = index_t.dim() == 0
        index_t = index_t.reshape(-1)
        if len(index_t) and (index_t.min() < 0 or index_t.max() >= self.num_combinations):
            raise DatasetError(f"flat index out of range [0, {self.num_combinations}) for {self.name}")
        factors = grid_factors(index_t, self.factor_sizes)
        return factors[0] if scalar else factors

    def factors_to_index(self, factors: torch.Tensor) -> torch.Tensor:
        """Convert factor tuples ``[n, K]`` (or ``[K]``) to flat grid indices ``[n]`` (or scalar)."""
        self._require_factors()
        return grid_flat_index(self.check_factors(factors), self.factor_sizes)

    def check_factors(self, factors: torch.Tensor) -> torch.Tensor:
        """Validate a factor tensor: integer, last dimension K, every value inside its grid.

        Returns:
            the factors as a LongTensor (same shape).
        """
        self._require_factors()
        factors_t = torch.as_tensor(factors)
        if factors_t.dtype.is_floating_point or factors_t.dtype == torch.bool:
            raise DatasetError(f"factors must be integer class indices, got dtype {factors_t.dtype}")
        factors_t = factors_t.long()
        if factors_t.shape[-1:] != (self.num_factors,):
            raise DatasetError(
                f"{self.name} has {self.num_factors} factors {self.factor_names}, "
                f"got factors of shape {tuple(factors_t.shape)}"
            )
        if factors_t.numel():
            sizes = torch.tensor(self.factor_sizes, device=factors_t.device)
            if bool((factors_t < 0).any()) or bool((factors_t >= sizes).any()):
                raise DatasetError(f"factor values outside the grid {self.factor_sizes} of {self.name}")
        return factors_t

    # ------------------------------------------------------------------ images
    def images(
        self,
        factors: torch.Tensor,
        device: torch.device | str | None = None,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Render (or look up) the images of the given factor tuples.

        Args:
            factors: LongTensor ``[n, K]``.
            device: where the images are returned (default: the factors' device).
            generator: CPU generator feeding per-image randomness (colour or noise variants,
                the choice among several images sharing a label).

        Returns:
            FloatTensor ``[n, C, H, W]`` in ``[0, 1]``.
        """
        factors_t = self.check_factors(factors)
        target = torch.device(device) if device is not None else factors_t.device
        return self._render(factors_t, target, generator)

    def _render(self, factors: torch.Tensor, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        raise NotImplementedError

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` uniform factor tuples and their images.

        Returns:
            ``(images [n, C, H, W] float in [0, 1] on device, factors [n, K] long on device)``.
        """
        factors = self.sample_factors(n, generator)
        target = torch.device(device) if device is not None else torch.device("cpu")
        images = self._render(factors, target, generator)  # drawn inside the grid: no check (and no host sync)
        return images, factors.to(target)

    def batches(
        self,
        batch_size: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """An endless iterator of whole batches ``(images, factors)`` built directly on ``device``."""
        if batch_size <= 0:
            raise DatasetError(f"batch_size must be positive, got {batch_size}")
        while True:
            yield self.sample(batch_size, generator=generator, device=device)

    def as_torch_dataset(self) -> torch.utils.data.Dataset:
        """A plain map-style ``torch.utils.data.Dataset`` of ``(image [C,H,W], factors [K])``.

        Item ``i`` is the grid point with flat index ``i``. Convenient for DataLoader-based code;
        :meth:`batches` is far faster for training on synthetic data.
        """
        return _GridTorchDataset(self)

    # ------------------------------------------------------------------ description
    @classmethod
    def describe(cls) -> DatasetInfo:
        """What ``infogan datasets`` lists for this dataset (from the class attributes; no file is opened)."""
        return DatasetInfo(
            name=cls.name,
            factor_names=cls.factor_names,
            factor_sizes=cls.factor_sizes,
            image_shape=cls.image_shape,
            needs_file=cls.needs_file,
            source=cls.source,
            description=cls.description,
        )

    def info(self) -> DatasetInfo:
        """The dataset's :class:`DatasetInfo` (what ``infogan datasets`` prints)."""
        return self.describe()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(name={self.name!r}, variant={self.variant!r}, "
            f"factors={dict(zip(self.factor_names, self.factor_sizes))}, image_shape={self.image_shape})"
        )


class _GridTorchDataset(torch.utils.data.Dataset):
    """Map-style view of a :class:`FactorDataset`: item i = grid point with flat index i."""

    def __init__(self, dataset: FactorDataset) -> None:
        self.dataset = dataset
        self._length = dataset.num_combinations

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < self._length:
            raise IndexError(index)
        factors = self.dataset.index_to_factors(torch.tensor([index]))
        generator = torch.Generator().manual_seed(int(index))
        image = self.dataset.images(factors, generator=generator)[0]
        return image, factors[0]
