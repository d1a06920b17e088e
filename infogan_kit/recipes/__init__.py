"""Model recipes: what each ``--model`` trains (config class, presets, how to build it).

A recipe is registered with :func:`register_model` and provides:

* ``name``, ``family`` (``"gan"`` or ``"vae"``), ``config_class`` (a ModelConfig subclass);
* ``presets``: names accepted by ``--preset``;
* ``default_config(preset, dataset_name) -> RunConfig``;
* ``build(config, image_shape, device) -> TrainingSystem``.
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

from ..config import RunConfig
from ..errors import ConfigError
from ..registry import Registry
from ..training.system import TrainingSystem


class Recipe(Protocol):
    """What a registered model provides."""

    name: str
    family: str
    config_class: type
    presets: tuple[str, ...]

    def default_config(self, preset: str, dataset_name: str) -> RunConfig:
        """The resolved defaults of ``preset`` for ``dataset_name``."""

    def build(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> TrainingSystem:
        """Networks, optimizers, phases and objective on ``device``."""


MODELS: Registry[Any] = Registry("model", ConfigError)


def register_model(name: str, recipe: Any | None = None, *, overwrite: bool = False):
    """Register a recipe under ``name`` (usable as a class decorator: the class is instantiated)."""

    def add(target: Any) -> Any:
        instance = target() if isinstance(target, type) else target
        MODELS.register(name, instance, overwrite=overwrite)
        return target

    return add if recipe is None else add(recipe)


def get_recipe(name: str) -> Any:
    """The recipe registered as ``name`` (unknown names list the available models)."""
    return MODELS.get(name)



def config_from_dict(values: dict[str, Any]) -> RunConfig:
    """Rebuild a typed RunConfig (with the model's own config class) from its dict form."""
    from ..config import update_dataclass

    try:
        model_name = values["model"]["name"]
    except (KeyError, TypeError):
        raise ConfigError("config has no model.name") from None
    recipe = get_recipe(model_name)
    config = RunConfig(model=recipe.config_class())
    update_dataclass(config, values)
    return config


from . import infogan, infogan_cr  # noqa: E402,F401  (registers the built-in models)
from . import vae  # noqa: E402,F401  (registers the VAE baselines)
from . import stylegan  # noqa: E402,F401  (stylegan-info)
