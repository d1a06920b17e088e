"""File helpers shared by the atomic writers of checkpoints and result files."""

from __future__ import annotations

import os
from pathlib import Path


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
