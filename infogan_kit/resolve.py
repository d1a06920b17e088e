"""The one way a run's config is resolved, for ``infogan train`` and ``infogan_kit.train`` alike.

Resolution order: the model's preset -> a config file (YAML/JSON, the RunConfig nesting) ->
explicit option values (dotted keys such as ``train.steps``) -> ``--set key=value`` overrides;
then every field is validated. With no arguments, :func:`resolve_config` returns the defaults
(what ``infogan train --dry-run`` prints on this machine)::

    import infogan_kit
    config = infogan_kit.resolve_config()                                    # infogan-cr, quick, dsprites
    config = infogan_kit.resolve_config("beta-vae", options={"train.steps": 500}, overrides=["model.beta=8"])
    infogan_kit.train(config)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from .config import RunConfig, apply_overrides, load_config_file, set_config_value, update_dataclass, validate_config
from .errors import ConfigError

DEFAULT_MODEL = "infogan-cr"
"""The model ``infogan train`` trains when none is named."""

DEFAULT_DATASET = "dsprites"
"""The dataset used when none is named (procedural: nothing to download)."""

DEFAULT_PRESET = "quick"
"""The preset used when none is named."""


def _apply_options(config: RunConfig, options: Mapping[str, Any] | None) -> None:
    """Set each ``{"train.steps": 5}`` option on ``config`` (None values are left out)."""
    for key, value in (options or {}).items():
        if value is None:
            continue
        parts = key.split(".")
        if len(parts) < 2 or not all(parts):
            raise ConfigError(f"option keys are dotted config keys such as train.steps, got {key!r}")
        set_config_value(config, parts, value)


def resolve_config(
    model: str | None = None,
    dataset: str | None = None,
    preset: str | None = None,
    config_file: str | Path | None = None,
    options: Mapping[str, Any] | None = None,
    overrides: Sequence[str] = (),
    notes: list[str] | None = None,
) -> RunConfig:
    """A validated RunConfig from the model's preset, a config file, option values and overrides.

    Args:
        model: registered model name (default: the file's ``model.name``, else :data:`DEFAULT_MODEL`).
        dataset: dataset name (default: the file's ``data.name``, else :data:`DEFAULT_DATASET`).
        preset: the model's preset (default: the file's ``preset``, else :data:`DEFAULT_PRESET`).
        config_file: YAML or JSON file with config sections (model, data, train, optim).
        options: explicit values by dotted key (``{"train.steps": 500}``); None values are ignored.
        overrides: ``key=value`` strings, applied last (values parsed as YAML scalars).
        notes: if given, receives one line per choice the caller may want to show (e.g. a
            ``model`` argument overriding the file's model).

    Raises:
        ConfigError: unknown model, preset, dataset key or field, or an invalid value.
    """
    from .recipes import get_model

    file_values = load_config_file(config_file) if config_file else {}
    file_model = file_values.get("model", {}).get("name") if isinstance(file_values.get("model"), dict) else None
    if file_model and model and file_model != model and notes is not None:
        notes.append(f"--model {model} overrides model.name={file_model} of {config_file}")
    file_data = file_values.get("data") if isinstance(file_values.get("data"), dict) else {}
    dataset_name = dataset or file_data.get("name") or DEFAULT_DATASET
    model_class = get_model(model or file_model or DEFAULT_MODEL)
    config = model_class.default_config(preset or file_values.get("preset") or DEFAULT_PRESET, dataset_name)
    if file_values:
        file_values = dict(file_values)
        if isinstance(file_values.get("model"), dict):
            file_values["model"] = {k: v for k, v in file_values["model"].items() if k != "name"}
        file_values.pop("preset", None)
        update_dataclass(config, file_values)
    _apply_options(config, options)
    config.data.name = dataset_name
    apply_overrides(config, list(overrides))
    return validate_config(config)


def resolve_resume_config(saved_config: Mapping[str, Any], options: Mapping[str, Any] | None = None,
                          overrides: Sequence[str] = ()) -> RunConfig:
    """The config a resume runs with: the checkpoint's config (its ``"config"`` entry), then the
    explicit options and overrides (which keys a resume may change is checked by ``train``)."""
    from .recipes import config_from_dict

    config = config_from_dict(dict(saved_config))
    _apply_options(config, options)
    apply_overrides(config, list(overrides))
    return validate_config(config)
