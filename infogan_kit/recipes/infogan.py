"""``--model infogan``: InfoGAN with the InfoGAN-CR dSprites networks or the MNIST ones.

Presets:

* ``quick``: CPU-friendly, about 15 minutes on a 2-core machine for dSprites;
* ``paper``: the published settings (batch 64, Adam beta1 0.5, G lr 1e-3, D lr 2e-3,
  lambda 0.05 on dSprites as in InfoGAN-CR's baseline; 28x28 data: the InfoGAN MNIST setup,
  lambda_cat 1, lambda_cont 0.1, G lr 1e-3, D lr 2e-4).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..config import ConfigError, DataConfig, OptimConfig, RunConfig, TrainConfig
from ..models.info_codes import InfoCodesConfig
from ..models.infogan_nets import ARCHITECTURES, Discriminator, Generator, architecture_for
from . import register_model
from .base import TrainingParts, adam
from .gan import InfoCodesModel

SMALL_IMAGE_DATASETS = ("mnist", "fashion_mnist")
"""Datasets of 28x28 images: the InfoGAN MNIST setup."""


@dataclass
class InfoGANConfig(InfoCodesConfig):
    """InfoGAN model settings (the code fields are :class:`~infogan_kit.models.info_codes.InfoCodesConfig`'s).

    Attributes:
        arch: ``auto`` (by image size), ``dsprites`` or ``mnist``.
        info_in_d: weight of the MI loss in the D phase. 0 (default, the InfoGAN convention):
            Q's head is optimized with G and the trunk by the GAN loss alone. > 0 (the
            InfoGAN-CR reference's ``info_coe_infod``): Q's head joins D's optimizer and the
            MI loss also trains the shared trunk.
    """

    name: str = "infogan"
    arch: str = "auto"
    info_in_d: float = 0.0

    def validate(self) -> None:
        super().validate()
        if self.arch not in ("auto",) + ARCHITECTURES:
            raise ConfigError(f"model.arch must be auto, dsprites or mnist, got {self.arch!r}")
        if self.info_in_d < 0:
            raise ConfigError("model.info_in_d must be >= 0")


def _quick(dataset_name: str) -> RunConfig:
    small_images = dataset_name in SMALL_IMAGE_DATASETS
    model = InfoGANConfig(lambda_cont=0.1 if small_images else 0.05)
    optim = OptimConfig(lr_g=1e-3, lr_d=2e-4 if small_images else 2e-3, beta1=0.5, beta2=0.999)
    train = TrainConfig(steps=6000, batch_size=64, log_every=100, sample_every=1000, checkpoint_every=1000, time_budget_min=15.0)
    return RunConfig(model=model, data=DataConfig(name=dataset_name), train=train, optim=optim)


def _paper(dataset_name: str) -> RunConfig:
    config = _quick(dataset_name)
    small_images = dataset_name in SMALL_IMAGE_DATASETS
    config.train = TrainConfig(steps=50_000 if small_images else 322_560, batch_size=64, log_every=500, sample_every=5000,
                               checkpoint_every=5000)
    return config


@register_model("infogan")
class InfoGAN(InfoCodesModel):
    """G, D (trunk + real/fake head + Q head), their EMAs, Adam optimizers, phases D then G."""

    config_class = InfoGANConfig
    presets = {"quick": _quick, "paper": _paper}

    def build_networks(self) -> dict[str, nn.Module]:
        model_config: InfoGANConfig = self.config.model  # type: ignore[assignment]
        arch = architecture_for(self.image_shape, model_config.arch)
        return {"G": Generator(self.codes.input_dim, self.image_shape, arch),
                "D": Discriminator(self.image_shape, self.codes.q_output_dim, arch)}

    def optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """G's Adam (G, and the Q head unless ``info_in_d > 0``) and D's (trunk, real/fake head)."""
        model_config: InfoGANConfig = self.config.model  # type: ignore[assignment]
        generator, discriminator = self.networks["G"], self.networks["D"]
        q_with_d = model_config.info_in_d > 0
        g_params = list(generator.parameters()) + ([] if q_with_d else discriminator.q_head_parameters())
        d_params = discriminator.d_parameters() + (discriminator.q_head_parameters() if q_with_d else [])
        optim = self.config.optim
        return {"G": adam(g_params, optim.lr_g, optim), "D": adam(d_params, optim.lr_d, optim)}

    def build_training(self) -> TrainingParts:
        from ..objectives.infogan import InfoGANObjective

        model_config: InfoGANConfig = self.config.model  # type: ignore[assignment]
        objective = InfoGANObjective(self.networks["G"], self.networks["D"], self.codes, model_config.info_in_d)
        return TrainingParts(self.optimizers(), objective)
