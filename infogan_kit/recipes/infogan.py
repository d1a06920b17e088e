"""InfoGAN: config, presets and the training system (networks, optimizers, phases).

Presets:

* ``quick``: CPU-friendly, about 15 minutes on a 2-core machine for dSprites;
* ``paper``: the published settings (batch 64, Adam beta1 0.5, G lr 1e-3, D lr 2e-3,
  lambda 0.05 on dSprites as in InfoGAN-CR's baseline; 28x28 data: the InfoGAN MNIST setup,
  lambda_cat 1, lambda_cont 0.1, G lr 1e-3, D lr 2e-4).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..config import ConfigError, DataConfig, ModelConfig, OptimConfig, RunConfig, TrainConfig
from ..models.infogan_nets import ARCHITECTURES, Discriminator, Generator, architecture_for
from ..models.latent import Latents, LatentSpec, check_noise_std
from ..objectives.infogan import InfoGANObjective
from ..training.system import Phase, TrainingSystem
from . import register_model


@dataclass
class InfoGANConfig(ModelConfig):
    """InfoGAN model settings.

    Attributes:
        latent: latent specification (``cont5+noise5``; ``auto``: cont5+noise5 for 64x64
            data, cat10+cont2+noise62 for 28x28 data).
        arch: ``auto`` (by image size), ``dsprites`` or ``mnist``.
        lambda_cont: weight of the continuous-code MI term.
        lambda_cat: weight of the categorical-code MI term.
        learned_variance: Q predicts a log-variance per continuous code (else sigma = 1).
        noise_std: standard deviation of the generator's Gaussian noise dimensions (1: the
            usual ``N(0, 1)``; the continuous codes, ``U(-1, 1)``, have 0.577).
        info_in_d: weight of the MI loss in the D phase. 0 (default, the InfoGAN convention):
            Q's head is optimized with G and the trunk by the GAN loss alone. > 0 (the
            InfoGAN-CR reference's ``info_coe_infod``): Q's head joins D's optimizer and the
            MI loss also trains the shared trunk.
    """

    name: str = "infogan"
    latent: str = "auto"
    arch: str = "auto"
    lambda_cont: float = 0.05
    lambda_cat: float = 1.0
    learned_variance: bool = False
    info_in_d: float = 0.0
    noise_std: float = 1.0

    def validate(self) -> None:
        if self.arch not in ("auto",) + ARCHITECTURES:
            raise ConfigError(f"model.arch must be auto, dsprites or mnist, got {self.arch!r}")
        if self.latent != "auto":
            LatentSpec(self.latent)
        check_noise_std(self.noise_std, "model.noise_std")
        if self.lambda_cont < 0 or self.lambda_cat < 0 or self.info_in_d < 0:
            raise ConfigError("model.lambda_cont, model.lambda_cat and model.info_in_d must be >= 0")

    def latent_spec(self, image_shape: tuple[int, int, int]) -> LatentSpec:
        """The parsed latent spec, resolving ``auto`` by image size."""
        if self.latent != "auto":
            return LatentSpec(self.latent, self.noise_std)
        return LatentSpec("cat10+cont2+noise62" if image_shape[1:] == (28, 28) else "cont5+noise5", self.noise_std)


class InfoGANSystem(TrainingSystem):
    """G, D (trunk + real/fake head + Q head), their EMAs, Adam optimizers, phases D then G."""

    family = "gan"

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> None:
        super().__init__()
        model: InfoGANConfig = config.model  # type: ignore[assignment]
        self.config = config
        self.latent = model.latent_spec(image_shape)
        self.learned_variance = model.learned_variance
        arch = architecture_for(image_shape, model.arch)
        generator = Generator(self.latent.input_dim, image_shape, arch).to(device)
        discriminator = Discriminator(image_shape, self.latent.q_output_dim(model.learned_variance), arch).to(device)
        if config.train.channels_last:
            generator = generator.to(memory_format=torch.channels_last)
            discriminator = discriminator.to(memory_format=torch.channels_last)
        self.networks = {"G": generator, "D": discriminator}
        self.make_ema("G", "D")
        q_with_d = model.info_in_d > 0
        g_params = list(generator.parameters()) + ([] if q_with_d else discriminator.q_head_parameters())
        d_params = discriminator.d_parameters() + (discriminator.q_head_parameters() if q_with_d else [])
        self.optimizers = {
            "G": self.adam(g_params, config.optim.lr_g, config, device),
            "D": self.adam(d_params, config.optim.lr_d, config, device),
        }
        self.phases = [Phase("D", "D"), Phase("G", "G")]
        self.objective = InfoGANObjective(
            generator, discriminator, self.latent, model.lambda_cont, model.lambda_cat, model.learned_variance, model.info_in_d
        )

    @staticmethod
    def adam(params: list[torch.nn.Parameter], lr: float, config: RunConfig, device: torch.device) -> torch.optim.Adam:
        """Adam with the run's betas; fused kernels where available (CPU and CUDA)."""
        return torch.optim.Adam(params, lr=lr, betas=(config.optim.beta1, config.optim.beta2), eps=config.optim.eps, fused=True)

    # ------------------------------------------------------------------ inference
    def code_names(self) -> list[str]:
        return [code.name for code in self.latent.regularized]

    @torch.no_grad()
    def represent(self, images: torch.Tensor) -> torch.Tensor:
        """One dimension per regularized code: argmax class of a categorical code, Q's mean of a
        continuous one (EMA Q). Images ``[n, C, H, W]`` -> ``[n, num_codes]`` float."""
        discriminator = self.inference_network("D")
        q_params = discriminator.q_params(images.to(self.device)).float()
        logits, means, _ = self.latent.split_q(q_params, self.learned_variance)
        columns = [l.argmax(1, keepdim=True).float() for l in logits] + [means]
        return torch.cat(columns, 1)

    @torch.no_grad()
    def generate(self, num_images: int, generator: torch.Generator) -> torch.Tensor:
        latents = self.latent.sample(num_images, generator, self.device)
        return self.inference_network("G")(self.latent.to_input(latents)).float()

    @torch.no_grad()
    def traversal_rows(
        self,
        codes: list[str] | None,
        columns: int,
        value_range: tuple[float, float],
        generator: torch.Generator,
        dataset: object = None,
    ) -> list[tuple[str, torch.Tensor]]:
        names = self.code_names()
        chosen = codes or names
        unknown = [c for c in chosen if c not in names]
        if unknown:
            raise ConfigError(f"unknown code(s) {', '.join(unknown)}; this model's codes are {', '.join(names)}")
        base = self.latent.sample(1, generator, self.device)
        rows = []
        cat_names = [c.name for c in self.latent.regularized if c.kind == "categorical"]
        cont_names = [c.name for c in self.latent.regularized if c.kind == "continuous"]
        for name in chosen:
            if name in cat_names:
                index = cat_names.index(name)
                values = torch.arange(self.latent.cat_sizes[index], device=self.device)
            else:
                values = torch.linspace(value_range[0], value_range[1], columns, device=self.device)
            count = len(values)
            cats = base.codes_cat.repeat(count, 1)
            conts = base.codes_cont.repeat(count, 1)
            noise = base.noise.repeat(count, 1)
            if name in cat_names:
                cats[:, cat_names.index(name)] = values
            else:
                conts[:, cont_names.index(name)] = values
            images = self.inference_network("G")(self.latent.to_input(Latents(cats, conts, noise))).float()
            rows.append((name, images))
        return rows


@register_model("infogan")
class InfoGANRecipe:
    """``--model infogan``: InfoGAN with the InfoGAN-CR dSprites networks or the MNIST ones."""

    name = "infogan"
    family = "gan"
    config_class = InfoGANConfig
    presets = ("quick", "paper")

    def default_config(self, preset: str, dataset_name: str) -> RunConfig:
        if preset not in self.presets:
            raise ConfigError(f"unknown preset {preset!r} for {self.name}; available: {', '.join(self.presets)}")
        small_images = dataset_name in ("mnist", "fashion_mnist")
        model = InfoGANConfig(lambda_cont=0.1 if small_images else 0.05)
        optim = OptimConfig(lr_g=1e-3, lr_d=2e-4 if small_images else 2e-3, beta1=0.5, beta2=0.999)
        if preset == "paper":
            train = TrainConfig(steps=322_560 if not small_images else 50_000, batch_size=64, log_every=500, sample_every=5000, checkpoint_every=5000)
        else:
            train = TrainConfig(steps=6000, batch_size=64, log_every=100, sample_every=1000, checkpoint_every=1000, time_budget_min=15.0)
        return RunConfig(model=model, data=DataConfig(name=dataset_name), train=train, optim=optim, preset=preset)

    def build(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> InfoGANSystem:
        return InfoGANSystem(config, image_shape, device)
