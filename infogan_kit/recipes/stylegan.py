"""``--model stylegan-info``: a style-based generator whose InfoGAN codes control named factors.

Networks: :mod:`infogan_kit.models.stylegan` (mapping + synthesis with a code-injection mode,
residual D with minibatch stddev, Q head on D's trunk). Objective:
:mod:`infogan_kit.objectives.stylegan` (phases ``D``, ``Dreg``, ``G``, ``Greg``).

Presets:

* ``quick``: CPU recipe for 64x64 data (dSprites) in a 15-minute budget: narrow networks
  (channel_base 512, channel_max 64: 64 feature maps at 4-8 px down to 8 at 64 px), w_dim 64,
  a 2-layer mapping, batch 32, R1 every 16 steps, no path length (its double backward costs
  more than it gives in so few steps), ADA with a fast controller, EMA beta 0.995.
* ``paper-64``: StyleGAN2 settings at 64x64 for a GPU: channel_base 16384 / max 512, w_dim 512,
  8 mapping layers, batch 32, lr 0.0025, Adam betas (0, 0.99), R1 ``gamma = 0.0002 R^2 / batch``
  every 16 steps, path length weight 2 every 4 steps on half the batch, style mixing 0.9.

Both default to ``train.precision=auto`` (bf16 where the hardware supports it) and keep an EMA of G
(and of D, for the Q head that ``represent`` uses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from torch import nn

from ..config import ConfigError, DataConfig, OptimConfig, RunConfig, TrainConfig
from ..models.info_codes import InfoCodesConfig
from ..models.latent import LatentSpec
from ..models.stylegan import (INJECTIONS, ResidualDiscriminator, StyleGenerator, block_resolutions, parse_code_layers, routing_matrix,
                               style_layer_resolutions)
from . import register_model
from .base import TrainingParts, adam
from .gan import InfoCodesModel

if TYPE_CHECKING:
    from ..objectives.stylegan import RegularizerSettings

AUGMENT_MODES = ("ada", "fixed", "none")


@dataclass
class StyleGANInfoConfig(InfoCodesConfig):
    """stylegan-info model settings (``--set model.<field>=...``; the code fields are
    :class:`~infogan_kit.models.info_codes.InfoCodesConfig`'s; the latent needs noise
    dimensions for the mapping network).

    Attributes:
        injection: ``z-concat`` (codes join z before the mapping), ``w-space`` (codes appended to w at
            every style layer) or ``per-layer`` (each code reaches the blocks of ``code_layers`` only).
        code_layers: ``per-layer`` routing by block resolution: ``auto`` or e.g. ``c1=4,8;c2=16-32``
            (codes not named reach every block).
        w_dim: width of w and of the mapping network.
        mapping_layers: depth of the mapping network.
        mapping_lr_mul: learning-rate multiplier of the mapping network.
        w_avg_beta: decay of the running mean of w (the truncation centre).
        channel_base: feature maps at resolution r are ``min(channel_base / r, channel_max)``.
        channel_max: upper bound of the feature maps.
        mbstd_group: minibatch-stddev group size of D.
        mixing_prob: style-mixing regularization probability (a second w with the same codes).
        truncation_psi: truncation of sample/traverse/generate (1: none; 0.7 trades variety for
            typical samples; codes are never truncated); training never truncates.
        r1_gamma: R1 weight gamma (gradient w.r.t. images in [-1, 1]).
        r1_interval: steps between lazy R1 phases (``Dreg``).
        r1_ramp_steps: steps over which the R1 weight ramps up from 0 (0: no ramp).
        pl_weight: path-length weight (0: off).
        pl_interval: steps between lazy ``Greg`` phases (path length, Hessian penalty, OroJaR).
        pl_batch_shrink: ``Greg`` uses batch / shrink samples.
        pl_decay: EMA rate of pl_mean.
        pl_ramp_steps: ramp of the path-length weight.
        hessian_weight: Hessian-penalty weight w.r.t. the continuous codes (0: off).
        hessian_k: Rademacher directions of the Hessian penalty.
        hessian_epsilon: finite-difference step of the Hessian penalty.
        hessian_ramp_steps: ramp of the Hessian-penalty weight.
        hessian_layers: what the Hessian penalty and OroJaR regularize, comma separated: ``output``
            and/or block resolutions whose features count too (``output,16``).
        orojar_weight: OroJaR weight w.r.t. the continuous codes (0: off).
        orojar_k: Rademacher directions of OroJaR.
        orojar_epsilon: finite-difference step of OroJaR.
        orojar_ramp_steps: ramp of the OroJaR weight.
        augment: ``ada`` (adaptive p), ``fixed`` (p = augment_p) or ``none``.
        augment_p: initial (ada) or fixed augmentation probability.
        augment_ops: augmentation operations, a subset of ``translation,cutout,color``.
        ada_target: ADA target of E[sign(D(real))].
        ada_interval: steps between ADA adjustments.
        ada_speed_images: images over which ADA can move p by 1.
    """

    name: str = "stylegan-info"
    latent: str = "cont5+noise5"
    lambda_cont: float = 0.3
    injection: str = "w-space"
    code_layers: str = "auto"
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_lr_mul: float = 0.01
    w_avg_beta: float = 0.995
    channel_base: int = 16384
    channel_max: int = 512
    mbstd_group: int = 4
    mixing_prob: float = 0.9
    truncation_psi: float = 1.0
    r1_gamma: float = 0.025
    r1_interval: int = 16
    r1_ramp_steps: int = 0
    pl_weight: float = 2.0
    pl_interval: int = 4
    pl_batch_shrink: int = 2
    pl_decay: float = 0.01
    pl_ramp_steps: int = 0
    hessian_weight: float = 0.0
    hessian_k: int = 2
    hessian_epsilon: float = 0.1
    hessian_ramp_steps: int = 0
    hessian_layers: str = "output"
    orojar_weight: float = 0.0
    orojar_k: int = 2
    orojar_epsilon: float = 0.1
    orojar_ramp_steps: int = 0
    augment: str = "ada"
    augment_p: float = 0.0
    augment_ops: str = "translation,cutout,color"
    ada_target: float = 0.6
    ada_interval: int = 4
    ada_speed_images: float = 100_000.0

    def validate(self) -> None:
        super().validate()
        spec = self.latent_spec((1, 64, 64))
        if spec.noise_dim <= 0:
            raise ConfigError("model.latent needs noise dimensions for the mapping network, e.g. cont5+noise5")
        if self.injection not in INJECTIONS:
            raise ConfigError(f"model.injection must be one of {', '.join(INJECTIONS)}, got {self.injection!r}")
        from ..objectives.regularizers.augment import parse_operations

        parse_code_layers(self.code_layers, [c.name for c in spec.regularized], block_resolutions(128))
        self.regularized_layers()
        parse_operations(self.augment_ops)
        if self.augment not in AUGMENT_MODES:
            raise ConfigError(f"model.augment must be one of {', '.join(AUGMENT_MODES)}, got {self.augment!r}")
        positive = ("w_dim", "mapping_layers", "channel_base", "channel_max", "mbstd_group", "r1_interval", "pl_interval",
                    "pl_batch_shrink", "ada_interval", "mapping_lr_mul", "hessian_epsilon", "orojar_epsilon", "ada_speed_images")
        for key in positive:
            if not getattr(self, key) > 0:
                raise ConfigError(f"model.{key} must be > 0, got {getattr(self, key)}")
        non_negative = ("r1_gamma", "pl_weight", "hessian_weight", "orojar_weight", "truncation_psi",
                        "r1_ramp_steps", "pl_ramp_steps", "hessian_ramp_steps", "orojar_ramp_steps")
        for key in non_negative:
            if getattr(self, key) < 0:
                raise ConfigError(f"model.{key} must be >= 0, got {getattr(self, key)}")
        for key in ("mixing_prob", "augment_p", "w_avg_beta", "pl_decay", "ada_target"):
            if not 0 <= getattr(self, key) <= 1:
                raise ConfigError(f"model.{key} must be in [0, 1], got {getattr(self, key)}")
        if self.hessian_k < 2 or self.orojar_k < 2:
            raise ConfigError("model.hessian_k and model.orojar_k must be >= 2 (the estimators are variances over directions)")
        if (self.hessian_weight > 0 or self.orojar_weight > 0) and spec.num_cont == 0:
            raise ConfigError("the Hessian penalty and OroJaR act on continuous codes; model.latent has none")

    def regularized_layers(self) -> tuple[bool, tuple[int, ...]]:
        """``hessian_layers`` parsed: (penalize the output image, block resolutions)."""
        parts = [p.strip() for p in self.hessian_layers.split(",") if p.strip()]
        resolutions = []
        for part in parts:
            if part != "output" and not (part.isdigit() and int(part) in block_resolutions(128)):
                raise ConfigError(f"model.hessian_layers takes 'output' and block resolutions (4, 8, ..., 128), got {part!r}")
            if part != "output":
                resolutions.append(int(part))
        if not parts:
            raise ConfigError("model.hessian_layers must name at least one layer (e.g. output)")
        return "output" in parts, tuple(resolutions)

    def regularizer_settings(self) -> "RegularizerSettings":
        """The objective's :class:`~infogan_kit.objectives.stylegan.RegularizerSettings`."""
        from ..objectives.schedule import Schedule
        from ..objectives.stylegan import RegularizerSettings

        include_output, layers = self.regularized_layers()
        return RegularizerSettings(
            r1=Schedule.ramp(self.r1_gamma, self.r1_ramp_steps), r1_interval=self.r1_interval,
            path_length=Schedule.ramp(self.pl_weight, self.pl_ramp_steps), pl_interval=self.pl_interval,
            pl_batch_shrink=self.pl_batch_shrink, pl_decay=self.pl_decay,
            hessian=Schedule.ramp(self.hessian_weight, self.hessian_ramp_steps), hessian_k=self.hessian_k,
            hessian_epsilon=self.hessian_epsilon, hessian_layers=layers, include_output=include_output,
            orojar=Schedule.ramp(self.orojar_weight, self.orojar_ramp_steps), orojar_k=self.orojar_k,
            orojar_epsilon=self.orojar_epsilon, mixing_prob=self.mixing_prob,
        )

    @property
    def d_reg_interval(self) -> int | None:
        """Steps between lazy R1 phases (None: R1 off)."""
        return self.r1_interval if self.r1_gamma > 0 else None

    @property
    def g_reg_interval(self) -> int | None:
        """Steps between lazy G-regularization phases (None: path length, Hessian penalty and OroJaR off)."""
        return self.pl_interval if (self.pl_weight > 0 or self.hessian_weight > 0 or self.orojar_weight > 0) else None


def code_columns(latent: LatentSpec) -> dict[str, list[int]]:
    """Columns of each regularized code in the code vector (one-hot categorical, then continuous)."""
    columns, offset = {}, 0
    for code in latent.regularized:
        width = code.size if code.kind == "categorical" else 1
        columns[code.name] = list(range(offset, offset + width))
        offset += width
    return columns


def build_networks(model: StyleGANInfoConfig, latent: LatentSpec, image_shape: tuple[int, int, int]) -> tuple[StyleGenerator, ResidualDiscriminator]:
    """G and D for ``image_shape`` (C, R, R) with R 64 or 128."""
    channels, height, width = image_shape
    if height != width or height not in (64, 128):
        raise ConfigError(f"stylegan-info trains on 64x64 or 128x128 images, not {height}x{width}")
    code_dim = sum(latent.cat_sizes) + latent.num_cont
    routing = None
    if model.injection == "per-layer":
        resolutions = block_resolutions(height)
        routes = parse_code_layers(model.code_layers, [c.name for c in latent.regularized], resolutions)
        routing = routing_matrix(routes, code_columns(latent), code_dim, style_layer_resolutions(height))
    generator = StyleGenerator(
        code_dim, latent.noise_dim, height, channels, model.injection, routing, model.w_dim, model.mapping_layers,
        model.mapping_lr_mul, model.w_avg_beta, model.channel_base, model.channel_max,
    )
    discriminator = ResidualDiscriminator(image_shape, latent.q_output_dim(model.learned_variance), model.channel_base,
                                          model.channel_max, model.mbstd_group)
    return generator, discriminator


def _optim() -> OptimConfig:
    return OptimConfig(lr_g=0.0025, lr_d=0.0025, beta1=0.0, beta2=0.99, eps=1e-8)


def _paper_64(dataset_name: str) -> RunConfig:
    batch = 32
    model = StyleGANInfoConfig(r1_gamma=0.0002 * 64**2 / batch)
    train = TrainConfig(steps=300_000, batch_size=batch, ema_beta=0.998, log_every=500, sample_every=5000, checkpoint_every=5000)
    return RunConfig(model=model, data=DataConfig(name=dataset_name), train=train, optim=_optim())


def _quick(dataset_name: str) -> RunConfig:
    batch = 32
    model = StyleGANInfoConfig(
        w_dim=64, mapping_layers=2, channel_base=512, channel_max=64, mixing_prob=0.5, pl_weight=0.0,
        r1_gamma=0.0002 * 64**2 / batch, ada_speed_images=20_000.0,
    )
    train = TrainConfig(steps=100_000, batch_size=batch, ema_beta=0.995, log_every=50, sample_every=500,
                        checkpoint_every=500, time_budget_min=15.0)
    return RunConfig(model=model, data=DataConfig(name=dataset_name), train=train, optim=_optim())


@register_model("stylegan-info")
class StyleGANInfo(InfoCodesModel):
    """Style-based G with InfoGAN codes, Q on a residual D; lazily corrected Adam optimizers and the
    four phases of :class:`~infogan_kit.objectives.stylegan.StyleGANInfoObjective`.

    Inference is the InfoGAN codes': Q's mean per continuous code and the argmax class per
    categorical code (EMA D), one traversal row per code from the EMA G. ``generate`` and
    traversals use ``model.truncation_psi``.
    """

    config_class = StyleGANInfoConfig
    presets = {"quick": _quick, "paper-64": _paper_64}

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> None:
        super().__init__(config, image_shape, device)
        self.ema["G"].truncation_psi = config.model.truncation_psi  # type: ignore[attr-defined]

    def build_networks(self) -> dict[str, nn.Module]:
        generator, discriminator = build_networks(self.config.model, self.codes.spec, self.image_shape)  # type: ignore[arg-type]
        return {"G": generator, "D": discriminator}

    def build_training(self) -> TrainingParts:
        from ..objectives.regularizers.augment import AdaptiveAugmentProbability, parse_operations
        from ..objectives.stylegan import StyleGANInfoObjective

        model_config: StyleGANInfoConfig = self.config.model  # type: ignore[assignment]
        generator, discriminator, optim = self.networks["G"], self.networks["D"], self.config.optim
        optimizers = {
            "G": adam(list(generator.parameters()) + discriminator.q_head_parameters(), optim.lr_g, optim,
                      lazy_interval=model_config.g_reg_interval),
            "D": adam(discriminator.d_parameters(), optim.lr_d, optim, lazy_interval=model_config.d_reg_interval),
        }
        augmentation = AdaptiveAugmentProbability(
            initial_p=model_config.augment_p if model_config.augment != "none" else 0.0, adaptive=model_config.augment == "ada",
            target=model_config.ada_target, interval=model_config.ada_interval, speed_images=model_config.ada_speed_images,
        )
        objective = StyleGANInfoObjective(generator, discriminator, self.codes, model_config.regularizer_settings(), augmentation,
                                          parse_operations(model_config.augment_ops))
        return TrainingParts(optimizers, objective)

    # ------------------------------------------------------------------ inference
    def set_truncation(self, psi: float) -> None:
        """Truncation psi of sampling, traversals and mixing grids (codes are never truncated)."""
        if not 0.0 <= psi <= 1.0:
            raise ConfigError(f"truncation psi must be in [0, 1], got {psi}")
        self.ema["G"].truncation_psi = float(psi)  # type: ignore[assignment]

    @torch.no_grad()
    def generate(self, num_images: int, rng: torch.Generator) -> torch.Tensor:
        """``num_images`` samples ``[n, C, R, R]`` clamped to [0, 1] (EMA G, truncation_psi, fixed noise)."""
        return super().generate(num_images, rng).clamp(0, 1)

    @torch.no_grad()
    def style_mixing_rows(self, columns: int, rng: torch.Generator, rows: int = 4,
                          cutoff: int | None = None) -> list[tuple[str, torch.Tensor]]:
        """A style-mixing grid as traversal rows: the first row shows ``columns`` sources B (after a
        grey tile); row ``i`` shows source A_i, then A_i with the layers below ``cutoff`` (default:
        the 4x4 and 8x8 styles, codes included) taken from each B. Images ``[columns + 1, C, R, R]``."""
        network: StyleGenerator = self.inference_network("G")  # type: ignore[assignment]
        psi = network.truncation_psi
        cut = cutoff if cutoff is not None else sum(1 for r in network.synthesis.layer_resolutions() if r <= 8)
        sources_b = network.layer_inputs(self.codes.to_input(self.codes.sample(columns, rng, self.device)), psi)
        sources_a = network.layer_inputs(self.codes.to_input(self.codes.sample(rows, rng, self.device)), psi)
        images_b = network.synthesize(sources_b, "const").float().clamp(0, 1)
        images_a = network.synthesize(sources_a, "const").float().clamp(0, 1)
        grey = torch.full_like(images_b[:1], 0.5)
        grid = [("B", torch.cat([grey, images_b]))]
        for i in range(rows):
            a_i = type(sources_a)(*(None if t is None else t[i : i + 1].expand(columns, *t.shape[1:]) for t in sources_a))
            mixed = network.synthesize(network.mix(sources_b, a_i, cut), "const").float().clamp(0, 1)
            grid.append((f"A{i + 1}", torch.cat([images_a[i : i + 1], mixed])))
        return grid
