"""Typed run configuration: nested dataclasses, validated in one place, saved with every run.

A :class:`RunConfig` has four sections::

    model   ModelConfig subclass of the chosen model (latent spec, loss weights, ...)
    data    DataConfig   which dataset, its file, its options
    train   TrainConfig  steps, batch, precision, seed, logging and checkpoint intervals
    optim   OptimConfig  learning rates and Adam betas

Resolution order (:func:`infogan_kit.resolve.resolve_config`, used by ``infogan train`` and by
Python callers): the model's preset -> ``--config FILE`` (YAML/JSON, the same nesting) ->
explicit options -> ``--set key=value`` overrides (dotted keys such as ``optim.lr_g=2e-3``,
values parsed as YAML scalars). :func:`validate_config` then checks every field; an invalid
value raises :class:`~infogan_kit.errors.ConfigError` naming the key. A bare ``RunConfig()`` is
not a usable config: start from ``resolve_config()`` (the defaults) or a model's preset.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16", "fp16")


@dataclass
class ModelConfig:
    """Base of every model's config; subclasses add their fields (see each model in ``recipes/``).

    Attributes:
        name: the registered model name (set by ``--model``).
    """

    name: str = ""

    def validate(self) -> None:
        """Raise ConfigError for an invalid field (subclasses extend)."""


@dataclass
class DataConfig:
    """Which dataset to train on.

    Attributes:
        name: registered dataset name (``infogan datasets``).
        path: user-supplied file or folder for file-backed datasets (None: procedural/default).
        options: dataset-specific keyword options passed to ``load_dataset``.
        num_workers: DataLoader workers for file-backed datasets (procedural data renders
            whole batches on the training device and needs none).
    """

    name: str = "dsprites"
    path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    num_workers: int = 2

    def validate(self) -> None:
        from .data import DATASETS

        DATASETS.get(self.name)  # an unknown name lists the registered datasets
        if self.num_workers < 0:
            raise ConfigError("data.num_workers must be >= 0")


@dataclass
class OptimConfig:
    """Adam settings.

    Attributes:
        lr_g: learning rate of the generative side (G and the Q head for GANs, encoder and
            decoder for VAEs).
        lr_d: learning rate of the discriminator (FactorVAE: its TC discriminator).
        lr_h: learning rate of InfoGAN-CR's contrastive discriminator H.
        beta1: Adam's first-moment decay.
        beta2: Adam's second-moment decay.
        eps: Adam's epsilon.
    """

    lr_g: float = 1e-3
    lr_d: float = 2e-3
    lr_h: float = 2e-3
    beta1: float = 0.5
    beta2: float = 0.999
    eps: float = 1e-8

    def validate(self) -> None:
        for key in ("lr_g", "lr_d", "lr_h", "eps"):
            if not getattr(self, key) > 0:
                raise ConfigError(f"optim.{key} must be > 0")
        for key in ("beta1", "beta2"):
            if not 0 <= getattr(self, key) < 1:
                raise ConfigError(f"optim.{key} must be in [0, 1)")


@dataclass
class TrainConfig:
    """How long and how the loop trains, logs and checkpoints.

    Attributes:
        steps: total training iterations, counting those before a resume (one iteration = one
            D update and its G update(s)).
        batch_size: global batch size (split across ranks under DDP).
        precision: ``auto`` (bf16 where the hardware supports it, else fp32), fp32, bf16, fp16.
        seed: seeds weights, data and latent sampling.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:1``...
        time_budget_min: stop cleanly with a checkpoint after this many wall-clock minutes.
        accumulation: gradient-accumulation rounds per optimizer step (batch split in as many).
        ema_beta: decay of the exponential moving average of G and Q, ramped up as
            ``min(ema_beta, (1 + step) / (10 + step))`` (0: the EMA copies follow the live weights).
        channels_last: use the channels_last memory format for conv networks.
        compile: ``torch.compile`` the forward passes (no gain measured on CPU).
        threads: CPU threads for torch (0: leave torch's default).
        log_every: steps between scalar logs (TensorBoard, stats.jsonl, progress).
        sample_every: steps between sample/traversal grids (0: only at the end).
        checkpoint_every: steps between checkpoints (0: only at the end).
        metrics_every: steps between fast-protocol metric evaluations (0: only at the end;
            negative: never).
        keep_checkpoints: how many of the newest checkpoints to keep.
        max_consecutive_skips: stop (with a checkpoint) after this many consecutive steps
            skipped for non-finite losses or gradients.
    """

    steps: int = 10_000
    batch_size: int = 64
    precision: str = "auto"
    seed: int = 0
    device: str = "auto"
    time_budget_min: float | None = None
    accumulation: int = 1
    ema_beta: float = 0.999
    channels_last: bool = True
    compile: bool = False
    threads: int = 0
    log_every: int = 100
    sample_every: int = 1000
    checkpoint_every: int = 1000
    metrics_every: int = 0
    keep_checkpoints: int = 3
    max_consecutive_skips: int = 20

    def validate(self) -> None:
        positive = ("batch_size", "accumulation", "log_every", "keep_checkpoints", "max_consecutive_skips")
        for key in positive:
            if getattr(self, key) <= 0:
                raise ConfigError(f"train.{key} must be > 0, got {getattr(self, key)}")
        for key in ("steps", "sample_every", "checkpoint_every", "threads"):
            if getattr(self, key) < 0:
                raise ConfigError(f"train.{key} must be >= 0, got {getattr(self, key)}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"train.precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.batch_size % self.accumulation:
            raise ConfigError("train.batch_size must be divisible by train.accumulation")
        if self.time_budget_min is not None and self.time_budget_min <= 0:
            raise ConfigError("train.time_budget_min must be > 0")
        if not 0 <= self.ema_beta < 1:
            raise ConfigError("train.ema_beta must be in [0, 1)")
        if not (self.device in ("auto", "cpu") or self.device.startswith("cuda")):
            raise ConfigError(f"train.device must be auto, cpu or cuda[:N], got {self.device!r}")


@dataclass
class RunConfig:
    """Everything that defines a training run; saved as ``config.json`` and in checkpoints.

    Attributes:
        preset: the preset the defaults came from (recorded for reference).
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    preset: str = "quick"


# ---------------------------------------------------------------------- (de)serialization
def config_to_dict(config: Any) -> dict[str, Any]:
    """A JSON-ready nested dict of a dataclass config."""
    return dataclasses.asdict(config)


def _field_types(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Convert ``value`` to ``annotation`` (int/float/bool/str/Optional/dict/list) or raise."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(errors[0] if errors else f"{key}: invalid value {value!r}")
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "2e-3" (no dot) as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{key} must be a number, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key} must be a string, got {value!r}")
    if origin is dict or annotation is dict:
        if isinstance(value, dict):
            return dict(value)
        raise ConfigError(f"{key} must be a mapping, got {value!r}")
    if origin in (list, tuple) or annotation in (list, tuple):
        if isinstance(value, (list, tuple)):
            item_types = typing.get_args(annotation)
            if item_types and item_types[-1] is not Ellipsis and origin is list:
                value = [_coerce(item, item_types[0], key) for item in value]
            return list(value) if origin is list or annotation is list else tuple(value)
        raise ConfigError(f"{key} must be a list, got {value!r}")
    return value


def update_dataclass(target: Any, values: dict[str, Any], prefix: str = "") -> None:
    """Set the fields of ``target`` from a (nested) dict, coercing types; unknown keys raise."""
    hints = _field_types(type(target))
    names = {f.name for f in dataclasses.fields(target)}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if key not in names:
            raise ConfigError(f"unknown config key {dotted!r}; valid keys here: {', '.join(sorted(names))}")
        current = getattr(target, key)
        if dataclasses.is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(f"{dotted} is a section; give its keys (e.g. {dotted}.<key>=...)")
            update_dataclass(current, value, prefix=f"{dotted}.")
        else:
            setattr(target, key, _coerce(value, hints[key], dotted))


def parse_override(text: str) -> tuple[list[str], Any]:
    """Parse ``key.sub=value`` into (``["key", "sub"]``, YAML-scalar value)."""
    if "=" not in text:
        raise ConfigError(f"--set expects key=value, got {text!r}")
    key, raw = text.split("=", 1)
    key = key.strip()
    if not key or any(not part for part in key.split(".")):
        raise ConfigError(f"--set has an invalid key {key!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.split("."), value


def set_config_value(config: RunConfig, path: list[str], value: Any) -> None:
    """Set the field at ``path`` (``["train", "steps"]``) of ``config`` to ``value`` (type checked)."""
    nested: Any = value
    for part in reversed(path):
        nested = {part: nested}
    update_dataclass(config, nested)


def apply_overrides(config: RunConfig, overrides: list[str]) -> None:
    """Apply ``--set key=value`` strings to ``config`` in order (types checked per field)."""
    for text in overrides:
        path, value = parse_override(text)
        if path == ["model", "name"]:
            raise ConfigError("model.name cannot be changed with --set; use --model")
        set_config_value(config, path, value)


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON config file into a dict (the RunConfig nesting)."""
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file not found: {file}")
    try:
        text = file.read_text()
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as error:
        raise ConfigError(f"cannot parse config file {file}: {str(error).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {file} must hold a mapping of sections (model, data, train, optim)")
    return data


def validate_config(config: RunConfig) -> RunConfig:
    """Validate every section (the model section must be its registered model's config class);
    return the config for chaining."""
    from .recipes import get_model

    if not config.model.name:
        raise ConfigError("config.model has no model name; build configs with infogan_kit.resolve_config(...) "
                          "or a model's preset, not a bare RunConfig()")
    config_class = get_model(config.model.name).config_class
    if not isinstance(config.model, config_class):
        raise ConfigError(f"config.model of {config.model.name!r} must be a {config_class.__name__}, got {type(config.model).__name__}")
    for section in (config.model, config.data, config.train, config.optim):
        section.validate()
    return config


def describe_fields(cls: type, prefix: str = "") -> list[tuple[str, str, str]]:
    """(dotted key, type, default) rows for ``docs/training.md`` and ``--dry-run``."""
    rows = []
    hints = _field_types(cls)
    instance = cls()
    for item in dataclasses.fields(cls):
        value = getattr(instance, item.name)
        if dataclasses.is_dataclass(value):
            rows.extend(describe_fields(type(value), prefix=f"{prefix}{item.name}."))
            continue
        annotation = hints[item.name]
        type_name = getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")
        rows.append((f"{prefix}{item.name}", type_name, repr(value)))
    return rows
