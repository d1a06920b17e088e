"""The inference side every InfoGAN-family model shares: a generator G fed InfoGAN codes and a
discriminator D whose Q head reads them back (``infogan``, ``infogan-cr``, ``stylegan-info``)."""

from __future__ import annotations

from typing import Any

import torch

from ..models.info_codes import InfoCodes, InfoCodesConfig
from ..models.latent import Latents
from ..config import RunConfig
from .base import Model


class InfoCodesModel(Model):
    """A model with networks ``G`` and ``D`` (with a Q head) and :class:`InfoCodes`.

    Representation: one dimension per regularized code, the argmax class of a categorical code
    and Q's mean of a continuous one (EMA D). Traversals sweep one code of one latent draw.

    Attributes:
        codes: the InfoGAN codes (spec, MI loss, Q read-out).
    """

    family = "gan"

    def __init__(self, config: RunConfig, image_shape: tuple[int, int, int], device: torch.device) -> None:
        model_config: InfoCodesConfig = config.model  # type: ignore[assignment]
        self.codes = InfoCodes.from_config(model_config, tuple(image_shape))
        super().__init__(config, image_shape, device)

    def ema_names(self) -> tuple[str, ...]:
        """G (sampling) and D (its Q head represents)."""
        return ("G", "D")

    def render(self, latents: Latents) -> torch.Tensor:
        """Images ``[n, C, H, W]`` of ``latents`` from the EMA G (fp32)."""
        return self.inference_network("G")(self.codes.to_input(latents)).float()

    # ------------------------------------------------------------------ inference contract
    def code_names(self) -> list[str]:
        return self.codes.names()

    def code_sizes(self) -> list[int | None]:
        """The classes of each categorical code, then None per continuous code."""
        return list(self.codes.spec.cat_sizes) + [None] * self.codes.spec.num_cont

    @torch.no_grad()
    def represent(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[n, C, H, W]`` -> ``[n, num_codes]`` float (EMA Q)."""
        return self.codes.represent(self.inference_network("D").q_params(images.to(self.device)))

    @torch.no_grad()
    def generate(self, num_images: int, rng: torch.Generator) -> torch.Tensor:
        return self.render(self.codes.sample(num_images, rng, self.device))

    @torch.no_grad()
    def render_codes(self, values: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        return self.render(self.codes.latents_from_codes(values, rng, self.device)).clamp(0, 1)

    @torch.no_grad()
    def traversal_rows(self, codes: list[str] | None, columns: int, value_range: tuple[float, float],
                       rng: torch.Generator, dataset: Any = None) -> list[tuple[str, torch.Tensor]]:
        rows = self.codes.traversal_latents(codes, columns, value_range, rng, self.device)
        return [(name, self.render(latents)) for name, latents in rows]
