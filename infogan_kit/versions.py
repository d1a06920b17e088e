"""Versions of the package and the libraries whose behaviour changes results.

Every checkpoint and every metric result records :func:`library_versions` so that numbers
can be traced to the exact software that produced them.
"""

from __future__ import annotations

import platform
from importlib import metadata

__version__ = "0.1.0"

_TRACKED = ("torch", "torchvision", "numpy", "scikit-learn", "scipy", "kornia")


def library_versions() -> dict[str, str]:
    """Return ``{"infogan_kit": ..., "python": ..., "torch": ..., ...}`` for the tracked libraries.

    Libraries that are not installed are recorded as ``"absent"``.
    """
    versions = {"infogan_kit": __version__, "python": platform.python_version()}
    for name in _TRACKED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions
