"""Reading ``.npz`` members with bounded memory, and the decompression cache.

An ``.npz`` is a zip of ``.npy`` members. A member stored without compression
(``ZIP_STORED``, what ``np.savez`` writes) is memory-mapped in place at its data offset (the
local zip header and the ``.npy`` header are parsed to find it). A compressed member
(``np.savez_compressed``) cannot be memory-mapped, so it is decompressed ONCE, streaming in row
chunks (memory stays bounded by one chunk of about ``CHUNK_BYTES``), through an optional
transform (e.g. bit-packing) into a cache file that is memory-mapped afterwards.

The cache lives in ``$INFOGAN_CACHE`` (default ``~/.cache/infogan_kit``); a cache file's name
carries a hash of the source file's absolute path, size and modification time (a changed file
gets a new cache) and of the transform's tag, and it is written atomically (temporary file in
the same directory, then ``os.replace``), so an interrupted run never leaves a half-written
cache behind. Deleting the directory is always safe.

Members holding Python objects are refused, never unpickled: headers are parsed directly
(``np.lib.format``), object dtypes rejected, and the one ``np.load`` (of our own cache files)
uses ``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ..errors import DatasetError

CACHE_ENV = "INFOGAN_CACHE"
CHUNK_BYTES = 16 * 2**20
"""Uncompressed bytes decompressed per step when streaming a member (bounds memory)."""

_LOCAL_HEADER = struct.Struct("<IHHHHHIIIHH")  # zip local file header, 30 bytes
_LOCAL_HEADER_SIGNATURE = 0x04034B50

# ---------------------------------------------------------------------------- cache
def cache_dir() -> Path:
    """The cache directory: ``$INFOGAN_CACHE`` or ``~/.cache/infogan_kit`` (created)."""
    value = os.environ.get(CACHE_ENV, "").strip()
    directory = Path(value).expanduser() if value else Path.home() / ".cache" / "infogan_kit"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def cache_path(source_file: Path, tag: str) -> Path:
    """The cache file for ``source_file`` transformed as ``tag`` (an ``.npy`` path).

    The name carries a hash of the source's absolute path, size and modification time, so
    a replaced or edited source never reuses a stale cache.
    """
    stat = source_file.stat()
    key = f"{source_file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{tag}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return cache_dir() / f"{source_file.stem}-{tag}-{digest}.npy"


# ---------------------------------------------------------------------------- npz members
@dataclass(frozen=True)
class NpzMember:
    """One ``.npy`` member of an ``.npz`` file, described from its header (no data read).

    Attributes:
        npz_path: the ``.npz`` file.
        key: the member's array name (``"imgs"`` for ``imgs.npy``).
        shape, dtype: of the stored array (C order).
        compressed: whether the member is compressed (then it cannot be memory-mapped).
        data_offset: offset of the array data inside the uncompressed member.
        file_offset: absolute offset of the array data in the ``.npz`` file (stored members), else None.
    """

    npz_path: Path
    key: str
    shape: tuple[int, ...]
    dtype: np.dtype
    compressed: bool
    data_offset: int
    file_offset: int | None

    @property
    def row_shape(self) -> tuple[int, ...]:
        """Shape of one row (the array shape without its first dimension)."""
        return self.shape[1:]

    @property
    def nbytes(self) -> int:
        """Size of the array data in bytes."""
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


def npz_keys(npz_path: Path) -> list[str]:
    """Array names in an ``.npz``, read from the zip directory (no array is loaded or unpickled).

    Raises:
        zipfile.BadZipFile: not a zip file (e.g. a plain ``.npy`` or a truncated download).
    """
    with zipfile.ZipFile(npz_path) as archive:
        return [name[: -len(".npy")] for name in archive.namelist() if name.endswith(".npy")]


def npz_member(npz_path: Path, key: str) -> NpzMember:
    """Read the header of member ``key`` of ``npz_path``.

    Raises:
        DatasetError: missing key, object (pickled) dtype, Fortran order, unsupported
            ``.npy`` version, or a member whose size does not match its header.
    """
    with zipfile.ZipFile(npz_path) as archive:
        try:
            info = archive.getinfo(f"{key}.npy")
        except KeyError:
            raise DatasetError(f"missing array {key!r} (found {sorted(npz_keys(npz_path))})") from None
        if info.flag_bits & 0x1:
            raise DatasetError(f"array {key!r} is encrypted")
        with archive.open(info) as stream:
            version = np.lib.format.read_magic(stream)
            if version == (1, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
            elif version == (2, 0):
                shape, fortran_order, dtype = np.lib.format.read_array_header_2_0(stream)
            else:
                raise DatasetError(f"array {key!r} uses unsupported .npy format version {version}")
            data_offset = stream.tell()
    if dtype.hasobject:
        raise DatasetError(f"array {key!r} holds Python objects; refusing to unpickle it")
    if fortran_order and len(shape) > 1:
        raise DatasetError(f"array {key!r} is stored in Fortran order; expected C order")
    compressed = info.compress_type != zipfile.ZIP_STORED
    file_offset = None if compressed else _stored_data_start(npz_path, info) + data_offset
    member = NpzMember(Path(npz_path), key, tuple(shape), dtype, compressed, data_offset, file_offset)
    if info.file_size != data_offset + member.nbytes:
        raise DatasetError(
            f"array {key!r} has {info.file_size - data_offset} data bytes but its header says "
            f"{member.nbytes} (truncated or corrupt file)"
        )
    return member


def _stored_data_start(npz_path: Path, info: zipfile.ZipInfo) -> int:
    """Absolute offset where a stored member's bytes start (after its local zip header)."""
    with open(npz_path, "rb") as handle:
        handle.seek(info.header_offset)
        raw = handle.read(_LOCAL_HEADER.size)
        total = os.fstat(handle.fileno()).st_size
    if len(raw) != _LOCAL_HEADER.size or _LOCAL_HEADER.unpack(raw)[0] != _LOCAL_HEADER_SIGNATURE:
        raise DatasetError(f"bad zip header for {info.filename} (corrupt file)")
    name_length, extra_length = _LOCAL_HEADER.unpack(raw)[-2:]
    start = info.header_offset + _LOCAL_HEADER.size + name_length + extra_length
    if start + info.file_size > total:
        raise DatasetError(f"{info.filename} runs past the end of the file (truncated file)")
    return start


def iter_npz_rows(member: NpzMember, rows_per_chunk: int | None = None) -> Iterator[np.ndarray]:
    """Stream a member's rows in chunks, decompressing as it goes (CRC checked at the end).

    Args:
        member: from :func:`npz_member`.
        rows_per_chunk: rows per chunk (default: about ``CHUNK_BYTES`` of data).

    Yields:
        read-only arrays ``[rows, *member.row_shape]`` of ``member.dtype``, in file order.
    """
    if not member.shape:
        raise DatasetError(f"array {member.key!r} is a scalar, expected rows")
    row_bytes = member.dtype.itemsize * int(np.prod(member.row_shape, dtype=np.int64))
    rows_per_chunk = rows_per_chunk or max(1, CHUNK_BYTES // row_bytes)
    with zipfile.ZipFile(member.npz_path) as archive, archive.open(f"{member.key}.npy") as stream:
        if len(stream.read(member.data_offset)) != member.data_offset:
            raise DatasetError(f"array {member.key!r} is truncated")
        remaining = member.shape[0]
        while remaining > 0:
            rows = min(rows_per_chunk, remaining)
            buffer = stream.read(rows * row_bytes)
            if len(buffer) != rows * row_bytes:
                raise DatasetError(f"array {member.key!r} is truncated")
            yield np.frombuffer(buffer, dtype=member.dtype).reshape((rows, *member.row_shape))
            remaining -= rows
        if stream.read(1):  # also makes zipfile verify the member's CRC
            raise DatasetError(f"array {member.key!r} has trailing bytes (corrupt file)")


def memmap_npz_member(member: NpzMember) -> np.ndarray:
    """A read-only memory map of a member's array ``member.shape``.

    Stored members are mapped in place; compressed ones are decompressed once into the cache
    (tag ``"raw"``) and the cache is mapped.
    """
    if member.file_offset is not None:
        return np.memmap(member.npz_path, dtype=member.dtype, mode="r", offset=member.file_offset, shape=member.shape)
    return cached_npz_transform(member, "raw", lambda rows: rows, member.row_shape, member.dtype)


def cached_npz_transform(
    member: NpzMember,
    tag: str,
    transform: Callable[[np.ndarray], np.ndarray],
    row_shape: tuple[int, ...],
    dtype: np.dtype | type,
) -> np.ndarray:
    """Transform a member chunk by chunk into a cache file, once, and memory-map it.

    Args:
        member: the source array ``[N, ...]``.
        tag: names the transform in the cache key (change it when the transform changes).
        transform: maps a chunk ``[rows, *member.row_shape]`` to ``[rows, *row_shape]``; it may
            raise :class:`DatasetError` to refuse bad data.
        row_shape, dtype: of the transformed rows.

    Returns:
        a read-only memory map ``[N, *row_shape]`` of ``dtype``.
    """
    target = cache_path(member.npz_path, f"{member.key}-{tag}")
    shape = (member.shape[0], *row_shape)
    cached = _open_cache(target, shape, np.dtype(dtype))
    if cached is None:
        _write_cache(target, iter_npz_rows(member), transform, shape, np.dtype(dtype))
        cached = _open_cache(target, shape, np.dtype(dtype))
        if cached is None:
            raise DatasetError(f"the cache file {target} could not be read back")
    return cached


def _open_cache(target: Path, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray | None:
    """Memory-map an existing cache file, or None when absent or not of the expected layout."""
    if not target.is_file():
        return None
    try:
        cached = np.load(target, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError):
        return None
    return cached if cached.shape == shape and cached.dtype == dtype else None


def _write_cache(
    target: Path,
    chunks: Iterator[np.ndarray],
    transform: Callable[[np.ndarray], np.ndarray],
    shape: tuple[int, ...],
    dtype: np.dtype,
) -> None:
    """Write ``transform(chunk)`` for every chunk as one ``.npy`` at ``target``, atomically."""
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(handle, header)
            written = 0
            for chunk in chunks:
                rows = np.ascontiguousarray(transform(chunk), dtype=dtype)
                if rows.shape != (len(chunk), *shape[1:]):
                    raise DatasetError(f"cache transform returned shape {rows.shape} for {len(chunk)} rows")
                handle.write(rows.tobytes())
                written += len(rows)
            if written != shape[0]:
                raise DatasetError(f"expected {shape[0]} rows, read {written}")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
