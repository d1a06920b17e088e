"""Official data files: finding them, turning read failures into one clear error, and the
official dSprites npz.

Finding: :func:`resolve_data_file` takes the user's ``path`` (a file, or a directory holding
the official file name) or, without one, looks for the official name inside ``$INFOGAN_DATA``.
Nothing is ever downloaded; a missing file is a :class:`DatasetError` saying where to get it.

Reading ``.npz`` members with bounded memory (memory-mapped in place when stored, decompressed
once into a memory-mapped cache when compressed) lives in :mod:`infogan_kit.data.npz`; its
helpers are re-exported here. Members holding Python objects are never unpickled (headers are
parsed directly, object dtypes refused, ``allow_pickle=False`` wherever ``np.load`` is used):
the official dSprites file has such a ``metadata`` entry, and it is simply not read.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import torch

from ..errors import DatasetError
from .dsprites import DSPRITES_FILE, DSPRITES_URL
from .npz import (
    CACHE_ENV,
    NpzMember,
    cache_dir,
    cache_path,
    cached_npz_transform,
    iter_npz_rows,
    memmap_npz_member,
    npz_keys,
    npz_member,
)

DATA_ENV = "INFOGAN_DATA"

__all__ = [
    "CACHE_ENV",
    "DATA_ENV",
    "DSpritesNpz",
    "NpzMember",
    "cache_dir",
    "cache_path",
    "cached_npz_transform",
    "check_index",
    "data_root",
    "gather_rows",
    "iter_npz_rows",
    "memmap_npz_member",
    "npz_keys",
    "npz_member",
    "official_file_errors",
    "resolve_data_file",
    "uint8_rows_to_images",
]

# ---------------------------------------------------------------------------- locating files
def data_root() -> Path | None:
    """The directory named by ``$INFOGAN_DATA`` (``None`` when unset or empty)."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(value).expanduser() if value else None


def resolve_data_file(path: str | Path | None, filename: str, dataset_name: str, source: str) -> Path:
    """Find a dataset's official file.

    Args:
        path: the file itself, a directory holding ``filename``, or ``None`` to look for
            ``filename`` inside ``$INFOGAN_DATA``.
        filename: the official file name (e.g. ``"3dshapes.h5"``).
        dataset_name: registry name, used in the error message.
        source: where the official file can be obtained, used in the error message.

    Returns:
        the absolute path of an existing file.

    Raises:
        DatasetError: the file does not exist; the message names ``filename`` and ``source``.
    """
    hint = f"get the official file {filename} from {source}"
    if path is None:
        root = data_root()
        if root is None:
            raise DatasetError(
                f"{dataset_name} needs the official file {filename}: pass path=... (CLI: --data-path) "
                f"or put it in the directory named by ${DATA_ENV}; {hint}"
            )
        candidate = root / filename
        where = f"${DATA_ENV} ({root})"
    else:
        candidate = Path(path).expanduser()
        where = str(candidate)
        if candidate.is_dir():
            candidate = candidate / filename
    if not candidate.is_file():
        raise DatasetError(f"{dataset_name}: {filename} not found in {where} (looked for {candidate}); {hint}")
    return candidate.resolve()


@contextmanager
def official_file_errors(path: Path, filename: str, source: str) -> Iterator[None]:
    """Turn any failure while reading ``path`` into one :class:`DatasetError` naming the
    expected official file and where to get it."""
    hint = f"expected the official file {filename} (get it from {source})"
    try:
        yield
    except DatasetError as error:
        raise DatasetError(f"{path}: {error}; {hint}") from None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as error:
        raise DatasetError(f"cannot read {path} ({type(error).__name__}: {error}); {hint}") from None


def gather_rows(array: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``array[index]`` for a memory map, reading each needed row once in file order.

    Args:
        array: ``[N, ...]`` (memory map or array).
        index: int array ``[n]`` in ``[0, N)``.

    Returns:
        ``[n, ...]`` in-memory copy.
    """
    unique, inverse = np.unique(index, return_inverse=True)
    return np.asarray(array[unique])[inverse.reshape(-1)]


def uint8_rows_to_images(rows: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """Convert ``uint8 [n, H, W, C]`` rows to ``float32 [n, C, H, W]`` in ``[0, 1]`` on ``device``."""
    tensor = torch.from_numpy(np.ascontiguousarray(rows)).to(device)
    return tensor.permute(0, 3, 1, 2).to(torch.float32).div_(255.0)


def check_index(index: torch.Tensor | np.ndarray, size: int, what: str) -> np.ndarray:
    """Validate flat row indices: returns them as int64 numpy ``[n]``; out of ``[0, size)`` raises."""
    index_np = np.asarray(torch.as_tensor(index).detach().cpu(), dtype=np.int64).reshape(-1)
    if index_np.size and (index_np.min() < 0 or index_np.max() >= size):
        raise DatasetError(f"row index out of range [0, {size}) for {what}")
    return index_np


# ---------------------------------------------------------------------------- dSprites file
class DSpritesNpz:
    """The official dSprites file ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz``.

    Arrays: ``imgs`` uint8 ``[737280, 64, 64]`` of 0/1, ``latents_classes`` int ``[737280, 6]``
    (colour, shape, scale, orientation, posX, posY; posY fastest), ``latents_values`` float
    ``[737280, 6]``; the pickled ``metadata`` entry is never read. The constant colour column is
    dropped, as in disentanglement_lib. Compressed ``imgs`` are cached bit-packed (8 pixels per
    byte: about 377 MB for the real file) and memory-mapped; stored ``imgs`` are mapped in place.

    Args:
        path: the npz file.

    Raises:
        DatasetError: missing key, wrong shape or dtype, rows out of grid order, non-binary
            images, or an unreadable file (the message names the official file and its source).
    """

    _factor_sizes: tuple[int, ...] = (1, 3, 6, 40, 32, 32)
    """Grid of ``latents_classes`` (colour first). Tests shrink it to write tiny files."""
    _image_size = 64
    _check_stride = 7
    """Every 7th row of ``latents_classes`` is checked against the grid order."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.num_images = int(np.prod(self._factor_sizes))
        self._pixels = self._image_size * self._image_size
        self._packed: np.ndarray | None = None
        self._raw: np.ndarray | None = None
        with official_file_errors(self.path, DSPRITES_FILE, DSPRITES_URL):
            keys = set(npz_keys(self.path))
            missing = sorted({"imgs", "latents_classes", "latents_values"} - keys)
            if missing:
                raise DatasetError(f"missing arrays {missing} (found {sorted(keys)})")
            side = self._image_size
            latent_shape = (self.num_images, len(self._factor_sizes))
            imgs = self._member("imgs", (self.num_images, side, side), lambda d: d == np.uint8, "uint8")
            classes = self._member("latents_classes", latent_shape, lambda d: d.kind in "iu", "integer")
            self._member("latents_values", latent_shape, lambda d: d.kind == "f", "float")
            self._check_grid_order(classes)
            if imgs.compressed:
                self._packed = cached_npz_transform(imgs, "packbits", self._pack, (self._pixels // 8,), np.uint8)
            else:
                self._raw = memmap_npz_member(imgs)
                self._check_binary(np.asarray(self._raw[:: max(1, self.num_images // 512)]))

    def _member(self, key: str, shape: tuple[int, ...], dtype_ok: Callable[[np.dtype], bool], dtype_name: str) -> NpzMember:
        member = npz_member(self.path, key)
        if member.shape != shape or not dtype_ok(member.dtype):
            raise DatasetError(
                f"array {key!r} has shape {member.shape} and dtype {member.dtype}, "
                f"expected shape {shape} and dtype {dtype_name}"
            )
        return member

    def _check_grid_order(self, classes: NpzMember) -> None:
        """Check a strided subsample of ``latents_classes`` against the grid (posY fastest)."""
        start = 0
        for chunk in iter_npz_rows(classes):
            rows = np.arange(start, start + len(chunk))
            keep = rows % self._check_stride == 0
            sample, rows = chunk[keep], rows[keep]
            if sample.size and np.any(sample[:, 0] != sample[0, 0]):
                raise DatasetError("latents_classes column 0 (colour) is not constant")
            expected = np.stack(np.unravel_index(rows, self._factor_sizes), axis=1)
            bad = np.flatnonzero(np.any(sample[:, 1:] != expected[:, 1:], axis=1))
            if bad.size:
                row = rows[bad[0]]
                raise DatasetError(
                    f"latents_classes row {row} is {sample[bad[0]].tolist()}, expected {expected[bad[0]].tolist()}: "
                    "rows are not in the official grid order (posY fastest)"
                )
            start += len(chunk)

    @staticmethod
    def _check_binary(images: np.ndarray) -> None:
        if images.size and images.max() > 1:
            raise DatasetError(f"array 'imgs' must hold 0/1 pixels, found value {int(images.max())}")

    def _pack(self, images: np.ndarray) -> np.ndarray:
        """``uint8 [rows, H, W]`` of 0/1 -> bit-packed ``uint8 [rows, H*W/8]``."""
        self._check_binary(images)
        return np.packbits(images.reshape(len(images), -1), axis=1)

    def masks(self, index: torch.Tensor) -> torch.Tensor:
        """The sprites of flat grid indices.

        Args:
            index: LongTensor ``[n]`` of row indices in ``[0, 737280)`` (colour dropped, so these
                are the 5-factor grid indices).

        Returns:
            uint8 tensor ``[n, 64, 64]`` of 0/1, on the CPU.
        """
        index_np = check_index(index, self.num_images, DSPRITES_FILE)
        side = self._image_size
        if self._packed is not None:
            bits = np.unpackbits(gather_rows(self._packed, index_np), axis=1, count=self._pixels)
        else:
            bits = (gather_rows(self._raw, index_np) != 0).astype(np.uint8)
        return torch.from_numpy(bits.reshape(len(index_np), side, side))

    def __len__(self) -> int:
        return self.num_images
