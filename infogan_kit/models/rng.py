"""Which random generator the networks' own draws use (StyleGAN's layer noise and style mixing).

Networks draw some randomness inside their forward pass. Outside any :func:`random_source` block
they use torch's default generator, as before; the training loop wraps every phase in
``random_source(latent_rng)`` so a run draws only from generators it owns and checkpoints (and a
captured step never touches the global RNG).
"""

from __future__ import annotations

import contextlib
import contextvars
from typing import Iterator

import torch

_CURRENT: contextvars.ContextVar[torch.Generator | None] = contextvars.ContextVar("infogan_rng", default=None)


@contextlib.contextmanager
def random_source(rng: torch.Generator | None) -> Iterator[None]:
    """Make ``rng`` the generator of the networks' draws inside the block (None: torch's default)."""
    token = _CURRENT.set(rng)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def current_rng(device: torch.device) -> torch.Generator | None:
    """The generator set by :func:`random_source` when it lives on ``device`` (else None: the default)."""
    rng = _CURRENT.get()
    if rng is None or rng.device.type != device.type:
        return None
    return rng
