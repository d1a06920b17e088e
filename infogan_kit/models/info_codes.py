"""The InfoGAN codes of a generator, as one component shared by every InfoGAN-family model.

InfoGAN, InfoGAN-CR and ``stylegan-info`` all feed a generator codes plus noise
(:class:`~infogan_kit.models.latent.LatentSpec`), read the codes back with a Q head on the
discriminator's trunk, and train Q and G with the same mutual-information loss. This module
holds all of that once:

* :class:`InfoCodesConfig`: the config fields (``model.latent``, ``model.lambda_cont``,
  ``model.lambda_cat``, ``model.learned_variance``, ``model.noise_std``) and their validation;
* :class:`InfoCodes`: the parsed spec, Q's output width, sampling, the MI loss, the
  representation read from Q's output, and the latents of traversal rows and of chosen code
  values (model selection).

It needs no training code: the MI terms' formulas (:mod:`~infogan_kit.objectives.mutual_info`)
are imported only when a loss is computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

from ..config import ModelConfig
from ..errors import ConfigError
from .latent import Latents, LatentSpec, check_noise_std


@dataclass
class InfoCodesConfig(ModelConfig):
    """Settings of the InfoGAN codes (shared by infogan, infogan-cr and stylegan-info).

    Attributes:
        latent: latent specification (``cont5+noise5``; ``auto``: cont5+noise5 for 64x64
            data, cat10+cont2+noise62 for 28x28 data).
        lambda_cont: weight of the continuous-code MI term.
        lambda_cat: weight of the categorical-code MI term.
        learned_variance: Q predicts a log-variance per continuous code (else sigma = 1).
        noise_std: standard deviation of the generator's Gaussian noise dimensions (1: the
            usual ``N(0, 1)``; the continuous codes, ``U(-1, 1)``, have 0.577).
    """

    latent: str = "auto"
    lambda_cont: float = 0.05
    lambda_cat: float = 1.0
    learned_variance: bool = False
    noise_std: float = 1.0

    def validate(self) -> None:
        """Raise ConfigError for an invalid code field."""
        if self.latent != "auto":
            LatentSpec(self.latent)
        check_noise_std(self.noise_std, "model.noise_std")
        if self.lambda_cont < 0 or self.lambda_cat < 0:
            raise ConfigError("model.lambda_cont and model.lambda_cat must be >= 0")

    def latent_spec(self, image_shape: tuple[int, int, int]) -> LatentSpec:
        """The parsed latent spec, resolving ``auto`` by image size."""
        if self.latent != "auto":
            return LatentSpec(self.latent, self.noise_std)
        return LatentSpec("cat10+cont2+noise62" if image_shape[1:] == (28, 28) else "cont5+noise5", self.noise_std)


@dataclass
class MILoss:
    """The weighted MI loss of one batch and its parts (fp32 scalars; None where a kind of code is absent).

    Attributes:
        total: ``lambda_cat * NLL_cat + lambda_cont * NLL_cont`` (what is minimized).
        nll_cat: weighted categorical NLL summed over codes.
        mi_cat: the categorical lower bound ``H(c) - NLL`` (unweighted).
        nll_cont: weighted Gaussian NLL summed over codes.
    """

    total: torch.Tensor
    nll_cat: torch.Tensor | None = None
    mi_cat: torch.Tensor | None = None
    nll_cont: torch.Tensor | None = None


class InfoCodes:
    """The codes of an InfoGAN-family generator (see the module docstring).

    Args:
        spec: the latent specification.
        lambda_cont: weight of the continuous-code NLL.
        lambda_cat: weight of the categorical-code NLL.
        learned_variance: Q predicts log-variances of continuous codes.
    """

    def __init__(self, spec: LatentSpec, lambda_cont: float, lambda_cat: float, learned_variance: bool) -> None:
        self.spec = spec
        self.lambda_cont = lambda_cont
        self.lambda_cat = lambda_cat
        self.learned_variance = learned_variance
        self._cont_weights: torch.Tensor | None = None

    @classmethod
    def from_config(cls, config: InfoCodesConfig, image_shape: tuple[int, int, int]) -> "InfoCodes":
        """The codes of ``config`` for images of ``image_shape``."""
        return cls(config.latent_spec(image_shape), config.lambda_cont, config.lambda_cat, config.learned_variance)

    # ------------------------------------------------------------------ shapes and names
    @property
    def q_output_dim(self) -> int:
        """Width of Q's output (logits, means and, with a learned variance, log-variances)."""
        return self.spec.q_output_dim(self.learned_variance)

    @property
    def input_dim(self) -> int:
        """Width of the generator input."""
        return self.spec.input_dim

    def names(self) -> list[str]:
        """Names of the regularized codes (categorical first, then continuous)."""
        return [code.name for code in self.spec.regularized]

    # ------------------------------------------------------------------ sampling
    def sample(self, count: int, rng: torch.Generator | None, device: torch.device | str | None = None) -> Latents:
        """``count`` latents from the priors, drawn by ``rng`` (returned on ``device``)."""
        return self.spec.sample(count, rng, device)

    def to_input(self, latents: Latents) -> torch.Tensor:
        """Generator input ``[n, input_dim]`` of ``latents``."""
        return self.spec.to_input(latents)

    # ------------------------------------------------------------------ the MI loss
    def mi_loss(self, q_params: torch.Tensor, latents: Latents, lambda_cont: float | None = None,
                lambda_cat: float | None = None) -> MILoss:
        """Weighted MI loss of Q's output ``[n, q_output_dim]`` for the latents that made the images.

        ``lambda_cont`` / ``lambda_cat`` default to the codes' weights; each code is weighted by
        its latent-spec weight.
        """
        from ..objectives.mutual_info import categorical_entropy, categorical_nll, gaussian_nll

        lambda_cont = self.lambda_cont if lambda_cont is None else lambda_cont
        lambda_cat = self.lambda_cat if lambda_cat is None else lambda_cat
        logits, means, logvars = self.spec.split_q(q_params.float(), self.learned_variance)
        result = MILoss(q_params.new_zeros((), dtype=torch.float32))
        if logits:
            nlls = [categorical_nll(l, latents.codes_cat[:, i]).mean() for i, l in enumerate(logits)]
            result.nll_cat = torch.stack([w * nll for nll, w in zip(nlls, self.spec.cat_weights)]).sum()
            result.mi_cat = sum(categorical_entropy(k) for k in self.spec.cat_sizes) - sum(nlls)
            result.total = result.total + lambda_cat * result.nll_cat
        if self.spec.num_cont:
            if self._cont_weights is None or self._cont_weights.device != means.device:
                self._cont_weights = self.spec.cont_weights.to(means.device)
            result.nll_cont = (gaussian_nll(means, latents.codes_cont, logvars).mean(0) * self._cont_weights).sum()
            result.total = result.total + lambda_cont * result.nll_cont
        return result

    # ------------------------------------------------------------------ inference
    def represent(self, q_params: torch.Tensor) -> torch.Tensor:
        """Q's output ``[n, q_output_dim]`` -> codes ``[n, num_codes]`` float: the argmax class of each
        categorical code, Q's mean of each continuous one."""
        logits, means, _ = self.spec.split_q(q_params.float(), self.learned_variance)
        return torch.cat([l.argmax(1, keepdim=True).float() for l in logits] + [means], 1)

    def latents_from_codes(self, values: torch.Tensor, rng: torch.Generator, device: torch.device) -> Latents:
        """Latents whose codes are ``values [n, num_codes]`` (class indices, then continuous
        values) and whose noise ``rng`` draws."""
        num_cat = len(self.spec.cat_sizes)
        draw = self.sample(len(values), rng, device)
        values = values.to(device)
        return Latents(values[:, :num_cat].long(), values[:, num_cat:].float(), draw.noise)

    def traversal_latents(self, codes: Sequence[str] | None, columns: int, value_range: tuple[float, float],
                          rng: torch.Generator, device: torch.device) -> list[tuple[str, Latents]]:
        """One row per code (``codes`` or every code): ``(name, latents)`` that sweep that code over
        ``value_range`` in ``columns`` steps (a categorical code over its classes), everything
        else fixed at one draw of ``rng``.

        Raises:
            ConfigError: an unknown code name (the message lists the model's codes).
        """
        names = self.names()
        chosen = list(codes or names)
        unknown = [code for code in chosen if code not in names]
        if unknown:
            raise ConfigError(f"unknown code(s) {', '.join(unknown)}; this model's codes are {', '.join(names)}")
        base = self.sample(1, rng, device)
        cat_names = [c.name for c in self.spec.regularized if c.kind == "categorical"]
        cont_names = [c.name for c in self.spec.regularized if c.kind == "continuous"]
        rows = []
        for name in chosen:
            if name in cat_names:
                values = torch.arange(self.spec.cat_sizes[cat_names.index(name)], device=device)
            else:
                values = torch.linspace(value_range[0], value_range[1], columns, device=device)
            count = len(values)
            cats, conts, noise = base.codes_cat.repeat(count, 1), base.codes_cont.repeat(count, 1), base.noise.repeat(count, 1)
            if name in cat_names:
                cats[:, cat_names.index(name)] = values
            else:
                conts[:, cont_names.index(name)] = values
            rows.append((name, Latents(cats, conts, noise)))
        return rows
