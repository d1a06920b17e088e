"""Latent specification of InfoGAN-family generators, written as a string.

``"cont5+noise5"`` = five continuous codes and five noise dimensions;
``"cat10+cont2+noise62"`` = one 10-way categorical code, two continuous codes, 62 noise dims.
A term may carry an MI weight after ``@`` (default 1.0), multiplied by the model's lambda:
``"cat10@1+cont2@0.5+noise62"``. Several ``catK`` terms make several categorical codes.

Priors: categorical codes are uniform over their classes; continuous codes are
``Uniform(-1, 1)``; noise is ``N(0, noise_std^2)`` (``noise_std`` 1 by default). Codes are named ``cat1, cat2, ...`` and
``c1, c2, ...`` (the names traversal grids and logs use).

The generator input is ``[one-hot categorical codes, continuous codes, noise]``; the Q head
outputs ``[categorical logits, continuous means, (continuous log-variances)]``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

from ..errors import ConfigError

_TERM = re.compile(r"^(cat|cont|noise)(\d+)(?:@([0-9.eE+-]+))?$")


@dataclass(frozen=True)
class Code:
    """One latent code.

    Attributes:
        name: ``cat1``..., ``c1``... (``z`` for the noise block).
        kind: ``categorical``, ``continuous`` or ``noise``.
        size: classes of a categorical code; 1 for a continuous code; dims of the noise block.
        weight: relative MI weight (noise: 0).
    """

    name: str
    kind: str
    size: int
    weight: float


@dataclass
class Latents:
    """A batch of latent draws.

    Attributes:
        codes_cat: LongTensor ``[n, num_cat]`` of class indices.
        codes_cont: FloatTensor ``[n, num_cont]`` in [-1, 1].
        noise: FloatTensor ``[n, noise_dim]``.
    """

    codes_cat: torch.Tensor
    codes_cont: torch.Tensor
    noise: torch.Tensor

    def __len__(self) -> int:
        return self.noise.shape[0]


def check_noise_std(noise_std: float, name: str = "the noise standard deviation") -> float:
    """``noise_std`` as a float if it is a finite positive number, else :class:`ConfigError` naming ``name``."""
    if not (math.isfinite(noise_std) and noise_std > 0):
        raise ConfigError(f"{name} must be a positive number, got {noise_std}")
    return float(noise_std)


class LatentSpec:
    """Parsed latent specification; see the module docstring for the syntax.

    Args:
        text: the specification, e.g. ``"cont5+noise5"``.
        noise_std: standard deviation of the Gaussian noise dimensions (> 0).
    """

    def __init__(self, text: str, noise_std: float = 1.0) -> None:
        self.noise_std = check_noise_std(noise_std)
        self.text = text.replace(" ", "")
        self.codes: list[Code] = []
        noise_dim = 0
        if not self.text:
            raise ConfigError("empty latent specification")
        for term in self.text.split("+"):
            match = _TERM.match(term)
            if not match:
                raise ConfigError(
                    f"invalid latent term {term!r} in {text!r}; expected e.g. cat10, cont5, noise62 or cont2@0.5"
                )
            kind, count, weight_text = match.group(1), int(match.group(2)), match.group(3)
            weight = float(weight_text) if weight_text else 1.0
            if count <= 0 or weight < 0 or not math.isfinite(weight):
                raise ConfigError(f"latent term {term!r} needs a positive size and a finite weight >= 0")
            if kind == "cat":
                if count < 2:
                    raise ConfigError(f"a categorical code needs >= 2 classes, got {term!r}")
                self.codes.append(Code(f"cat{len(self.cat_sizes) + 1}", "categorical", count, weight))
            elif kind == "cont":
                for _ in range(count):
                    self.codes.append(Code(f"c{self.num_cont + 1}", "continuous", 1, weight))
            else:
                if weight_text:
                    raise ConfigError("noise terms take no MI weight")
                noise_dim += count
        self.noise_dim = noise_dim
        if not self.regularized:
            raise ConfigError(f"latent {text!r} has no categorical or continuous code to regularize")

    # ------------------------------------------------------------------ structure
    @property
    def regularized(self) -> list[Code]:
        """The codes with an MI term: categorical ones first, then continuous ones."""
        return [c for c in self.codes if c.kind == "categorical"] + [c for c in self.codes if c.kind == "continuous"]

    @property
    def cat_sizes(self) -> list[int]:
        """Classes of each categorical code."""
        return [c.size for c in self.codes if c.kind == "categorical"]

    @property
    def num_cont(self) -> int:
        """Number of continuous codes."""
        return sum(1 for c in self.codes if c.kind == "continuous")

    @property
    def input_dim(self) -> int:
        """Width of the generator input: one-hot categorical + continuous + noise."""
        return sum(self.cat_sizes) + self.num_cont + self.noise_dim

    def q_output_dim(self, learned_variance: bool) -> int:
        """Width of the Q head output: logits + means (+ log-variances)."""
        return sum(self.cat_sizes) + self.num_cont * (2 if learned_variance else 1)

    @property
    def cont_weights(self) -> torch.Tensor:
        """Relative MI weights of the continuous codes ``[num_cont]``."""
        return torch.tensor([c.weight for c in self.codes if c.kind == "continuous"])

    @property
    def cat_weights(self) -> list[float]:
        """Relative MI weights of the categorical codes."""
        return [c.weight for c in self.codes if c.kind == "categorical"]

    # ------------------------------------------------------------------ sampling
    def sample(self, n: int, generator: torch.Generator | None = None, device: torch.device | str | None = None) -> Latents:
        """Draw ``n`` latents from the priors (on the generator's device, returned on ``device``)."""
        draw = generator.device if generator is not None else torch.device(device or "cpu")
        cats = [torch.randint(0, k, (n,), generator=generator, device=draw) for k in self.cat_sizes]
        codes_cat = torch.stack(cats, 1) if cats else torch.zeros(n, 0, dtype=torch.long, device=draw)
        codes_cont = torch.rand(n, self.num_cont, generator=generator, device=draw) * 2 - 1
        noise = torch.randn(n, self.noise_dim, generator=generator, device=draw)
        if self.noise_std != 1.0:
            noise = noise * self.noise_std
        target = torch.device(device) if device is not None else draw
        return Latents(codes_cat.to(target), codes_cont.to(target), noise.to(target))

    def to_input(self, latents: Latents) -> torch.Tensor:
        """Generator input ``[n, input_dim]``: one-hot categorical codes, continuous codes, noise."""
        parts = [
            torch.nn.functional.one_hot(latents.codes_cat[:, i], k).to(latents.noise.dtype)
            for i, k in enumerate(self.cat_sizes)
        ]
        return torch.cat(parts + [latents.codes_cont, latents.noise], dim=1)

    def split_q(self, q_params: torch.Tensor, learned_variance: bool) -> tuple[list[torch.Tensor], torch.Tensor, torch.Tensor | None]:
        """Split Q's output ``[n, q_output_dim]`` into (logits per categorical code, means
        ``[n, num_cont]``, log-variances ``[n, num_cont]`` or None)."""
        logits, offset = [], 0
        for k in self.cat_sizes:
            logits.append(q_params[:, offset : offset + k])
            offset += k
        means = q_params[:, offset : offset + self.num_cont]
        logvars = q_params[:, offset + self.num_cont : offset + 2 * self.num_cont] if learned_variance else None
        return logits, means, logvars

    def __repr__(self) -> str:
        return f"LatentSpec({self.text!r})"
