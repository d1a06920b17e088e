"""3DShapes from the official ``3dshapes.h5`` (DeepMind; file only, never downloaded).

The file holds ``images`` uint8 ``[480000, 64, 64, 3]`` and ``labels`` float64 ``[480000, 6]``
(the factor *values*), rows in grid order with the last factor fastest:

=============  =======  ======================================
factor         classes  values in ``labels``
=============  =======  ======================================
floor_hue      10       0.0, 0.1, ..., 0.9
wall_hue       10       0.0, 0.1, ..., 0.9
object_hue     10       0.0, 0.1, ..., 0.9
scale          8        linspace(0.75, 1.25, 8)
shape          4        0, 1, 2, 3 (four object shapes)
orientation    15       linspace(-30, 30, 15) degrees
=============  =======  ======================================

The loader never reads the 5.9 GB of images at once: each request reads only the rows it
needs (sorted, unique, in bounded chunks) through h5py, and opening the file reads a small
subsample of ``labels`` to check the grid order: the label of a factor must depend on that
factor's class alone and increase strictly with it (exact values are not assumed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DatasetError
from .base import FactorDataset
from .files import official_file_errors, resolve_data_file, uint8_rows_to_images

SHAPES3D_FILE = "3dshapes.h5"
SHAPES3D_URL = "https://github.com/deepmind/3d-shapes (file 3dshapes.h5)"

_READ_ROWS = 512
"""Rows requested from h5py per selection (bounds the size of one read)."""


class Shapes3D(FactorDataset):
    """3DShapes: 480,000 RGB 64x64 renders of a 3D object in a room, from the official h5 file.

    Args:
        path: ``3dshapes.h5`` or a directory holding it; ``None`` looks in ``$INFOGAN_DATA``.

    Raises:
        DatasetError: missing file, not an HDF5 file, missing ``images``/``labels``, wrong shape
            or dtype, or rows out of grid order (the message names the file and its source).
    """

    name = "shapes3d"
    factor_names = ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    factor_sizes = (10, 10, 10, 8, 4, 15)
    image_shape = (3, 64, 64)
    variant = "file"
    description = "RGB renders of a 3D object in a room (DeepMind 3DShapes); official h5 file only"
    needs_file = "yes"
    source = SHAPES3D_URL

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = resolve_data_file(path, SHAPES3D_FILE, self.name, SHAPES3D_URL)
        self._handle: Any = None
        self._handle_pid: int | None = None
        with official_file_errors(self.path, SHAPES3D_FILE, SHAPES3D_URL):
            self._validate()

    # ------------------------------------------------------------------ file access
    def _file(self) -> Any:
        """The open ``h5py.File`` of this process (reopened after a fork, e.g. in DataLoader workers)."""
        import h5py

        if self._handle is None or self._handle_pid != os.getpid():
            self._handle = h5py.File(self.path, "r")
            self._handle_pid = os.getpid()
        return self._handle

    def close(self) -> None:
        """Close the h5 file (it is reopened on the next read)."""
        if self._handle is not None and self._handle_pid == os.getpid():
            self._handle.close()
        self._handle = None
        self._handle_pid = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handle"] = None
        state["_handle_pid"] = None
        return state

    def _dataset(self, key: str, shape: tuple[int, ...], kind: str) -> Any:
        import h5py

        handle = self._file()
        if key not in handle or not isinstance(handle[key], h5py.Dataset):
            raise DatasetError(f"missing dataset {key!r} (found {sorted(handle.keys())})")
        dataset = handle[key]
        if tuple(dataset.shape) != shape or dataset.dtype.kind != kind or (kind == "u" and dataset.dtype.itemsize != 1):
            raise DatasetError(
                f"dataset {key!r} has shape {tuple(dataset.shape)} and dtype {dataset.dtype}, "
                f"expected shape {shape} and dtype {'uint8' if kind == 'u' else 'float'}"
            )
        return dataset

    def _validate(self) -> None:
        count = self.num_combinations
        self._dataset("images", (count, *self.image_shape[1:], self.image_shape[0]), "u")
        labels = self._dataset("labels", (count, self.num_factors), "f")
        rows = self._probe_rows()
        sample = read_rows(labels, rows)
        classes = self.index_to_factors(torch.from_numpy(rows)).numpy()
        for column, factor in enumerate(self.factor_names):
            check_label_column(sample[:, column], classes[:, column], self.factor_sizes[column], factor)

    def _probe_rows(self) -> np.ndarray:
        """Sorted row indices covering every class of every factor plus a strided sample."""
        base = np.array(self.factor_sizes) // 2
        probes = []
        for column, size in enumerate(self.factor_sizes):
            grid = np.tile(base, (size, 1))
            grid[:, column] = np.arange(size)
            probes.append(np.ravel_multi_index(tuple(grid.T), self.factor_sizes))
        strided = np.arange(0, self.num_combinations, max(1, self.num_combinations // 997))
        return np.unique(np.concatenate([*probes, strided]))

    # ------------------------------------------------------------------ images
    def _render(self, factors: torch.Tensor, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        index = self.factors_to_index(factors.cpu()).numpy()
        unique, inverse = np.unique(index, return_inverse=True)
        with official_file_errors(self.path, SHAPES3D_FILE, SHAPES3D_URL):
            rows = read_rows(self._file()["images"], unique)
        return uint8_rows_to_images(rows[inverse.reshape(-1)], device)



def read_rows(dataset: Any, sorted_rows: np.ndarray) -> np.ndarray:
    """Read rows of an h5py dataset.

    Args:
        dataset: h5py dataset ``[N, ...]``.
        sorted_rows: strictly increasing int array ``[n]`` (what h5py point selection needs).

    Returns:
        array ``[n, ...]``, read ``_READ_ROWS`` rows per selection.
    """
    parts = []
    for start in range(0, len(sorted_rows), _READ_ROWS):
        chunk = sorted_rows[start : start + _READ_ROWS]
        first, last = int(chunk[0]), int(chunk[-1])
        if last - first + 1 == len(chunk):  # a contiguous run: one slice read
            parts.append(dataset[first : last + 1])
        else:
            parts.append(dataset[chunk])
    if not parts:
        return np.empty((0, *dataset.shape[1:]), dtype=dataset.dtype)
    return np.concatenate(parts)


def check_label_column(values: np.ndarray, classes: np.ndarray, size: int, factor: str) -> None:
    """Check that a label column is an increasing function of its factor's class.

    Args:
        values: float ``[n]`` labels read from the file.
        classes: int ``[n]`` classes expected for those rows from the grid order.
        size: number of classes (every class must occur in ``classes``).
        factor: the factor's name, for the message.

    Raises:
        DatasetError: two rows of one class carry different values, or the values do not
            increase strictly with the class (every factor of the official file does).
    """
    per_class = np.full(size, np.nan)
    for class_index in range(size):
        members = values[classes == class_index]
        if members.size == 0:
            continue
        if not np.allclose(members, members[0], rtol=0.0, atol=1e-6):
            raise DatasetError(
                f"labels of factor {factor!r} vary within class {class_index}: rows are not in the "
                "official grid order (orientation fastest)"
            )
        per_class[class_index] = members[0]
    seen = per_class[~np.isnan(per_class)]
    if np.any(np.diff(seen) <= 1e-6):
        raise DatasetError(
            f"labels of factor {factor!r} do not increase with its class ({np.round(seen, 4).tolist()}): "
            "rows are not in the official grid order"
        )
