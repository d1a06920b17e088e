"""Any folder of images, without ground-truth factors.

Every ``.png``, ``.jpg``, ``.jpeg``, ``.bmp`` and ``.webp`` file under the folder (recursively,
case-insensitive extensions, sorted by path) is one image. An image is decoded when it is
requested (nothing is held in memory), its EXIF orientation applied, converted to RGB
(``channels=3``) or greyscale (``channels=1``), centre-cropped to a square and resized to
``resolution x resolution`` (bicubic).

There are no factors: ``factor_names`` is empty, ``has_factors`` is False, and the factor
methods (``sample_factors``, ``images``, ``index_to_factors``, ...) raise the base class's
error saying a dataset with factors is needed. ``sample``/``batches`` draw random images and
return an empty factor tensor ``[n, 0]``; ``as_torch_dataset()`` lists every image.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from ..errors import DatasetError
from .base import DatasetInfo, FactorDataset

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


def list_images(folder: Path) -> list[Path]:
    """Every image file under ``folder`` (recursive, sorted), by extension."""
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def load_image(path: Path, resolution: int, channels: int) -> torch.Tensor:
    """Decode one image file.

    Args:
        path: an image file.
        resolution: output side in pixels.
        channels: 1 (greyscale) or 3 (RGB).

    Returns:
        FloatTensor ``[channels, resolution, resolution]`` in [0, 1].

    Raises:
        DatasetError: the file cannot be decoded.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            image = image.convert("RGB" if channels == 3 else "L")
            image = ImageOps.fit(image, (resolution, resolution), method=Image.Resampling.BICUBIC)
            pixels = np.asarray(image, dtype=np.uint8)
    except (OSError, UnidentifiedImageError, ValueError) as error:
        raise DatasetError(f"cannot decode image {path}: {error}") from None
    tensor = torch.from_numpy(pixels.copy())
    tensor = tensor.unsqueeze(0) if channels == 1 else tensor.permute(2, 0, 1)
    return tensor.to(torch.float32).div_(255.0)


class ImageFolder(FactorDataset):
    """A folder of images (no factors), resized to ``channels x resolution x resolution``.

    Args:
        path: the folder (searched recursively).
        resolution: output side in pixels (default 64).
        channels: 3 for RGB (default) or 1 for greyscale.

    Raises:
        DatasetError: no path, a missing folder, a folder without images, invalid options.
    """

    name = "image_folder"
    factor_names: tuple[str, ...] = ()
    factor_sizes: tuple[int, ...] = ()
    image_shape = (3, 64, 64)
    has_factors = False
    variant = "folder"
    description = "any folder of png/jpg/jpeg/bmp/webp images (no factors; for training and image quality)"
    needs_file = "yes"
    source = "your own folder of images (path=FOLDER; options resolution, channels)"

    def __init__(self, path: str | Path | None = None, resolution: int = 64, channels: int = 3) -> None:
        if path is None:
            raise DatasetError("image_folder needs path=FOLDER (CLI: --data-path), a folder of images")
        if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution <= 0:
            raise DatasetError(f"image_folder resolution must be a positive integer, got {resolution!r}")
        if channels not in (1, 3) or isinstance(channels, bool):
            raise DatasetError(f"image_folder channels must be 1 or 3, got {channels!r}")
        self.path = Path(path).expanduser()
        if not self.path.is_dir():
            raise DatasetError(f"image_folder: {self.path} is not a folder")
        self.files = list_images(self.path)
        if not self.files:
            raise DatasetError(f"image_folder: no {'/'.join(e[1:] for e in IMAGE_EXTENSIONS)} images under {self.path}")
        self.resolution = resolution
        self.channels = channels
        self.image_shape = (channels, resolution, resolution)

    def __len__(self) -> int:
        return len(self.files)

    def load(self, index: torch.Tensor) -> torch.Tensor:
        """Images at positions ``index`` (LongTensor ``[n]``, sorted-path order) -> float ``[n, C, R, R]``."""
        shape = (0, *self.image_shape)
        loaded = [load_image(self.files[int(i)], self.resolution, self.channels) for i in index.tolist()]
        return torch.stack(loaded) if loaded else torch.empty(shape)

    def sample(
        self,
        n: int,
        generator: torch.Generator | None = None,
        device: torch.device | str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Draw ``n`` images uniformly (with replacement) using ``generator``.

        Returns:
            ``(images [n, C, R, R] float in [0, 1], factors LongTensor [n, 0])``, both on ``device``.
        """
        draw_device = generator.device if generator is not None else torch.device("cpu")
        index = torch.randint(len(self.files), (n,), generator=generator, device=draw_device).cpu()
        target = torch.device(device) if device is not None else torch.device("cpu")
        return self.load(index).to(target), torch.zeros(n, 0, dtype=torch.long, device=target)

    def as_torch_dataset(self) -> torch.utils.data.Dataset:
        """A map-style Dataset: item i = ``(image [C, R, R], empty factors LongTensor [0])``."""
        return _FolderImages(self)

    def info(self) -> DatasetInfo:
        return dataclasses.replace(self.describe(), image_shape=self.image_shape)


class _FolderImages(torch.utils.data.Dataset):
    """Map-style view of an :class:`ImageFolder`: item i = the i-th file, decoded."""

    def __init__(self, dataset: ImageFolder) -> None:
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self.dataset.load(torch.tensor([index]))[0], torch.zeros(0, dtype=torch.long)
