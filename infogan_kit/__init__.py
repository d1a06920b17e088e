"""infogan-kit: learn and measure disentangled representations with GANs and VAEs.

Entry points::

    from infogan_kit.data import load_dataset      # ground-truth datasets
    from infogan_kit import metrics                # disentanglement metrics
"""

from __future__ import annotations

from .errors import InfoganError
from .versions import __version__, library_versions
from .data import load_dataset, register_dataset

__all__ = ["InfoganError", "__version__", "library_versions", "load_dataset", "register_dataset"]
