"""Ground-truth datasets: every dataset is a :class:`FactorDataset`.

Use :func:`load_dataset` (the single entry point) and :func:`register_dataset` to add your own::

    from infogan_kit.data import load_dataset
    ds = load_dataset("dsprites")                 # procedural, no file needed
    images, factors = ds.sample(64, torch.Generator().manual_seed(0))
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..errors import DatasetError
from ..registry import Registry
from .base import DatasetInfo, FactorDataset

DATASETS: Registry[Callable[..., FactorDataset]] = Registry("dataset", DatasetError)
"""Dataset name -> FactorDataset subclass (constructed as ``cls(path=..., **options)``)."""


def register_dataset(name: str, cls: Callable[..., FactorDataset] | None = None, *, overwrite: bool = False):
    """Register a dataset class (or factory) under ``name``; usable as a decorator.

    The registered object is called as ``cls(path=path, **options)`` and should provide a
    ``describe() -> DatasetInfo`` classmethod for ``infogan datasets``.
    """
    return DATASETS.register(name, cls, overwrite=overwrite)


def load_dataset(name: str, path: str | Path | None = None, **options: Any) -> FactorDataset:
    """Create the dataset registered as ``name``.

    Args:
        name: a registered name (see :func:`dataset_names`).
        path: the user-supplied data file or folder, where the dataset reads one.
        options: dataset-specific options (e.g. ``source="file"``, ``resolution=64``).

    Raises:
        DatasetError: unknown name (the message lists the available ones), missing or
            malformed file, invalid option.
    """
    cls = DATASETS.get(name)
    try:
        return cls(path=path, **options)
    except TypeError as error:
        raise DatasetError(f"invalid options for dataset {name!r}: {error}") from None


def dataset_names() -> list[str]:
    """Names of every registered dataset, in registration order."""
    return DATASETS.names()


def describe_datasets() -> list[DatasetInfo]:
    """A :class:`DatasetInfo` for every registered dataset (no file is opened)."""
    return [DATASETS.get(name).describe() for name in DATASETS.names()]


from .dsprites import ColorDSprites, DSprites, NoisyDSprites  # noqa: E402

register_dataset("dsprites", DSprites)
register_dataset("color_dsprites", ColorDSprites)
register_dataset("noisy_dsprites", NoisyDSprites)

from .image_folder import ImageFolder  # noqa: E402
from .mnist import MNIST, FashionMNIST  # noqa: E402
from .mpi3d import MPI3DReal, MPI3DRealistic, MPI3DToy  # noqa: E402
from .shapes3d import Shapes3D  # noqa: E402

register_dataset("shapes3d", Shapes3D)
register_dataset("mpi3d_toy", MPI3DToy)
register_dataset("mpi3d_realistic", MPI3DRealistic)
register_dataset("mpi3d_real", MPI3DReal)
register_dataset("mnist", MNIST)
register_dataset("fashion_mnist", FashionMNIST)
register_dataset("image_folder", ImageFolder)

__all__ = [
    "DATASETS",
    "DatasetInfo",
    "FactorDataset",
    "DSprites",
    "ColorDSprites",
    "NoisyDSprites",
    "Shapes3D",
    "MPI3DToy",
    "MPI3DRealistic",
    "MPI3DReal",
    "MNIST",
    "FashionMNIST",
    "ImageFolder",
    "dataset_names",
    "describe_datasets",
    "load_dataset",
    "register_dataset",
]
