"""3DShapes loader on tiny h5 files written in the official layout (``images``, ``labels``)."""

from __future__ import annotations

import pickle
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from infogan_kit.data import Shapes3D, load_dataset
from infogan_kit.data.shapes3d import read_rows
from infogan_kit.errors import DatasetError

TINY_GRID = (2, 2, 2, 2, 2, 3)  # floor_hue, wall_hue, object_hue, scale, shape, orientation


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("INFOGAN_DATA", raising=False)


@pytest.fixture
def tiny_grid(monkeypatch: pytest.MonkeyPatch) -> tuple[int, ...]:
    monkeypatch.setattr(Shapes3D, "factor_sizes", TINY_GRID)
    return TINY_GRID


def official_labels(grid: tuple[int, ...]) -> np.ndarray:
    """float64 ``[N, 6]`` factor values in grid order (last factor fastest), as in the real file."""
    value_tables = [
        np.arange(grid[0]) / grid[0],
        np.arange(grid[1]) / grid[1],
        np.arange(grid[2]) / grid[2],
        np.linspace(0.75, 1.25, grid[3]),
        np.arange(grid[4], dtype=np.float64),
        np.linspace(-30, 30, grid[5]),
    ]
    classes = np.unravel_index(np.arange(int(np.prod(grid))), grid)
    return np.stack([table[c] for table, c in zip(value_tables, classes)], axis=1)


def write_h5(path: Path, images: np.ndarray, labels: np.ndarray, **dataset_options) -> Path:
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=images, **dataset_options)
        handle.create_dataset("labels", data=labels)
    return path


def tiny_images(count: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (count, 64, 64, 3), dtype=np.uint8)


@pytest.mark.parametrize("chunked", [False, True])
def test_images_match_file_rows(tmp_path: Path, tiny_grid, chunked: bool) -> None:
    images = tiny_images(96)
    options = {"chunks": (8, 64, 64, 3), "compression": "gzip"} if chunked else {}
    write_h5(tmp_path / "3dshapes.h5", images, official_labels(tiny_grid), **options)
    dataset = load_dataset("shapes3d", path=tmp_path / "3dshapes.h5")
    assert dataset.factor_names == ("floor_hue", "wall_hue", "object_hue", "scale", "shape", "orientation")
    assert dataset.image_shape == (3, 64, 64)
    factors = torch.tensor([[1, 0, 1, 1, 0, 2], [0, 0, 0, 0, 0, 0], [1, 0, 1, 1, 0, 2], [1, 1, 1, 1, 1, 1]])
    result = dataset.images(factors)
    assert result.shape == (4, 3, 64, 64) and result.dtype == torch.float32
    rows = dataset.factors_to_index(factors).numpy()
    expected = torch.from_numpy(images[rows]).permute(0, 3, 1, 2).float() / 255
    assert torch.equal(result, expected)
    sampled, sampled_factors = dataset.sample(10, torch.Generator().manual_seed(0))
    assert sampled.shape == (10, 3, 64, 64) and 0.0 <= float(sampled.min()) and float(sampled.max()) <= 1.0
    assert sampled_factors.shape == (10, 6)


def test_found_in_infogan_data_and_picklable(tmp_path: Path, tiny_grid, monkeypatch: pytest.MonkeyPatch) -> None:
    images = tiny_images(96, seed=1)
    write_h5(tmp_path / "3dshapes.h5", images, official_labels(tiny_grid))
    monkeypatch.setenv("INFOGAN_DATA", str(tmp_path))
    dataset = load_dataset("shapes3d")
    first = dataset.images(torch.tensor([[1, 1, 0, 1, 0, 2]]))
    clone = pickle.loads(pickle.dumps(dataset))  # e.g. for DataLoader workers: the handle is reopened
    assert torch.equal(clone.images(torch.tensor([[1, 1, 0, 1, 0, 2]])), first)
    image, factors = dataset.as_torch_dataset()[95]
    assert factors.tolist() == [1, 1, 1, 1, 1, 2]
    assert torch.equal(image, torch.from_numpy(images[95]).permute(2, 0, 1).float() / 255)
    dataset.close()


def test_missing_file_names_official_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"3dshapes\.h5.*deepmind/3d-shapes"):
        load_dataset("shapes3d", path=tmp_path)
    with pytest.raises(DatasetError, match="INFOGAN_DATA"):
        load_dataset("shapes3d")


def test_real_size_shape_is_checked(tmp_path: Path) -> None:
    path = write_h5(tmp_path / "3dshapes.h5", tiny_images(96), official_labels(TINY_GRID))
    with pytest.raises(DatasetError) as caught:
        Shapes3D(path)  # the real grid expects 480,000 images
    message = str(caught.value)
    assert "(480000, 64, 64, 3)" in message and "3dshapes.h5" in message and "deepmind/3d-shapes" in message


@pytest.mark.parametrize(
    "images, labels, expected",
    [
        (tiny_images(96).astype(np.float32), official_labels(TINY_GRID), "dtype float32, expected .* dtype uint8"),
        (tiny_images(96), official_labels(TINY_GRID)[:, :5], r"'labels' has shape \(96, 5\)"),
        (tiny_images(96), official_labels(TINY_GRID)[::-1], "grid order"),
        (tiny_images(96), np.roll(official_labels(TINY_GRID), 1, axis=0), "grid order"),
    ],
    ids=["float-images", "five-labels", "reversed-rows", "shifted-rows"],
)
def test_layout_errors(tmp_path: Path, tiny_grid, images: np.ndarray, labels: np.ndarray, expected: str) -> None:
    path = write_h5(tmp_path / "3dshapes.h5", images, labels)
    with pytest.raises(DatasetError, match=expected) as caught:
        Shapes3D(path)
    assert "get it from" in str(caught.value)


def test_missing_dataset_and_corrupt_file(tmp_path: Path, tiny_grid) -> None:
    path = tmp_path / "3dshapes.h5"
    with h5py.File(path, "w") as handle:
        handle.create_dataset("images", data=tiny_images(96))
    with pytest.raises(DatasetError, match="missing dataset 'labels'"):
        Shapes3D(path)
    path.write_bytes(b"\x89HDF\r\n" + bytes(100))  # not a readable HDF5 file
    with pytest.raises(DatasetError, match=r"cannot read .*3dshapes\.h5"):
        Shapes3D(path)


def test_read_rows_slices_runs_and_selects_points() -> None:
    class Recorder:
        """Stands in for an h5py dataset; records each selection."""

        shape = (2000, 2)
        dtype = np.dtype(np.int64)

        def __init__(self) -> None:
            self.data = np.arange(4000).reshape(2000, 2)
            self.selections: list[object] = []

        def __getitem__(self, key):
            self.selections.append(key)
            return self.data[key]

    recorder = Recorder()
    rows = np.concatenate([np.arange(100, 612), np.array([700, 900, 1999])])
    np.testing.assert_array_equal(read_rows(recorder, rows), recorder.data[rows])
    assert recorder.selections[0] == slice(100, 612)  # the contiguous first 512 rows: one slice
    assert len(recorder.selections) == 2
    assert read_rows(recorder, np.array([], dtype=np.int64)).shape == (0, 2)
