"""VAE baselines of disentanglement_lib's unsupervised study, trained by the same loop.

Models (``--model``): ``beta-vae``, ``annealed-vae``, ``factor-vae``, ``beta-tcvae``,
``dip-vae-i``, ``dip-vae-ii``. All share the study's networks
(:mod:`~infogan_kit.models.vae_nets`, 10 latents, 64x64 images with the dataset's channels) and
differ in the objective (:mod:`~infogan_kit.objectives.vae`,
:mod:`~infogan_kit.objectives.factor_vae`).

Presets:

* ``paper``: disentanglement_lib's ``shared.gin``: batch 64, 300,000 steps, Adam lr 1e-4,
  betas 0.9/0.999, eps 1e-8; FactorVAE's discriminator Adam lr 1e-4, betas 0.5/0.9; no EMA.
* ``quick``: CPU-friendly: the same networks and objectives with Adam lr 5e-4 (discriminator
  too; beta-VAE reached a lower loss in 1,200 steps than with 1e-4, and 1e-3 gave no more),
  6,000 steps within a 10-minute time budget (about 70 ms per bf16 step of batch 64 on one
  core of the development machine), and AnnealedVAE's capacity reaching C_max after 2,000
  steps, a third of the run as in the study (100,000 of 300,000).

The model's hyperparameters default to a point of the study's grid (``docs/training.md``):
beta 4 (disentanglement_lib's example ``model.gin``), C_max 25 with gamma 1000, FactorVAE gamma
40, beta-TCVAE beta 6, DIP-VAE lambda_od 10 (lambda_d = 10 lambda_od for I, lambda_od for II).

Traversals (``infogan traverse``, the run's ``traversals/``) encode one seeded real image and
sweep each latent over the range; rows are ordered by the latent's KL on 256 data images (most
informative first) and a latent whose KL is below :data:`INACTIVE_KL` nats is marked with a
trailing ``*`` (e.g. ``z7*``): it is switched off (collapsed to the prior) and its row should
not change.
"""


from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..config import ConfigError, DataConfig, OptimConfig, RunConfig, TrainConfig
from ..models.vae_nets import ConvEncoder, DeconvDecoder, FactorDiscriminator, check_image_shape, gaussian_kl_per_latent
from . import register_model
from .base import Model, TrainingParts, adam, map_batches
from .vae_configs import (AnnealedVAEConfig, BetaTCVAEConfig, BetaVAEConfig, DIPVAEIConfig, DIPVAEIIConfig, FactorVAEConfig,
                          VAEConfig)

if TYPE_CHECKING:
    from ..objectives.vae import VAEObjective

INACTIVE_KL = 0.01
"""Mean KL (nats) below which a latent counts as inactive; marked ``*`` in traversal labels."""

KL_ESTIMATE_IMAGES = 256
"""Data images whose encodings estimate each latent's KL for ordering traversal rows."""

QUICK_LR = 5e-4
"""Adam learning rate of the quick preset (the VAE and FactorVAE's discriminator)."""

QUICK_ANNEAL_STEPS = 2_000
"""AnnealedVAE's ``iteration_threshold`` in the quick preset."""


# ---------------------------------------------------------------------- presets
def _paper(config_class: type[VAEConfig], dataset_name: str) -> RunConfig:
    optim = OptimConfig(lr_g=1e-4, lr_d=1e-4, beta1=0.9, beta2=0.999, eps=1e-8)
    train = TrainConfig(steps=300_000, batch_size=64, ema_beta=0.0, log_every=500, sample_every=10_000, checkpoint_every=10_000)
    return RunConfig(model=config_class(), data=DataConfig(name=dataset_name), train=train, optim=optim)


def _quick(config_class: type[VAEConfig], dataset_name: str) -> RunConfig:
    model = config_class()
    if isinstance(model, AnnealedVAEConfig):
        model.iteration_threshold = QUICK_ANNEAL_STEPS
    optim = OptimConfig(lr_g=QUICK_LR, lr_d=QUICK_LR, beta1=0.9, beta2=0.999, eps=1e-8)
    train = TrainConfig(steps=6_000, batch_size=64, ema_beta=0.0, log_every=100, sample_every=1000, checkpoint_every=1000,
                        time_budget_min=10.0)
    return RunConfig(model=model, data=DataConfig(name=dataset_name), train=train, optim=optim)


# ---------------------------------------------------------------------- the shared model
class VAE(Model):
    """Encoder and decoder (EMA copies only when ``train.ema_beta > 0``), one Adam, phase ``VAE``.

    Subclasses name their config class and build their objective (:meth:`objective`); the
    presets (``quick``, ``paper``, see the module docstring) follow from the config class.
    """

    family = "vae"
    config_class = VAEConfig
    traversal_range = (-2.0, 2.0)
    traversal_needs_data = True
    scores_generated_images = False
    code_prior = "normal"
    inactive_codes_are_nuisance = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.presets = {"quick": partial(_quick, cls.config_class), "paper": partial(_paper, cls.config_class)}

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> None:
        try:
            check_image_shape(image_shape)
        except ValueError as error:
            raise ConfigError(f"{config.model.name}: {error}") from None
        self.num_latents = config.model.num_latents  # type: ignore[attr-defined]
        super().__init__(config, image_shape, device)

    def build_networks(self) -> dict[str, nn.Module]:
        channels = self.image_shape[0]
        return {"encoder": ConvEncoder(channels, self.num_latents), "decoder": DeconvDecoder(channels, self.num_latents)}

    def ema_names(self) -> tuple[str, ...]:
        return ("encoder", "decoder") if self.config.train.ema_beta > 0 else ()

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """``{"VAE": Adam(encoder + decoder, optim.lr_g)}``."""
        params = list(self.networks["encoder"].parameters()) + list(self.networks["decoder"].parameters())
        return {"VAE": adam(params, self.config.optim.lr_g, self.config.optim)}

    def objective(self) -> "VAEObjective":
        """This model's objective (subclasses)."""
        raise NotImplementedError

    def build_training(self) -> TrainingParts:
        return TrainingParts(self.optimizers(), self.objective())

    # ------------------------------------------------------------------ inference
    def code_names(self) -> list[str]:
        """``["z1", ..., "zD"]``."""
        return [f"z{index + 1}" for index in range(self.num_latents)]

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``[n, C, H, W]`` -> fp32 (means, log variances) ``[n, D]`` (EMA encoder if any)."""
        means, log_variances = self.inference_network("encoder")(images.to(self.device))
        return means.float(), log_variances.float()

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents ``[n, D]`` -> images ``[n, C, H, W]`` in [0, 1] (EMA decoder if any)."""
        return torch.sigmoid(self.inference_network("decoder")(latents.to(self.device)).float())

    def represent(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[n, C, H, W]`` in [0, 1] -> encoder means ``[n, D]`` (what the metrics score)."""
        return self.encode(images)[0]

    @torch.no_grad()
    def generate(self, num_images: int, rng: torch.Generator) -> torch.Tensor:
        """Decode ``num_images`` prior samples ``z ~ N(0, I)`` -> images ``[n, C, H, W]`` in [0, 1]."""
        latents = torch.randn(num_images, self.num_latents, generator=rng, device=self.device)
        return self.decode(latents)

    @torch.no_grad()
    def render_codes(self, values: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        """Decode latents ``values [n, D]``."""
        return self.decode(values)

    def nuisance_codes(self, count: int, rng: torch.Generator) -> torch.Tensor:
        """Prior draws ``N(0, I)`` ``[count, D]`` (on the CPU generator ``rng``): an inactive latent is nuisance."""
        return torch.randn(count, self.num_latents, generator=rng)

    def kl_per_latent(self, images: torch.Tensor) -> torch.Tensor:
        """``KL(q(z_l | x) || N(0, 1))`` of every latent of every image: ``[n, D]`` fp32."""
        return gaussian_kl_per_latent(*self.encode(images))

    def latent_activity(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """Mean KL of each latent to the prior on ``images``: ``[D]`` float64 (CPU)."""
        return map_batches(self.kl_per_latent, images, batch_size).double().mean(0)

    @staticmethod
    def data_rng(rng: torch.Generator) -> torch.Generator:
        """A CPU generator (what datasets take) seeded from ``rng`` (any device)."""
        seed = int(torch.randint(0, 2**62, (1,), generator=rng, device=rng.device))
        return torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def traversal_rows(self, codes: list[str] | None, columns: int, value_range: tuple[float, float],
                       rng: torch.Generator, dataset: Any = None) -> list[tuple[str, torch.Tensor]]:
        """Encode one seeded image of ``dataset`` and sweep each latent of its mean over
        ``value_range`` in ``columns`` steps, the others fixed.

        Rows: the requested ``codes`` in their order, or every latent by decreasing KL (on
        :data:`KL_ESTIMATE_IMAGES` data images); labels are the latent names, ``*`` appended to
        inactive ones (KL < :data:`INACTIVE_KL`). Returns ``[(label, images [columns, C, H, W])]``.
        """
        if dataset is None:
            raise ValueError("VAE traversals encode a real image: pass the run's dataset")
        names = self.code_names()
        unknown = [code for code in (codes or []) if code not in names]
        if unknown:
            raise ConfigError(f"unknown code(s) {', '.join(unknown)}; this model's codes are z1..z{self.num_latents}")
        images, _ = dataset.sample(KL_ESTIMATE_IMAGES, generator=self.data_rng(rng))
        means, log_variances = self.encode(images)
        kl = gaussian_kl_per_latent(means, log_variances).mean(0).cpu()  # rows below start from means[0]
        order = [names.index(code) for code in codes] if codes else kl.argsort(descending=True).tolist()
        values = torch.linspace(value_range[0], value_range[1], columns, device=self.device)
        latents = means[:1].repeat(len(order) * columns, 1)
        for row, index in enumerate(order):
            latents[row * columns : (row + 1) * columns, index] = values
        decoded = self.decode(latents).split(columns)
        return [(names[index] + ("*" if kl[index] < INACTIVE_KL else ""), rows) for index, rows in zip(order, decoded)]

    @torch.no_grad()
    def extra_images(self, dataset: Any, rng: torch.Generator) -> dict[str, torch.Tensor]:
        """``{"Reconstructions": [64, C, H, W]}``: 32 data images, each followed by its
        reconstruction from the encoder mean (pairs side by side in an 8-column grid)."""
        if dataset is None:
            return {}
        images, _ = dataset.sample(32, generator=self.data_rng(rng))
        reconstructions = self.decode(self.encode(images)[0]).cpu()
        return {"Reconstructions": torch.stack([images.float().cpu(), reconstructions], dim=1).flatten(0, 1)}


# ---------------------------------------------------------------------- the six models
@register_model("beta-vae")
class BetaVAE(VAE):
    """beta-VAE."""

    config_class = BetaVAEConfig

    def objective(self) -> "VAEObjective":
        from ..objectives.vae import BetaVAEObjective

        return BetaVAEObjective(self.networks["encoder"], self.networks["decoder"], self.config.model.beta)  # type: ignore[attr-defined]


@register_model("annealed-vae")
class AnnealedVAE(VAE):
    """AnnealedVAE (the capacity ramps linearly to ``c_max`` over ``iteration_threshold`` steps)."""

    config_class = AnnealedVAEConfig

    def objective(self) -> "VAEObjective":
        from ..objectives.schedule import Schedule
        from ..objectives.vae import AnnealedVAEObjective

        model: AnnealedVAEConfig = self.config.model  # type: ignore[assignment]
        capacity = Schedule.ramp(model.c_max, model.iteration_threshold)
        return AnnealedVAEObjective(self.networks["encoder"], self.networks["decoder"], model.gamma, capacity)


@register_model("factor-vae")
class FactorVAE(VAE):
    """FactorVAE: adds the discriminator, its Adam (``optim.lr_d``, the model's discriminator
    betas) and the phase ``D`` after ``VAE``."""

    config_class = FactorVAEConfig

    def build_networks(self) -> dict[str, nn.Module]:
        return {**super().build_networks(), "discriminator": FactorDiscriminator(self.num_latents)}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        model: FactorVAEConfig = self.config.model  # type: ignore[assignment]
        betas = (model.discriminator_beta1, model.discriminator_beta2)
        discriminator = self.networks["discriminator"]
        return {**super().optimizers(), "D": adam(list(discriminator.parameters()), self.config.optim.lr_d, self.config.optim, betas)}

    def objective(self) -> "VAEObjective":
        from ..objectives.factor_vae import FactorVAEObjective

        return FactorVAEObjective(self.networks["encoder"], self.networks["decoder"], self.networks["discriminator"],
                                  self.config.model.gamma)  # type: ignore[attr-defined]


@register_model("beta-tcvae")
class BetaTCVAE(VAE):
    """beta-TCVAE."""

    config_class = BetaTCVAEConfig

    def objective(self) -> "VAEObjective":
        from ..objectives.vae import BetaTCVAEObjective

        return BetaTCVAEObjective(self.networks["encoder"], self.networks["decoder"], self.config.model.beta)  # type: ignore[attr-defined]


@register_model("dip-vae-i")
class DIPVAEI(VAE):
    """DIP-VAE-I."""

    config_class = DIPVAEIConfig

    def objective(self) -> "VAEObjective":
        from ..objectives.vae import DIPVAEIObjective

        model: DIPVAEIConfig = self.config.model  # type: ignore[assignment]
        return DIPVAEIObjective(self.networks["encoder"], self.networks["decoder"], model.lambda_od, model.lambda_d_factor)


@register_model("dip-vae-ii")
class DIPVAEII(VAE):
    """DIP-VAE-II."""

    config_class = DIPVAEIIConfig

    def objective(self) -> "VAEObjective":
        from ..objectives.vae import DIPVAEIIObjective

        model: DIPVAEIIConfig = self.config.model  # type: ignore[assignment]
        return DIPVAEIIObjective(self.networks["encoder"], self.networks["decoder"], model.lambda_od, model.lambda_d_factor)
