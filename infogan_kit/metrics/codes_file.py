"""The codes file of ``infogan evaluate --codes``: its writer, its reader, and atomic ``.npz`` writes.

A codes file is an ``.npz`` archive holding

* ``codes``: ``[N, D]`` floats, one row per point;
* ``factors``: ``[N, K]`` 0-based integer factor classes of the same points;
* optionally ``factor_sizes``: ``[K]`` classes per factor (default: the largest class + 1);
* optionally ``dataset``: a 0-d string array, the dataset name recorded in results.

``Run.save_codes`` (``infogan evaluate RUN --save-codes FILE``) writes one with
:func:`write_codes_file`; ``infogan evaluate --codes FILE`` reads it with :func:`read_codes_file`.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import MetricError
from ..files import atomic_write

CODES_KEYS = ("codes", "factors")
"""Arrays every codes file holds."""
OPTIONAL_KEYS = ("factor_sizes", "dataset")
"""Arrays a codes file may hold."""


@dataclass(frozen=True)
class CodesFile:
    """The content of a codes file (arrays as stored; :func:`~infogan_kit.metrics.evaluate_codes` checks them).

    Attributes:
        codes: ``[N, D]`` codes.
        factors: ``[N, K]`` factor classes.
        factor_sizes: ``[K]`` classes per factor, or None when the file has none.
        dataset: the recorded dataset name, or None.
    """

    codes: np.ndarray
    factors: np.ndarray
    factor_sizes: np.ndarray | None
    dataset: str | None


def write_npz_atomic(path: str | Path, **arrays: np.ndarray) -> Path:
    """Write ``arrays`` as an ``.npz`` archive at ``path`` atomically (:func:`~infogan_kit.files.atomic_write`;
    the parent folder is created).

    Raises:
        MetricError: the file cannot be written; no partial file is left.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)

    def write(temporary: str) -> None:
        with open(temporary, "wb") as stream:
            np.savez(stream, **arrays)

    return atomic_write(target, write, MetricError)


def write_codes_file(
    path: str | Path, codes: np.ndarray, factors: np.ndarray, factor_sizes: Sequence[int], dataset_name: str
) -> Path:
    """Write a codes file (what ``infogan evaluate --codes`` reads), atomically.

    Args:
        path: the ``.npz`` file (its folder is created).
        codes: ``[N, D]`` codes, stored as given.
        factors: ``[N, K]`` integer factor classes of the same rows.
        factor_sizes: classes per factor (K integers).
        dataset_name: recorded as the ``dataset`` array.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        MetricError: the file cannot be written (full disk, no permission); no partial file is left.
    """
    return write_npz_atomic(path, codes=np.asarray(codes), factors=np.asarray(factors),
                            factor_sizes=np.asarray(factor_sizes), dataset=np.asarray(dataset_name))


def read_codes_file(path: str | Path) -> CodesFile:
    """Read a codes file.

    Returns:
        its arrays (``factor_sizes`` and ``dataset`` None when absent).

    Raises:
        MetricError: unreadable file, a single ``.npy`` array, not an ``.npz`` archive, a
            missing key or a corrupt member.
    """
    _check_is_archive(path)
    try:
        archive = np.load(path, allow_pickle=False)
    except Exception as error:  # noqa: BLE001 - numpy raises many types for a bad file
        raise MetricError(f"cannot read codes file {path}: {type(error).__name__}: {error}") from None
    with archive:
        missing = [key for key in CODES_KEYS if key not in archive.files]
        if missing:
            raise MetricError(
                f"codes file {path} has no array {missing[0]!r} (it holds: {', '.join(archive.files) or 'nothing'}); "
                "expected 'codes' [N, D], 'factors' [N, K] and optionally 'factor_sizes' [K]"
            )
        try:
            data = {key: archive[key] for key in CODES_KEYS + OPTIONAL_KEYS if key in archive.files}
        except Exception as error:  # noqa: BLE001 - corrupt member, object arrays
            raise MetricError(f"cannot read codes file {path}: {type(error).__name__}: {error}") from None
    dataset = data.get("dataset")
    return CodesFile(data["codes"], data["factors"], data.get("factor_sizes"), None if dataset is None else str(dataset))


def _check_is_archive(path: str | Path) -> None:
    """Raise a :class:`MetricError` unless ``path`` is a readable zip (``.npz``) file."""
    try:
        with open(path, "rb") as stream:
            magic = stream.read(6)
    except OSError as error:
        raise MetricError(f"cannot read codes file {path}: {error.strerror or error}") from None
    if magic == b"\x93NUMPY":
        raise MetricError(f"codes file {path} is a single array (.npy); expected an .npz archive with arrays {CODES_KEYS}")
    if not zipfile.is_zipfile(path):
        raise MetricError(f"cannot read codes file {path}: not an .npz archive (save it with numpy.savez)")
