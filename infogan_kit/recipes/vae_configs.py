"""Configs of the VAE baselines (``--model beta-vae``, ``annealed-vae``, ``factor-vae``,
``beta-tcvae``, ``dip-vae-i``, ``dip-vae-ii``); the models are in :mod:`infogan_kit.recipes.vae`.

Defaults are a point of disentanglement_lib's study grid (``docs/training.md``): beta 4, C_max
25 with gamma 1000, FactorVAE gamma 40, beta-TCVAE beta 6, DIP-VAE lambda_od 10 (lambda_d = 10
lambda_od for I, lambda_od for II).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import ConfigError, ModelConfig


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
