"""MPI3D (toy, realistic, real) from the current public npz files (file only, never downloaded).

Each file (``mpi3d_toy.npz``, ``mpi3d_realistic.npz``, ``mpi3d_real.npz``) holds one array
``images`` uint8 ``[1036800, 64, 64, 3]``; the factors are given by the row order (last factor
fastest), as in disentanglement_lib:

================  =======  ==============================================
factor            classes  meaning
================  =======  ==============================================
object_color      6        white, green, red, blue, brown, olive
object_shape      6        cone, cube, cylinder, hexagonal, pyramid, sphere
object_size       2        small, large
camera_height     3        top, center, bottom
background_color  3        purple, sea green, salmon
horizontal_axis   40       rotation of the robot arm's first joint
vertical_axis     40       rotation of its second joint
================  =======  ==============================================

The array is memory-mapped: in place when the member is stored (as in the public files, as far
as we know), otherwise decompressed once into the cache (see :mod:`infogan_kit.data.npz`).
The files carry no labels, so the row order cannot be checked; shape and dtype are.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import DatasetError
from .base import FactorDataset
from .files import (
    gather_rows,
    memmap_npz_member,
    npz_keys,
    npz_member,
    official_file_errors,
    resolve_data_file,
    uint8_rows_to_images,
)

MPI3D_URL = "https://github.com/rr-learning/disentanglement_dataset"


class MPI3DToy(FactorDataset):
    """MPI3D-toy: 1,036,800 simple renders of a robot arm holding an object (official npz).

    Args:
        path: the npz file or a directory holding it; ``None`` looks in ``$INFOGAN_DATA``.

    Raises:
        DatasetError: missing file, no ``images`` array, wrong shape or dtype, corrupt file
            (the message names the official file and where to get it).
    """

    name = "mpi3d_toy"
    filename = "mpi3d_toy.npz"
    factor_names = (
        "object_color",
        "object_shape",
        "object_size",
        "camera_height",
        "background_color",
        "horizontal_axis",
        "vertical_axis",
    )
    factor_sizes = (6, 6, 2, 3, 3, 40, 40)
    image_shape = (3, 64, 64)
    variant = "file"
    description = "MPI3D robot-arm scenes, simple synthetic renders (toy)"
    needs_file = "yes"
    source = f"{MPI3D_URL} (file {filename})"

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = resolve_data_file(path, self.filename, self.name, self.source)
        with official_file_errors(self.path, self.filename, self.source):
            keys = npz_keys(self.path)
            if "images" not in keys:
                raise DatasetError(f"missing array 'images' (found {sorted(keys)})")
            member = npz_member(self.path, "images")
            channels, height, width = self.image_shape
            expected = (self.num_combinations, height, width, channels)
            if member.shape != expected or member.dtype != np.uint8:
                raise DatasetError(
                    f"array 'images' has shape {member.shape} and dtype {member.dtype}, "
                    f"expected shape {expected} and dtype uint8"
                )
            self._images = memmap_npz_member(member)

    def _render(self, factors: torch.Tensor, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        index = self.factors_to_index(factors.cpu()).numpy()
        with official_file_errors(self.path, self.filename, self.source):
            rows = gather_rows(self._images, index)
        return uint8_rows_to_images(rows, device)

class MPI3DRealistic(MPI3DToy):
    """MPI3D-realistic: the same scenes rendered realistically (official ``mpi3d_realistic.npz``)."""

    name = "mpi3d_realistic"
    filename = "mpi3d_realistic.npz"
    source = f"{MPI3D_URL} (file {filename})"
    description = "MPI3D robot-arm scenes, realistic renders"


class MPI3DReal(MPI3DToy):
    """MPI3D-real: camera images of the real robot platform (official ``mpi3d_real.npz``)."""

    name = "mpi3d_real"
    filename = "mpi3d_real.npz"
    source = f"{MPI3D_URL} (file {filename})"
    description = "MPI3D robot-arm scenes, real camera images"
