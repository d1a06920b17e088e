"""What a model is: one class with its config, presets, networks, optimizers and the inference contract.

A model is a subclass of :class:`Model` registered with ``@register_model``. The class carries

* ``name``, ``family`` (a label recorded in checkpoints and reports; no behaviour depends on
  it), ``config_class`` (its :class:`~infogan_kit.config.ModelConfig` subclass) and ``presets``
  (``{preset name: function(dataset name) -> RunConfig}``);
* what callers need to know instead of asking what kind of model they hold:
  ``traversal_range``, ``traversal_needs_data``, ``scores_generated_images`` and
  ``code_prior`` (see :class:`Model`).

An instance builds only what inference needs (its networks and their EMA copies, in
``__init__``); training asks it for the rest through :meth:`Model.build_training`
(optimizers and the objective, imported only then). :func:`restore_weights` is the one function
that puts a checkpoint's weights into a model, for ``load_run`` and for the trainer alike.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, ClassVar

import torch
from torch import nn

from ..config import ModelConfig, OptimConfig, RunConfig
from ..errors import CheckpointError, ConfigError, InfoganError

if TYPE_CHECKING:
    from ..objectives.base import Objective

Preset = Callable[[str], RunConfig]
"""``preset(dataset_name) -> RunConfig``: a model's defaults for one preset."""


@dataclass
class TrainingParts:
    """What training adds to a model: optimizers by name and the objective."""

    optimizers: dict[str, torch.optim.Optimizer]
    objective: "Objective"


def lazy_adam_settings(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """The learning rate and Adam betas of an optimizer with a lazy phase every ``interval`` steps.

    Lazy regularization (StyleGAN2) runs a slowly changing regularizer every ``interval`` steps
    with its loss times ``interval``; its phase is an extra update of the same optimizer, so per
    ``interval`` main steps the optimizer takes ``interval + 1``. To keep the step size and the
    time constants of Adam's moments per *main* step, ``r = interval / (interval + 1)`` and

    Returns:
        ``(lr * r, (beta1 ** r, beta2 ** r))``.

    Raises:
        ValueError: ``interval < 1``.
    """
    if interval < 1:
        raise ValueError(f"a regularization interval must be >= 1, got {interval}")
    ratio = interval / (interval + 1)
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)


def adam(params: list[nn.Parameter], lr: float, optim: OptimConfig, betas: tuple[float, float] | None = None,
         lazy_interval: int | None = None) -> torch.optim.Adam:
    """Adam with the run's settings (fused kernels on CPU and CUDA).

    Args:
        params: the parameters it updates.
        lr: learning rate.
        optim: the run's optimizer config (betas and eps).
        betas: overrides ``(optim.beta1, optim.beta2)``.
        lazy_interval: the interval of a lazy regularization phase on this optimizer (None:
            none): lr and betas then get :func:`lazy_adam_settings`' correction.
    """
    betas = betas if betas is not None else (optim.beta1, optim.beta2)
    if lazy_interval:
        lr, betas = lazy_adam_settings(lr, betas, lazy_interval)
    return torch.optim.Adam(params, lr=lr, betas=betas, eps=optim.eps, fused=True)


def map_batches(function: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, batch_size: int = 512,
                device: torch.device | None = None) -> torch.Tensor:
    """``function`` over ``images [n, ...]`` in batches of ``batch_size`` (moved to ``device``), without
    gradients; the outputs concatenated as fp32 on the CPU (``[0, ...]`` outputs give ``[0]``).

    The one home of batched representing: ``Run.represent``, the activity of latents and the
    representations model selection scores all go through it.
    """
    if batch_size <= 0:
        raise InfoganError(f"batch size must be positive, got {batch_size}")
    outputs = []
    with torch.no_grad():
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size]
            outputs.append(function(chunk.to(device) if device is not None else chunk).float().cpu())
    return torch.cat(outputs) if outputs else torch.zeros(0)


def to_memory_format(module: nn.Module, channels_last: bool) -> nn.Module:
    """``module`` in the channels_last memory format when asked (conv networks), else unchanged."""
    return module.to(memory_format=torch.channels_last) if channels_last else module


class Model:
    """A registered model: networks and EMA copies (inference), optimizers and objective (training).

    Subclasses set the class attributes, implement :meth:`build_networks`, :meth:`build_training`
    and the inference methods.

    Attributes:
        config: the run config; image_shape: ``(C, H, W)``; device: where the networks live.
        networks: trained modules by name (saved in checkpoints).
        ema: EMA copies by name (a subset of ``networks``' names); used for sampling/representing.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    config_class: ClassVar[type[ModelConfig]] = ModelConfig
    presets: ClassVar[dict[str, Preset]] = {}
    traversal_range: ClassVar[tuple[float, float]] = (-1.0, 1.0)
    """Default value range of traversals (a GAN's codes live in [-1, 1]; a VAE's prior is N(0, 1))."""
    traversal_needs_data: ClassVar[bool] = False
    """True when traversals encode a real image (VAEs): callers then pass the dataset."""
    scores_generated_images: ClassVar[bool] = True
    """True when image-quality metrics (fd, kid) score :meth:`generate` (GANs)."""
    code_prior: ClassVar[str] = "uniform"
    """Prior of the continuous codes, for binning them in model selection: ``uniform`` (-1, 1) or ``normal``."""
    inactive_codes_are_nuisance: ClassVar[bool] = False
    """True when model selection treats inactive codes (by :meth:`latent_activity`) as nuisance (VAEs)."""

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> None:
        self.config = config
        self.image_shape = tuple(image_shape)
        self.device = torch.device(device)
        self.networks: dict[str, nn.Module] = {
            name: to_memory_format(network.to(self.device), config.train.channels_last)
            for name, network in self.build_networks().items()
        }
        self.ema: dict[str, nn.Module] = {name: self._ema_copy(self.networks[name]) for name in self.ema_names()}

    # ------------------------------------------------------------------ declaration
    @classmethod
    def default_config(cls, preset: str, dataset_name: str) -> RunConfig:
        """The resolved defaults of ``preset`` for ``dataset_name``.

        Raises:
            ConfigError: an unknown preset (the message lists this model's presets).
        """
        if preset not in cls.presets:
            raise ConfigError(f"unknown preset {preset!r} for {cls.name}; available: {', '.join(cls.presets)}")
        config = cls.presets[preset](dataset_name)
        config.preset = preset
        return config

    def build_networks(self) -> dict[str, nn.Module]:
        """The model's networks by name, freshly initialized (from the global RNG)."""
        raise NotImplementedError

    def ema_names(self) -> tuple[str, ...]:
        """Names of the networks that get an EMA copy."""
        return ()

    def build_training(self) -> TrainingParts:
        """Optimizers and objective (called by the trainer only)."""
        raise NotImplementedError

    @staticmethod
    def _ema_copy(network: nn.Module) -> nn.Module:
        copied = copy.deepcopy(network).eval()
        copied.requires_grad_(False)
        return copied

    # ------------------------------------------------------------------ inference contract
    def inference_network(self, name: str) -> nn.Module:
        """The EMA copy of ``name`` when there is one, else the trained network."""
        return self.ema.get(name, self.networks[name])

    def eval(self) -> "Model":
        """Every network and EMA copy in eval mode; returns the model."""
        for network in list(self.networks.values()) + list(self.ema.values()):
            network.eval()
        return self

    def code_names(self) -> list[str]:
        """Names of the representation's dimensions (one per regularized code / latent)."""
        raise NotImplementedError

    def represent(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[n, C, H, W]`` in [0, 1] -> codes ``[n, D]`` (what the metrics score)."""
        raise NotImplementedError

    def generate(self, num_images: int, rng: torch.Generator) -> torch.Tensor:
        """``num_images`` samples ``[n, C, H, W]`` in [0, 1] drawn by ``rng`` (on the model's device)."""
        raise NotImplementedError

    def render_codes(self, values: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Images ``[n, C, H, W]`` whose codes are ``values [n, D]`` (in the representation's order
        and ranges); everything else (noise) drawn by ``rng``. Model selection renders with it."""
        raise NotImplementedError

    def code_sizes(self) -> list[int | None]:
        """Per code: its number of classes (categorical) or None (continuous)."""
        return [None] * len(self.code_names())

    def nuisance_codes(self, count: int, rng: torch.Generator) -> torch.Tensor:
        """Code values ``[count, D]`` (CPU) for the codes model selection does not set (default:
        zeros, drawing nothing; every code is then set and the noise is the nuisance)."""
        return torch.zeros(count, len(self.code_names()))

    def latent_activity(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """How active each code is on ``images [n, C, H, W]`` (model selection ranks and prunes
        codes by it): ``[D]`` float64 on the CPU. Default: the variance of the codes; VAEs: the
        mean KL of each latent to the prior."""
        return map_batches(self.represent, images, batch_size).double().var(0, unbiased=False)

    def traversal_rows(self, codes: list[str] | None, columns: int, value_range: tuple[float, float],
                       rng: torch.Generator, dataset: Any = None) -> list[tuple[str, torch.Tensor]]:
        """One row per code: ``(label, images [values, C, H, W])``, everything else fixed.

        ``dataset`` is given when :attr:`traversal_needs_data` is true (to encode a real image).
        """
        raise NotImplementedError

    def set_truncation(self, psi: float) -> None:
        """Truncate what :meth:`generate` and traversals draw (style-based generators only)."""
        raise InfoganError(f"truncation needs a style-based generator (e.g. stylegan-info); {self.name} has none")

    def style_mixing_rows(self, columns: int, rng: torch.Generator) -> list[tuple[str, torch.Tensor]]:
        """A style-mixing grid as traversal rows (style-based generators only)."""
        raise InfoganError(f"--mixing needs a style-based model (e.g. stylegan-info); {self.name} has no style mixing")

    def extra_images(self, dataset: Any, rng: torch.Generator) -> dict[str, torch.Tensor]:
        """More image sets to log with the samples, e.g. ``{"Reconstructions": [n, C, H, W]}``."""
        return {}


def restore_weights(model: Model, state: dict[str, Any], source: str) -> None:
    """Load a checkpoint's networks and EMA copies into ``model`` (the one restore path).

    Raises:
        CheckpointError: the checkpoint's weights do not fit the model (``source`` names it).
    """
    try:
        for name, network in model.networks.items():
            network.load_state_dict(state["networks"][name])
        for name, network in model.ema.items():
            network.load_state_dict(state["ema"][name])
    except (KeyError, RuntimeError) as error:
        raise CheckpointError(f"{source}: weights do not match the {model.name} model ({str(error).splitlines()[0][:160]})") from None
