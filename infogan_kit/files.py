"""File helpers shared by the atomic writers of checkpoints and result files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

from .errors import InfoganError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def give_default_permissions(path: str | Path) -> None:
    """Give a temporary file the mode an ordinary new file would get (``0o666 & ~umask``).

    ``tempfile.mkstemp`` creates files readable by their owner only; without this, every
    checkpoint, ``metrics.json`` and report written through a temporary file would be
    unreadable to the rest of a lab sharing the run directory.
    """
    os.chmod(path, 0o666 & ~_current_umask())


def atomic_write(path: str | Path, write: Callable[[str], None], error: type[InfoganError] = InfoganError,
                 what: str = "") -> Path:
    """Write a file so that readers only ever see the old or the complete new one.

    ``write(temporary_path)`` fills a temporary file in the same folder (``.<name>.XXXX.tmp``);
    it is then fsync'ed, given the umask's permissions, renamed over ``path`` (``os.replace``) and
    the folder is fsync'ed. On any failure the temporary file is removed and the previous file is
    left as it was. The one atomic writer of checkpoints, ``metrics.json``, codes files, reports
    and pages.

    Raises:
        ``error``: the folder is missing or the file cannot be written (full disk, no
        permission); the message names ``what`` (default: the path) and the OS's reason.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    label = what or str(target)
    if not folder.is_dir():
        raise error(f"cannot write {label}: folder {folder} does not exist")
    temporary = None
    try:
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
        os.close(handle)
        write(temporary)
        with open(temporary, "rb+") as stream:
            os.fsync(stream.fileno())
        give_default_permissions(temporary)
        os.replace(temporary, target)
        temporary = None
        _fsync_folder(folder)
    except (OSError, RuntimeError) as problem:  # torch.save reports a failed write as RuntimeError
        detail = problem.strerror if isinstance(problem, OSError) and problem.strerror else str(problem).splitlines()[0][:160]
        raise error(f"cannot write {label}: {detail}") from None
    finally:
        if temporary is not None and os.path.exists(temporary):
            os.unlink(temporary)
    return target


def atomic_write_text(path: str | Path, text: str, error: type[InfoganError] = InfoganError) -> Path:
    """:func:`atomic_write` of a UTF-8 text."""
    return atomic_write(path, lambda temporary: Path(temporary).write_text(text, encoding="utf-8"), error)


def _fsync_folder(folder: Path) -> None:
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
