"""The registered models: one :class:`~infogan_kit.recipes.base.Model` subclass per ``--model``.

Register your own with the decorator (the whole registration)::

    from infogan_kit.recipes import register_model
    from infogan_kit.recipes.base import Model

    @register_model            # or @register_model("my-gan"); the default name is the class's ``name``
    class MyGAN(Model):
        name = "my-gan"
        ...

``register_model(name, cls)`` registers without decorating; :func:`registered_model` registers
for the duration of a ``with`` block (tests, plugins).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..config import RunConfig, update_dataclass
from ..errors import ConfigError
from ..registry import Registry
from .base import Model

MODELS: Registry[type[Model]] = Registry("model", ConfigError)
"""Model name -> Model subclass."""


def _checked(name: str, target: Any) -> type[Model]:
    if not (isinstance(target, type) and issubclass(target, Model)):
        raise ConfigError(
            f"register_model({name!r}, ...) takes a Model subclass (infogan_kit.recipes.base.Model), got "
            f"{type(target).__name__}; declare the model as @register_model({name!r}) class MyModel(Model): ... "
            "(see docs/extending.md)"
        )
    declared = target.__dict__.get("name")  # a subclass inherits its parent's name unless it declares one
    if declared and declared != name:
        raise ConfigError(f"model class {target.__name__} is named {declared!r} but registered as {name!r}")
    target.name = name
    return target


def register_model(name: str | type[Model] | None = None, model_class: type[Model] | None = None, *,
                   overwrite: bool = False) -> Any:
    """Register a :class:`Model` subclass (usable as ``@register_model`` or ``@register_model("name")``).

    Raises:
        ConfigError: not a Model subclass (the message names the form to use), a name clash, or a
            class whose ``name`` differs from the registered name.
    """
    if isinstance(name, type):  # bare @register_model: the class declares its name
        return register_model(name.__dict__.get("name", ""), name, overwrite=overwrite)

    def add(target: Any) -> Any:
        model_name = name or getattr(target, "name", "")
        if not model_name:
            raise ConfigError("register_model needs a name (or a class with a name attribute)")
        MODELS.register(model_name, _checked(model_name, target), overwrite=overwrite)
        return target

    return add if model_class is None else add(model_class)


@contextlib.contextmanager
def registered_model(model_class: type[Model], name: str | None = None) -> Iterator[type[Model]]:
    """Register ``model_class`` inside a ``with`` block only (a name clash raises)."""
    model_name = name or model_class.name
    register_model(model_name, model_class)
    try:
        yield model_class
    finally:
        MODELS.unregister(model_name)


def get_model(name: str) -> type[Model]:
    """The model class registered as ``name`` (unknown names list the available models)."""
    return MODELS.get(name)


def config_from_dict(values: dict[str, Any]) -> RunConfig:
    """Rebuild a typed RunConfig (with the model's own config class) from its dict form."""
    try:
        model_name = values["model"]["name"]
    except (KeyError, TypeError):
        raise ConfigError("config has no model.name") from None
    config = RunConfig(model=get_model(model_name).config_class())
    update_dataclass(config, values)
    return config



from . import infogan, infogan_cr  # noqa: E402,F401  (registers the built-in models)
from . import vae  # noqa: E402,F401  (registers the VAE baselines)
from . import stylegan  # noqa: E402,F401  (stylegan-info)
