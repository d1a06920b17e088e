"""MPI3D loaders on tiny npz files written in the official layout (one ``images`` array)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from infogan_kit.data import MPI3DReal, MPI3DToy, load_dataset
from infogan_kit.errors import DatasetError

TINY_GRID = (2, 2, 2, 1, 1, 2, 3)  # 48 rows; object_color ... vertical_axis


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("INFOGAN_CACHE", str(cache))
    monkeypatch.delenv("INFOGAN_DATA", raising=False)
    return cache


@pytest.fixture
def tiny_grid(monkeypatch: pytest.MonkeyPatch) -> tuple[int, ...]:
    monkeypatch.setattr(MPI3DToy, "factor_sizes", TINY_GRID)  # the subclasses inherit it
    return TINY_GRID


def tiny_images(count: int = 48, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 64, 64, 3), dtype=np.uint8)


@pytest.mark.parametrize("compressed", [False, True])
def test_images_follow_row_order(tmp_path: Path, tiny_grid, isolated_dirs: Path, compressed: bool) -> None:
    images = tiny_images()
    path = tmp_path / "mpi3d_toy.npz"
    (np.savez_compressed if compressed else np.savez)(path, images=images)
    dataset = load_dataset("mpi3d_toy", path=path)
    assert dataset.num_factors == 7 and dataset.image_shape == (3, 64, 64)
    factors = torch.tensor([[1, 0, 1, 0, 0, 1, 2], [0, 0, 0, 0, 0, 0, 1], [1, 0, 1, 0, 0, 1, 2]])
    # Row order: last factor fastest.
    assert dataset.factors_to_index(factors).tolist() == [24 + 6 + 5, 1, 35]
    result = dataset.images(factors)
    expected = torch.from_numpy(images[[35, 1, 35]]).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(result, expected)
    cached = sorted(isolated_dirs.glob("*.npy")) if isolated_dirs.exists() else []
    if compressed:
        assert len(cached) == 1  # decompressed once into the cache
    else:
        assert isinstance(dataset._images, np.memmap) and cached == []  # mapped in place


def test_each_variant_reads_its_official_file_from_infogan_data(
    tmp_path: Path, tiny_grid, monkeypatch: pytest.MonkeyPatch
) -> None:
    for seed, name in enumerate(("mpi3d_toy", "mpi3d_realistic", "mpi3d_real")):
        np.savez(tmp_path / f"{name}.npz", images=tiny_images(seed=seed))
    monkeypatch.setenv("INFOGAN_DATA", str(tmp_path))
    first_pixels = {}
    for name in ("mpi3d_toy", "mpi3d_realistic", "mpi3d_real"):
        dataset = load_dataset(name)
        assert dataset.path == (tmp_path / f"{name}.npz").resolve()
        first_pixels[name] = dataset.images(torch.zeros(1, 7, dtype=torch.long))
    assert not torch.equal(first_pixels["mpi3d_toy"], first_pixels["mpi3d_real"])
    assert torch.equal(first_pixels["mpi3d_real"][0], torch.from_numpy(tiny_images(seed=2)[0]).permute(2, 0, 1) / 255)


def test_missing_file_names_official_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"mpi3d_real\.npz.*rr-learning/disentanglement_dataset"):
        load_dataset("mpi3d_real", path=tmp_path)


def test_real_size_shape_is_checked(tmp_path: Path) -> None:
    path = tmp_path / "mpi3d_real.npz"
    np.savez(path, images=tiny_images())
    with pytest.raises(DatasetError) as caught:
        MPI3DReal(path)
    message = str(caught.value)
    assert "(1036800, 64, 64, 3)" in message and "mpi3d_real.npz" in message and "rr-learning" in message


@pytest.mark.parametrize(
    "arrays, expected",
    [
        ({"imgs": tiny_images()}, r"missing array 'images' \(found \['imgs'\]\)"),
        ({"images": tiny_images().astype(np.float32)}, "dtype float32, expected .* dtype uint8"),
        ({"images": tiny_images().transpose(0, 3, 1, 2).copy()}, r"shape \(48, 3, 64, 64\)"),
    ],
    ids=["missing-key", "wrong-dtype", "channels-first"],
)
def test_layout_errors(tmp_path: Path, tiny_grid, arrays: dict, expected: str) -> None:
    path = tmp_path / "mpi3d_toy.npz"
    np.savez(path, **arrays)
    with pytest.raises(DatasetError, match=expected) as caught:
        MPI3DToy(path)
    assert "get it from" in str(caught.value)


def test_corrupt_and_truncated_files(tmp_path: Path, tiny_grid) -> None:
    path = tmp_path / "mpi3d_toy.npz"
    np.savez(path, images=tiny_images())
    path.write_bytes(path.read_bytes()[:-200])  # the zip directory is cut off
    with pytest.raises(DatasetError, match=r"cannot read .*mpi3d_toy\.npz"):
        MPI3DToy(path)
    path.write_bytes(b"not a zip file at all")
    with pytest.raises(DatasetError, match="cannot read"):
        MPI3DToy(path)
