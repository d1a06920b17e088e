"""A user-style model plugin: defined outside the package, registered only where a test asks.

A linear autoencoder on 64x64 images with two continuous codes and one phase. It follows the
same contract as the built-in models (see docs/extending.md), so the model matrix runs it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from infogan_kit.config import DataConfig, ModelConfig, OptimConfig, RunConfig, TrainConfig
from infogan_kit.errors import ConfigError
from infogan_kit.objectives.base import Objective, Phase
from infogan_kit.recipes.base import Model, TrainingParts, adam
from infogan_kit.training.stats import report


@dataclass
class ToyConfig(ModelConfig):
    """Settings of the toy autoencoder.

    Attributes:
        num_codes: width of the code.
    """

    name: str = "toy-autoencoder"
    num_codes: int = 2

    def validate(self) -> None:
        if self.num_codes < 1:
            raise ConfigError("model.num_codes must be >= 1")


def _quick(dataset_name: str) -> RunConfig:
    return RunConfig(model=ToyConfig(), data=DataConfig(name=dataset_name),
                     train=TrainConfig(steps=100, batch_size=16, ema_beta=0.0), optim=OptimConfig(lr_g=1e-3))


class ReconstructionObjective(Objective):
    """One phase ``AE``: mean squared reconstruction error of encoder and decoder."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        self.encoder, self.decoder = encoder, decoder
        super().__init__()

    def declare_phases(self) -> list[Phase]:
        return [Phase("AE", "AE", self.reconstruction_phase)]

    def reconstruction_phase(self, batch: Any, ctx: Any) -> None:
        with ctx.autocast():
            reconstructions = self.decoder(self.encoder(batch.real_images))
        loss = (reconstructions.float() - batch.real_images.flatten(1)).square().mean()
        report("Loss/AE", loss)
        ctx.backward(loss)


class ToyAutoencoder(Model):
    """Linear encoder and decoder; the code is the encoder's output."""

    name = "toy-autoencoder"
    family = "autoencoder"
    config_class = ToyConfig
    presets = {"quick": _quick}

    def build_networks(self) -> dict[str, nn.Module]:
        pixels = int(torch.tensor(self.image_shape).prod())
        codes = self.config.model.num_codes  # type: ignore[attr-defined]
        return {"encoder": nn.Sequential(nn.Flatten(), nn.Linear(pixels, codes)), "decoder": nn.Linear(codes, pixels)}

    def build_training(self) -> TrainingParts:
        params = list(self.networks["encoder"].parameters()) + list(self.networks["decoder"].parameters())
        optimizers = {"AE": adam(params, self.config.optim.lr_g, self.config.optim)}
        return TrainingParts(optimizers, ReconstructionObjective(self.networks["encoder"], self.networks["decoder"]))

    def code_names(self) -> list[str]:
        return [f"a{index + 1}" for index in range(self.config.model.num_codes)]  # type: ignore[attr-defined]

    @torch.no_grad()
    def represent(self, images: torch.Tensor) -> torch.Tensor:
        return self.networks["encoder"](images.to(self.device)).float()

    @torch.no_grad()
    def render_codes(self, values: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        return self.networks["decoder"](values.to(self.device)).clamp(0, 1).view(-1, *self.image_shape)

    def generate(self, num_images: int, rng: torch.Generator) -> torch.Tensor:
        return self.render_codes(torch.rand(num_images, len(self.code_names()), generator=rng, device=rng.device) * 2 - 1, rng)

    def traversal_rows(self, codes: list[str] | None, columns: int, value_range: tuple[float, float],
                       rng: torch.Generator, dataset: Any = None) -> list[tuple[str, torch.Tensor]]:
        names = self.code_names()
        rows = []
        for name in codes or names:
            values = torch.zeros(columns, len(names))
            values[:, names.index(name)] = torch.linspace(value_range[0], value_range[1], columns)
            rows.append((name, self.render_codes(values, rng)))
        return rows
