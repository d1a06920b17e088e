"""Official-file plumbing: finding files, npz members (stored / compressed + cache), and the
official dSprites npz on tiny files written in its exact layout."""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from infogan_kit.cli import cli
from infogan_kit.data import DSprites, load_dataset
from infogan_kit.data import npz as npz_module
from infogan_kit.data.files import (
    DSpritesNpz,
    cached_npz_transform,
    iter_npz_rows,
    memmap_npz_member,
    npz_member,
    resolve_data_file,
)
from infogan_kit.errors import DatasetError

DSPRITES_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
TINY_FILE_GRID = (1, 3, 2, 2, 2, 2)  # colour, shape, scale, orientation, posX, posY
UNPICKLED: list[str] = []


def _tripwire() -> str:
    UNPICKLED.append("metadata")
    return "unpickled"


class Tripwire:
    """Records being unpickled: the dSprites ``metadata`` entry must never be."""

    def __reduce__(self):
        return (_tripwire, ())


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Cache inside tmp_path, no INFOGAN_DATA from the user's environment."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("INFOGAN_CACHE", str(cache))
    monkeypatch.delenv("INFOGAN_DATA", raising=False)
    return cache


@pytest.fixture
def tiny_grid(monkeypatch: pytest.MonkeyPatch) -> tuple[int, ...]:
    """Shrink the dSprites grid so a file in the official layout is small."""
    monkeypatch.setattr(DSpritesNpz, "_factor_sizes", TINY_FILE_GRID)
    monkeypatch.setattr(DSprites, "factor_sizes", TINY_FILE_GRID[1:])
    return TINY_FILE_GRID


def dsprites_arrays(grid: tuple[int, ...], seed: int = 0) -> dict[str, np.ndarray]:
    """The official arrays for ``grid`` (random binary images, classes in grid order)."""
    count = int(np.prod(grid))
    rng = np.random.default_rng(seed)
    classes = np.stack(np.unravel_index(np.arange(count), grid), axis=1).astype(np.int64)
    return {
        "imgs": (rng.random((count, 64, 64)) < 0.1).astype(np.uint8),
        "latents_classes": classes,
        "latents_values": classes.astype(np.float64) / 10.0,
        "metadata": np.array(Tripwire(), dtype=object),
    }


def write_npz(path: Path, arrays: dict[str, np.ndarray], compressed: bool = True) -> Path:
    (np.savez_compressed if compressed else np.savez)(path, **arrays)
    return path


# ---------------------------------------------------------------------------- locating files
def test_resolve_file_directory_and_data_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "data" / "3dshapes.h5"
    target.parent.mkdir()
    target.write_bytes(b"x")
    assert resolve_data_file(target, "3dshapes.h5", "shapes3d", "SRC") == target.resolve()
    assert resolve_data_file(target.parent, "3dshapes.h5", "shapes3d", "SRC") == target.resolve()
    monkeypatch.setenv("INFOGAN_DATA", str(target.parent))
    assert resolve_data_file(None, "3dshapes.h5", "shapes3d", "SRC") == target.resolve()


def test_resolve_missing_file_names_file_and_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(DatasetError, match=r"3dshapes\.h5.*https://example\.org/src"):
        resolve_data_file(tmp_path, "3dshapes.h5", "shapes3d", "https://example.org/src")
    with pytest.raises(DatasetError, match="INFOGAN_DATA"):
        resolve_data_file(None, "3dshapes.h5", "shapes3d", "SRC")
    monkeypatch.setenv("INFOGAN_DATA", str(tmp_path))
    with pytest.raises(DatasetError, match=r"not found in \$INFOGAN_DATA"):
        resolve_data_file(None, "3dshapes.h5", "shapes3d", "SRC")


# ---------------------------------------------------------------------------- npz members
def test_stored_member_is_mapped_in_place(tmp_path: Path, isolated_dirs: Path) -> None:
    first = np.arange(1000, dtype=np.int16).reshape(100, 10)
    second = np.arange(60, dtype=">f8").reshape(20, 3)  # non-native byte order too
    path = write_npz(tmp_path / "stored.npz", {"first": first, "second": second}, compressed=False)
    member = npz_member(path, "second")
    assert not member.compressed and member.file_offset is not None
    mapped = memmap_npz_member(member)
    assert isinstance(mapped, np.memmap)
    np.testing.assert_array_equal(mapped, second)
    np.testing.assert_array_equal(memmap_npz_member(npz_member(path, "first")), first)
    assert not isolated_dirs.exists() or not any(isolated_dirs.iterdir())


def test_compressed_member_is_cached_once_and_reused(
    tmp_path: Path, isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = np.random.default_rng(0).integers(0, 255, (300, 7, 5), dtype=np.uint8)
    path = write_npz(tmp_path / "packed.npz", {"values": values})
    member = npz_member(path, "values")
    assert member.compressed and member.file_offset is None
    builds: list[Path] = []
    original = npz_module._write_cache

    def counting_write(target: Path, *args, **kwargs) -> None:
        builds.append(target)
        original(target, *args, **kwargs)

    monkeypatch.setattr(npz_module, "_write_cache", counting_write)
    first = memmap_npz_member(member)
    np.testing.assert_array_equal(first, values)
    assert len(builds) == 1 and builds[0].parent == isolated_dirs
    second = memmap_npz_member(npz_member(path, "values"))
    np.testing.assert_array_equal(second, values)
    assert len(builds) == 1  # reused, not decompressed again
    assert [p.suffix for p in isolated_dirs.iterdir()] == [".npy"]  # no temporary file left

    # A modified source (new mtime) gets a fresh cache.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    memmap_npz_member(npz_member(path, "values"))
    assert len(builds) == 2 and builds[1] != builds[0]


def test_decompression_streams_in_bounded_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = np.arange(64 * 32, dtype=np.int32).reshape(64, 32)  # 128 bytes per row
    member = npz_member(write_npz(tmp_path / "rows.npz", {"values": values}), "values")
    monkeypatch.setattr(npz_module, "CHUNK_BYTES", 1024)  # 8 rows per chunk
    chunk_sizes: list[int] = []

    def negate(rows: np.ndarray) -> np.ndarray:
        chunk_sizes.append(len(rows))
        return -rows

    cached = cached_npz_transform(member, "negate", negate, (32,), np.int32)
    np.testing.assert_array_equal(cached, -values)
    assert chunk_sizes == [8] * 8
    assert [len(c) for c in iter_npz_rows(member, rows_per_chunk=30)] == [30, 30, 4]


def test_failed_cache_build_leaves_nothing(tmp_path: Path, isolated_dirs: Path) -> None:
    member = npz_member(write_npz(tmp_path / "rows.npz", {"values": np.ones((10, 4))}), "values")

    def refuse(rows: np.ndarray) -> np.ndarray:
        raise DatasetError("bad rows")

    with pytest.raises(DatasetError, match="bad rows"):
        cached_npz_transform(member, "refuse", refuse, (4,), np.float64)
    assert list(isolated_dirs.iterdir()) == []


def test_pickled_member_is_refused_not_unpickled(tmp_path: Path) -> None:
    path = write_npz(tmp_path / "objects.npz", {"metadata": np.array(Tripwire(), dtype=object)})
    # The tripwire works: unpickling on purpose trips it.
    with np.load(path, allow_pickle=True) as archive:
        archive["metadata"]
    assert UNPICKLED == ["metadata"]
    UNPICKLED.clear()
    with pytest.raises(DatasetError, match="refusing to unpickle"):
        npz_member(path, "metadata")
    assert UNPICKLED == []


def corrupt_member_data(path: Path, key: str) -> None:
    """Zero 16 bytes in the middle of a member's compressed data (headers left intact)."""
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(f"{key}.npy")
    middle = info.header_offset + 100 + info.compress_size // 2
    raw[middle : middle + 16] = bytes(16)
    path.write_bytes(bytes(raw))


def test_corrupt_compressed_member_fails_on_read(tmp_path: Path) -> None:
    values = np.random.default_rng(1).integers(0, 255, (200, 64), dtype=np.uint8)
    path = write_npz(tmp_path / "bad.npz", {"values": values})
    member = npz_member(path, "values")  # the headers are intact
    corrupt_member_data(path, "values")
    with pytest.raises((zipfile.BadZipFile, zlib.error)):
        list(iter_npz_rows(member))


# ---------------------------------------------------------------------------- dSprites npz
@pytest.mark.parametrize("compressed", [True, False])
def test_dsprites_npz_masks_match_file(tmp_path: Path, tiny_grid, isolated_dirs: Path, compressed: bool) -> None:
    arrays = dsprites_arrays(tiny_grid)
    path = write_npz(tmp_path / DSPRITES_FILE, arrays, compressed=compressed)
    UNPICKLED.clear()
    data = DSpritesNpz(path)
    index = torch.tensor([5, 0, 47, 5, 12])
    masks = data.masks(index)
    assert masks.dtype == torch.uint8 and masks.shape == (5, 64, 64) and masks.device.type == "cpu"
    np.testing.assert_array_equal(masks.numpy(), arrays["imgs"][index.numpy()])
    cached = list(isolated_dirs.glob("*.npy")) if isolated_dirs.exists() else []
    if compressed:
        assert len(cached) == 1 and np.load(cached[0]).shape == (48, 512)  # bit-packed: 8 pixels a byte
    else:
        assert cached == []  # mapped in place
    assert UNPICKLED == []  # the metadata entry was never unpickled
    with pytest.raises(DatasetError, match="out of range"):
        data.masks(torch.tensor([48]))


def test_load_dataset_reads_the_official_file(tmp_path: Path, tiny_grid, monkeypatch: pytest.MonkeyPatch) -> None:
    arrays = dsprites_arrays(tiny_grid, seed=3)
    write_npz(tmp_path / DSPRITES_FILE, arrays)
    dataset = load_dataset("dsprites", path=tmp_path)  # a directory holding the official name
    assert dataset.variant == "file"
    factors = torch.tensor([[2, 1, 1, 0, 1], [0, 0, 0, 0, 0], [1, 0, 1, 1, 0]])
    images = dataset.images(factors)
    expected = arrays["imgs"][dataset.factors_to_index(factors).numpy()]
    np.testing.assert_array_equal(images[:, 0].numpy(), expected.astype(np.float32))
    monkeypatch.setenv("INFOGAN_DATA", str(tmp_path))
    coloured = load_dataset("color_dsprites", source="file")
    colour_images = coloured.images(factors, generator=torch.Generator().manual_seed(0))
    assert colour_images.shape == (3, 3, 64, 64)
    assert torch.equal(colour_images.amax(1) > 0, torch.from_numpy(expected > 0))


def test_dsprites_wrong_shape_at_real_size_is_refused(tmp_path: Path) -> None:
    arrays = dsprites_arrays(TINY_FILE_GRID)
    path = write_npz(tmp_path / DSPRITES_FILE, arrays)
    with pytest.raises(DatasetError) as caught:
        DSpritesNpz(path)  # the real grid: 737,280 images expected
    message = str(caught.value)
    assert "(737280, 64, 64)" in message and DSPRITES_FILE in message and "deepmind/dsprites-dataset" in message


@pytest.mark.parametrize(
    "change, expected",
    [
        (lambda a: a.pop("latents_values"), r"missing arrays \['latents_values'\]"),
        (lambda a: a.update(imgs=a["imgs"].astype(np.float32)), "dtype float32, expected .* dtype uint8"),
        (lambda a: a.update(latents_classes=a["latents_classes"][:, :5]), r"'latents_classes' has shape \(48, 5\)"),
        (lambda a: a.update(latents_classes=a["latents_classes"][::-1].copy()), "grid order"),
        (lambda a: a["latents_classes"].__setitem__((slice(7, None), 0), 1), r"colour\) is not constant"),
        (lambda a: a["imgs"].__setitem__((0, 0, 0), 255), "0/1 pixels"),
    ],
    ids=["missing-key", "wrong-dtype", "wrong-shape", "wrong-order", "colour-varies", "not-binary"],
)
def test_dsprites_layout_errors(tmp_path: Path, tiny_grid, change, expected: str) -> None:
    arrays = dsprites_arrays(tiny_grid)
    change(arrays)
    path = write_npz(tmp_path / DSPRITES_FILE, arrays)
    with pytest.raises(DatasetError, match=expected) as caught:
        DSpritesNpz(path)
    assert DSPRITES_FILE in str(caught.value) and "get it from" in str(caught.value)


def test_dsprites_missing_and_corrupt_files(tmp_path: Path, tiny_grid) -> None:
    with pytest.raises(DatasetError, match=DSPRITES_FILE):
        load_dataset("dsprites", path=tmp_path)
    path = write_npz(tmp_path / DSPRITES_FILE, dsprites_arrays(tiny_grid))
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])  # truncated download
    with pytest.raises(DatasetError, match="cannot read|truncated") as caught:
        load_dataset("dsprites", path=path)
    assert "get it from" in str(caught.value)
    path = write_npz(tmp_path / DSPRITES_FILE, dsprites_arrays(tiny_grid, seed=5))
    corrupt_member_data(path, "imgs")  # damaged data: found while building the cache
    with pytest.raises(DatasetError, match="cannot read") as caught:
        DSpritesNpz(path)
    assert "get it from" in str(caught.value)
    np.save(tmp_path / "plain.npy", np.zeros((4, 64, 64), np.uint8))  # an .npy, not an .npz
    with pytest.raises(DatasetError, match="cannot read .*plain.npy"):
        DSpritesNpz(tmp_path / "plain.npy")
    path.write_bytes(b"<html>not found</html>")
    with pytest.raises(DatasetError, match="cannot read"):
        DSpritesNpz(path)


def test_datasets_command_lists_every_dataset() -> None:
    result = CliRunner().invoke(cli, ["datasets"])
    assert result.exit_code == 0, result.output
    names = [line for line in result.output.splitlines() if line and not line.startswith(" ")]
    for name in ("dsprites", "shapes3d", "mpi3d_toy", "mpi3d_realistic", "mpi3d_real", "mnist", "fashion_mnist", "image_folder"):
        assert name in names
    assert "floor_hue=10, wall_hue=10, object_hue=10, scale=8, shape=4, orientation=15" in result.output
    assert "horizontal_axis=40, vertical_axis=40" in result.output
    assert "github.com/deepmind/3d-shapes" in result.output
