"""image_folder: any folder of images, no factors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from infogan_kit.data import load_dataset
from infogan_kit.errors import DatasetError


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("INFOGAN_DATA", raising=False)


def solid(size: tuple[int, int], colour: tuple[int, int, int], mode: str = "RGB") -> Image.Image:
    return Image.new("RGB", size, colour).convert(mode)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Five images in nested folders (png, jpg, bmp, webp, RGBA png) and files to ignore."""
    root = tmp_path / "images"
    (root / "nested" / "deeper").mkdir(parents=True)
    solid((64, 64), (255, 0, 0)).save(root / "a_red.png")
    solid((50, 30), (0, 255, 0)).save(root / "nested" / "b_green.JPG", quality=100)
    solid((16, 16), (0, 0, 255)).save(root / "nested" / "c_blue.bmp")
    solid((20, 20), (255, 255, 255), "L").save(root / "nested" / "deeper" / "d_white.webp", lossless=True)
    # Wide image: red sides, blue square middle; the centre crop keeps only blue.
    wide = np.zeros((40, 80, 3), dtype=np.uint8)
    wide[:, :20] = (255, 0, 0)
    wide[:, 60:] = (255, 0, 0)
    wide[:, 20:60] = (0, 0, 255)
    Image.fromarray(wide).convert("RGBA").save(root / "e_wide.png")
    (root / "notes.txt").write_text("not an image")
    (root / "nested" / "fake.png.bak").write_bytes(b"nope")
    return root


def test_lists_images_recursively_and_decodes(folder: Path) -> None:
    dataset = load_dataset("image_folder", path=folder, resolution=32)
    assert [p.name for p in dataset.files] == ["a_red.png", "e_wide.png", "b_green.JPG", "c_blue.bmp", "d_white.webp"]
    assert dataset.image_shape == (3, 32, 32) and dataset.info().image_shape == (3, 32, 32)
    images = dataset.load(torch.arange(5))
    assert images.shape == (5, 3, 32, 32) and images.dtype == torch.float32
    means = images.mean((2, 3))
    assert torch.allclose(means[0], torch.tensor([1.0, 0.0, 0.0]), atol=0.02)
    assert torch.allclose(means[1], torch.tensor([0.0, 0.0, 1.0]), atol=0.02)  # centre-cropped
    assert torch.allclose(means[2], torch.tensor([0.0, 1.0, 0.0]), atol=0.05)  # jpeg
    assert torch.allclose(means[4], torch.ones(3), atol=0.02)  # greyscale webp -> RGB


def test_sample_batches_and_torch_dataset(folder: Path) -> None:
    dataset = load_dataset("image_folder", path=folder, channels=1, resolution=16)
    images, factors = dataset.sample(12, torch.Generator().manual_seed(0))
    assert images.shape == (12, 1, 16, 16) and factors.shape == (12, 0) and factors.dtype == torch.long
    again, _ = dataset.sample(12, torch.Generator().manual_seed(0))
    assert torch.equal(images, again)
    distinct = {round(float(v), 3) for v in images.mean((1, 2, 3))}
    assert len(distinct) >= 3  # draws from several files
    batch_images, batch_factors = next(dataset.batches(4, torch.Generator().manual_seed(1)))
    assert batch_images.shape == (4, 1, 16, 16) and batch_factors.shape == (4, 0)
    torch_dataset = dataset.as_torch_dataset()
    assert len(torch_dataset) == 5
    image, empty = torch_dataset[4]
    assert image.shape == (1, 16, 16) and empty.shape == (0,)
    assert float(image.mean()) == pytest.approx(1.0, abs=0.02)
    with pytest.raises(IndexError):
        torch_dataset[5]


def test_factor_methods_raise_clear_error(folder: Path) -> None:
    dataset = load_dataset("image_folder", path=folder)
    assert dataset.has_factors is False and dataset.num_factors == 0
    for call in (
        lambda: dataset.sample_factors(3),
        lambda: dataset.images(torch.zeros(3, 0, dtype=torch.long)),
        lambda: dataset.index_to_factors(0),
        lambda: dataset.num_combinations,
    ):
        with pytest.raises(DatasetError, match="no ground-truth factors.*need a dataset with factors"):
            call()


def test_invalid_folders_and_options(tmp_path: Path, folder: Path) -> None:
    with pytest.raises(DatasetError, match="needs path"):
        load_dataset("image_folder")
    with pytest.raises(DatasetError, match="is not a folder"):
        load_dataset("image_folder", path=tmp_path / "missing")
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "sub" / "readme.md").write_text("x")
    with pytest.raises(DatasetError, match="no png/jpg/jpeg/bmp/webp images"):
        load_dataset("image_folder", path=tmp_path / "empty")
    with pytest.raises(DatasetError, match="resolution must be a positive integer"):
        load_dataset("image_folder", path=folder, resolution=0)
    with pytest.raises(DatasetError, match="channels must be 1 or 3"):
        load_dataset("image_folder", path=folder, channels=4)


def test_corrupt_image_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    dataset = load_dataset("image_folder", path=tmp_path)
    with pytest.raises(DatasetError, match=r"cannot decode image .*broken\.png"):
        dataset.sample(1)
