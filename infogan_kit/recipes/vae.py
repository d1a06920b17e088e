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

from dataclasses import dataclass

import torch

from ..config import ConfigError, DataConfig, ModelConfig, OptimConfig, RunConfig, TrainConfig
from ..models.vae_nets import ConvEncoder, DeconvDecoder, FactorDiscriminator, check_image_shape
from ..objectives.factor_vae import FactorVAEObjective
from ..objectives.vae import (
    AnnealedVAEObjective,
    BetaTCVAEObjective,
    BetaVAEObjective,
    DIPVAEIIObjective,
    DIPVAEIObjective,
    VAEObjective,
)
from ..objectives.vae_terms import gaussian_kl_per_latent
from ..training.system import Phase, TrainingSystem
from . import register_model

INACTIVE_KL = 0.01
"""Mean KL (nats) below which a latent counts as inactive; marked ``*`` in traversal labels."""

KL_ESTIMATE_IMAGES = 256
"""Data images whose encodings estimate each latent's KL for ordering traversal rows."""


# ---------------------------------------------------------------------- configs
@dataclass
class VAEConfig(ModelConfig):
    """Settings every VAE shares.

    Attributes:
        num_latents: latent dimensions D (10 in the study).
    """

    name: str = "beta-vae"
    num_latents: int = 10

    def validate(self) -> None:
        if self.num_latents < 1:
            raise ConfigError(f"model.num_latents must be >= 1, got {self.num_latents}")

    def _require_non_negative(self, *keys: str) -> None:
        for key in keys:
            if getattr(self, key) < 0:
                raise ConfigError(f"model.{key} must be >= 0, got {getattr(self, key)}")


@dataclass
class BetaVAEConfig(VAEConfig):
    """beta-VAE. Attributes: beta: weight of the KL (study grid 1, 2, 4, 6, 8, 16)."""

    name: str = "beta-vae"
    beta: float = 4.0

    def validate(self) -> None:
        super().validate()
        self._require_non_negative("beta")


@dataclass
class AnnealedVAEConfig(VAEConfig):
    """AnnealedVAE.

    Attributes:
        c_max: final capacity C_max in nats (study grid 5, 10, 25, 50, 75, 100).
        gamma: weight of the absolute gap between the KL and the capacity C (1000 in the study).
        iteration_threshold: steps for C to grow linearly from 0 to C_max (100,000).
    """

    name: str = "annealed-vae"
    c_max: float = 25.0
    gamma: float = 1000.0
    iteration_threshold: int = 100_000

    def validate(self) -> None:
        super().validate()
        self._require_non_negative("c_max", "gamma")
        if self.iteration_threshold < 1:
            raise ConfigError(f"model.iteration_threshold must be >= 1, got {self.iteration_threshold}")


@dataclass
class FactorVAEConfig(VAEConfig):
    """FactorVAE (the discriminator's learning rate is ``optim.lr_d``).

    Attributes:
        gamma: weight of the TC term (study grid 10, 20, 30, 40, 50, 100).
        discriminator_beta1: Adam beta1 of the discriminator (0.5).
        discriminator_beta2: Adam beta2 of the discriminator (0.9).
    """

    name: str = "factor-vae"
    gamma: float = 40.0
    discriminator_beta1: float = 0.5
    discriminator_beta2: float = 0.9

    def validate(self) -> None:
        super().validate()
        self._require_non_negative("gamma")
        for key in ("discriminator_beta1", "discriminator_beta2"):
            if not 0 <= getattr(self, key) < 1:
                raise ConfigError(f"model.{key} must be in [0, 1)")


@dataclass
class BetaTCVAEConfig(VAEConfig):
    """beta-TCVAE. Attributes: beta: weight of the TC term (study grid 1, 2, 4, 6, 8, 10)."""

    name: str = "beta-tcvae"
    beta: float = 6.0

    def validate(self) -> None:
        super().validate()
        self._require_non_negative("beta")


@dataclass
class DIPVAEIConfig(VAEConfig):
    """DIP-VAE-I.

    Attributes:
        lambda_od: weight of the off-diagonal covariance penalty (study grid 1, 2, 5, 10, 20, 50).
        lambda_d_factor: ``lambda_d = lambda_d_factor * lambda_od`` (10 for DIP-VAE-I).
    """

    name: str = "dip-vae-i"
    lambda_od: float = 10.0
    lambda_d_factor: float = 10.0

    def validate(self) -> None:
        super().validate()
        self._require_non_negative("lambda_od", "lambda_d_factor")


@dataclass
class DIPVAEIIConfig(DIPVAEIConfig):
    """DIP-VAE-II: the DIP-VAE-I fields, on the covariance of z instead of that of mu.

    Attributes:
        lambda_od: weight of the off-diagonal covariance penalty (study grid 1, 2, 5, 10, 20, 50).
        lambda_d_factor: ``lambda_d = lambda_d_factor * lambda_od`` (1 for DIP-VAE-II).
    """

    name: str = "dip-vae-ii"
    lambda_od: float = 10.0
    lambda_d_factor: float = 1.0


# ---------------------------------------------------------------------- systems
class VAESystem(TrainingSystem):
    """Encoder and decoder (EMA copies only when ``train.ema_beta > 0``), one Adam, phase ``VAE``.

    Subclasses say which objective trains them (:meth:`make_objective`).
    """

    family = "vae"
    needs_data_for_traversal = True

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> None:
        super().__init__()
        try:
            check_image_shape(image_shape)
        except ValueError as error:
            raise ConfigError(f"{config.model.name}: {error}") from None
        model: VAEConfig = config.model  # type: ignore[assignment]
        self.config = config
        self.num_latents = model.num_latents
        encoder = ConvEncoder(image_shape[0], model.num_latents).to(device)
        decoder = DeconvDecoder(image_shape[0], model.num_latents).to(device)
        if config.train.channels_last:
            encoder = encoder.to(memory_format=torch.channels_last)
            decoder = decoder.to(memory_format=torch.channels_last)
        self.networks = {"encoder": encoder, "decoder": decoder}
        if config.train.ema_beta > 0:
            self.make_ema("encoder", "decoder")
        params = list(encoder.parameters()) + list(decoder.parameters())
        self.optimizers = {"VAE": self.adam(params, config.optim.lr_g, (config.optim.beta1, config.optim.beta2), config)}
        self.phases = [Phase("VAE", "VAE")]
        self.objective: VAEObjective = self.make_objective(model, device)

    @staticmethod
    def adam(params: list[torch.nn.Parameter], lr: float, betas: tuple[float, float], config: RunConfig) -> torch.optim.Adam:
        """Adam with ``optim.eps``; fused kernels (CPU and CUDA)."""
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=config.optim.eps, fused=True)

    def make_objective(self, model: VAEConfig, device: torch.device) -> VAEObjective:
        """The objective of this model (subclasses may add networks, optimizers and phases)."""
        raise NotImplementedError

    def start_step(self, step: int) -> None:
        """Pass the step to the objective (AnnealedVAE's capacity schedule)."""
        self.objective.start_step(step)

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
    def generate(self, num_images: int, generator: torch.Generator) -> torch.Tensor:
        """Decode ``num_images`` prior samples ``z ~ N(0, I)`` -> images ``[n, C, H, W]`` in [0, 1]."""
        latents = torch.randn(num_images, self.num_latents, generator=generator, device=self.device)
        return self.decode(latents)

    @staticmethod
    def data_generator(generator: torch.Generator) -> torch.Generator:
        """A CPU generator (what datasets take) seeded from ``generator`` (any device)."""
        seed = int(torch.randint(0, 2**62, (1,), generator=generator, device=generator.device))
        return torch.Generator().manual_seed(seed)

    @torch.no_grad()
    def traversal_rows(
        self,
        codes: list[str] | None,
        columns: int,
        value_range: tuple[float, float],
        generator: torch.Generator,
        dataset: object = None,
    ) -> list[tuple[str, torch.Tensor]]:
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
        images, _ = dataset.sample(KL_ESTIMATE_IMAGES, generator=self.data_generator(generator))
        means, log_variances = self.encode(images)
        kl = gaussian_kl_per_latent(means, log_variances).mean(0).cpu()
        order = [names.index(code) for code in codes] if codes else kl.argsort(descending=True).tolist()
        base = means[:1]
        values = torch.linspace(value_range[0], value_range[1], columns, device=self.device)
        latents = base.repeat(len(order) * columns, 1)
        for row, index in enumerate(order):
            latents[row * columns : (row + 1) * columns, index] = values
        decoded = self.decode(latents).split(columns)
        return [(names[index] + ("*" if kl[index] < INACTIVE_KL else ""), rows) for index, rows in zip(order, decoded)]

    @torch.no_grad()
    def extra_images(self, dataset: object, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """``{"Reconstructions": [64, C, H, W]}``: 32 data images, each followed by its
        reconstruction from the encoder mean (pairs side by side in an 8-column grid)."""
        if dataset is None:
            return {}
        images, _ = dataset.sample(32, generator=self.data_generator(generator))
        reconstructions = self.decode(self.encode(images)[0]).cpu()
        return {"Reconstructions": torch.stack([images.float().cpu(), reconstructions], dim=1).flatten(0, 1)}


class BetaVAESystem(VAESystem):
    """beta-VAE."""

    def make_objective(self, model: BetaVAEConfig, device: torch.device) -> VAEObjective:  # type: ignore[override]
        return BetaVAEObjective(self.networks["encoder"], self.networks["decoder"], model.beta)


class AnnealedVAESystem(VAESystem):
    """AnnealedVAE."""

    def make_objective(self, model: AnnealedVAEConfig, device: torch.device) -> VAEObjective:  # type: ignore[override]
        return AnnealedVAEObjective(
            self.networks["encoder"], self.networks["decoder"], model.gamma, model.c_max, model.iteration_threshold
        )


class BetaTCVAESystem(VAESystem):
    """beta-TCVAE."""

    def make_objective(self, model: BetaTCVAEConfig, device: torch.device) -> VAEObjective:  # type: ignore[override]
        return BetaTCVAEObjective(self.networks["encoder"], self.networks["decoder"], model.beta)


class DIPVAEISystem(VAESystem):
    """DIP-VAE-I."""

    def make_objective(self, model: DIPVAEIConfig, device: torch.device) -> VAEObjective:  # type: ignore[override]
        return DIPVAEIObjective(self.networks["encoder"], self.networks["decoder"], model.lambda_od, model.lambda_d_factor)


class DIPVAEIISystem(VAESystem):
    """DIP-VAE-II."""

    def make_objective(self, model: DIPVAEIIConfig, device: torch.device) -> VAEObjective:  # type: ignore[override]
        return DIPVAEIIObjective(self.networks["encoder"], self.networks["decoder"], model.lambda_od, model.lambda_d_factor)


class FactorVAESystem(VAESystem):
    """FactorVAE: adds the discriminator, its Adam (``optim.lr_d``, the model's discriminator
    betas) and the phase ``D`` after ``VAE``."""

    def make_objective(self, model: FactorVAEConfig, device: torch.device) -> VAEObjective:  # type: ignore[override]
        discriminator = FactorDiscriminator(model.num_latents).to(device)
        self.networks["discriminator"] = discriminator
        betas = (model.discriminator_beta1, model.discriminator_beta2)
        self.optimizers["D"] = self.adam(list(discriminator.parameters()), self.config.optim.lr_d, betas, self.config)
        self.phases.append(Phase("D", "D"))
        return FactorVAEObjective(self.networks["encoder"], self.networks["decoder"], discriminator, model.gamma)


# ---------------------------------------------------------------------- recipes
QUICK_LR = 5e-4
"""Adam learning rate of the quick preset (the VAE and FactorVAE's discriminator)."""

QUICK_ANNEAL_STEPS = 2_000
"""AnnealedVAE's ``iteration_threshold`` in the quick preset."""


class VAERecipe:
    """``--model NAME`` for one VAE objective: its config class, presets and system."""

    family = "vae"
    presets = ("quick", "paper")

    def __init__(self, name: str, config_class: type[VAEConfig], system_class: type[VAESystem]) -> None:
        self.name = name
        self.config_class = config_class
        self.system_class = system_class

    def default_config(self, preset: str, dataset_name: str) -> RunConfig:
        """The ``quick`` or ``paper`` preset on ``dataset_name`` (see the module docstring)."""
        if preset not in self.presets:
            raise ConfigError(f"unknown preset {preset!r} for {self.name}; available: {', '.join(self.presets)}")
        model = self.config_class()
        if preset == "paper":
            optim = OptimConfig(lr_g=1e-4, lr_d=1e-4, beta1=0.9, beta2=0.999, eps=1e-8)
            train = TrainConfig(steps=300_000, batch_size=64, ema_beta=0.0, log_every=500, sample_every=10_000, checkpoint_every=10_000)
        else:
            optim = OptimConfig(lr_g=QUICK_LR, lr_d=QUICK_LR, beta1=0.9, beta2=0.999, eps=1e-8)
            train = TrainConfig(steps=6_000, batch_size=64, ema_beta=0.0, log_every=100, sample_every=1000,
                                checkpoint_every=1000, time_budget_min=10.0)
            if isinstance(model, AnnealedVAEConfig):
                model.iteration_threshold = QUICK_ANNEAL_STEPS
        return RunConfig(model=model, data=DataConfig(name=dataset_name), train=train, optim=optim, preset=preset)

    def build(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> VAESystem:
        """The training system on ``device`` for images of ``image_shape`` (C, 64, 64)."""
        return self.system_class(config, image_shape, device)


for _name, _config_class, _system_class in (
    ("beta-vae", BetaVAEConfig, BetaVAESystem),
    ("annealed-vae", AnnealedVAEConfig, AnnealedVAESystem),
    ("factor-vae", FactorVAEConfig, FactorVAESystem),
    ("beta-tcvae", BetaTCVAEConfig, BetaTCVAESystem),
    ("dip-vae-i", DIPVAEIConfig, DIPVAEISystem),
    ("dip-vae-ii", DIPVAEIIConfig, DIPVAEIISystem),
):
    register_model(_name, VAERecipe(_name, _config_class, _system_class))
