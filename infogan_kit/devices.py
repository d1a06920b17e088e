"""Where networks live: one rule for ``--device`` / ``train.device`` shared by training and inference."""

from __future__ import annotations

import torch

from .errors import InfoganError


def resolve_device(requested: str | torch.device | None = "auto") -> torch.device:
    """``auto`` (or None) -> CUDA when available, else CPU; anything else as given (checked).

    Raises:
        InfoganError: a CUDA device is requested on a machine without CUDA.
    """
    if requested is None or str(requested) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(requested)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise InfoganError(f"device {str(requested)!r} requested but CUDA is not available")
    return device


def cuda_requested(requested: str) -> bool:
    """Whether ``train.device`` = ``requested`` resolves to a CUDA device (without checking it exists)."""
    return requested.startswith("cuda") or (requested == "auto" and torch.cuda.is_available())
