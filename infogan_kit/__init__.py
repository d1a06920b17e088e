"""infogan-kit: learn and measure disentangled representations with GANs and VAEs.

Entry points::

    from infogan_kit.data import load_dataset      # ground-truth datasets
    from infogan_kit import metrics                # disentanglement metrics
    infogan_kit.resolve_config(...)                # a validated RunConfig (the defaults without arguments)
    infogan_kit.train(config)                      # train it into a run directory
    infogan_kit.load_run("checkpoints/RUN")        # inference: represent, generate, traversal
"""

from __future__ import annotations

from .errors import InfoganError
from .versions import __version__, library_versions
from .data import load_dataset, register_dataset


def __getattr__(name: str):
    """Lazy access to the training API (keeps ``import infogan_kit`` light)."""
    if name == "train":
        from .training.api import train

        return train
    if name == "load_run":
        from .run import load_run

        return load_run
    if name == "resolve_config":
        from .resolve import resolve_config

        return resolve_config
    if name == "register_model":
        from .recipes import register_model

        return register_model
    if name == "recipes":
        from . import recipes

        return recipes
    if name == "register_metric":
        from .metrics import register_metric

        return register_metric
    raise AttributeError(f"module 'infogan_kit' has no attribute {name!r}")


__all__ = [
    "InfoganError",
    "__version__",
    "library_versions",
    "load_dataset",
    "load_run",
    "register_dataset",
    "register_metric",
    "register_model",
    "resolve_config",
    "train",
]
