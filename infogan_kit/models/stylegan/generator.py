"""The style-based generator with InfoGAN codes: injection modes, truncation, style mixing.

Input: the InfoGAN latent vector ``[n, code_dim + z_dim]`` = ``[one-hot categorical codes,
continuous codes, noise]`` (``LatentSpec.to_input``), so the InfoGAN sampling, Q head and
traversal conventions apply unchanged.

Code injection (``injection``):

* ``z-concat``: codes join the normalized noise before the mapping network (as most libraries
  condition StyleGAN); every style layer sees them only through ``w``.
* ``w-space``: codes bypass the mapping network and are appended to ``w`` at every style layer
  (the layer's style is ``A_w(w) + A_c(c)``).
* ``per-layer``: like ``w-space``, but each code reaches only the style layers it is routed to
  (``routing``: a ``[L, code_dim]`` 0/1 matrix; the other layers see that code as 0).

:meth:`StyleGenerator.layer_inputs` returns what each style layer receives (``ws [n, L, w_dim]``
and ``codes [n, L, code_dim]``); :meth:`StyleGenerator.synthesize` renders them. Truncation
(``w_avg + psi (w - w_avg)``) and style mixing act on ``ws`` only, never on the injected codes,
so a mixed or truncated image keeps the codes it was drawn with (the MI target stays defined).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from ..rng import current_rng
from .mapping import MappingNetwork
from .synthesis import SynthesisNetwork

INJECTIONS = ("z-concat", "w-space", "per-layer")


class LayerInputs(NamedTuple):
    """What every style layer receives.

    Attributes:
        ws: ``[n, L, w_dim]`` intermediate latents.
        codes: ``[n, L, code_dim]`` injected codes (zeros where not routed), or None (``z-concat``).
    """

    ws: torch.Tensor
    codes: torch.Tensor | None


class StyleGenerator(nn.Module):
    """Mapping network + synthesis network with a code-injection mode.

    Args:
        code_dim: width of the code part of the input (one-hot categorical + continuous).
        z_dim: noise dimensions (> 0).
        resolution, image_channels: output images ``[n, image_channels, resolution, resolution]``.
        injection: ``z-concat``, ``w-space`` or ``per-layer``.
        routing: ``per-layer`` only: ``[L, code_dim]`` 0/1 tensor, which code column reaches which
            style layer (see :meth:`SynthesisNetwork.layer_names`).
        w_dim, mapping_layers, mapping_lr_mul, w_avg_beta: the mapping network.
        channel_base, channel_max: synthesis widths.
    """

    def __init__(self, code_dim: int, z_dim: int, resolution: int, image_channels: int, injection: str = "w-space",
                 routing: torch.Tensor | None = None, w_dim: int = 512, mapping_layers: int = 8, mapping_lr_mul: float = 0.01,
                 w_avg_beta: float = 0.995, channel_base: int = 16384, channel_max: int = 512) -> None:
        super().__init__()
        if injection not in INJECTIONS:
            raise ValueError(f"injection must be one of {', '.join(INJECTIONS)}, got {injection!r}")
        if z_dim <= 0:
            raise ValueError("the style generator needs noise dimensions (z_dim > 0)")
        self.code_dim, self.z_dim, self.injection = code_dim, z_dim, injection
        self.image_shape = (image_channels, resolution, resolution)
        layer_code_dim = 0 if injection == "z-concat" else code_dim
        self.mapping = MappingNetwork(z_dim, code_dim if injection == "z-concat" else 0, w_dim, mapping_layers, mapping_lr_mul, w_avg_beta)
        self.synthesis = SynthesisNetwork(resolution, image_channels, w_dim, layer_code_dim, channel_base, channel_max)
        self.num_layers = self.synthesis.num_layers
        if injection == "per-layer":
            if routing is None or tuple(routing.shape) != (self.num_layers, code_dim):
                raise ValueError(f"per-layer injection needs a routing matrix of shape ({self.num_layers}, {code_dim})")
            mask = routing.float()
        else:
            mask = torch.ones(self.num_layers, layer_code_dim)
        self.register_buffer("routing", mask)
        self.truncation_psi = 1.0
        """Default truncation of :meth:`forward` (set on the EMA copy used for sampling; training passes 1)."""

    # ------------------------------------------------------------------ pieces
    def split_input(self, latent_input: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``[n, code_dim + z_dim]`` -> (codes ``[n, code_dim]``, noise ``[n, z_dim]``)."""
        return latent_input[:, : self.code_dim], latent_input[:, self.code_dim :]

    def mapped_w(self, latent_input: torch.Tensor, update_w_avg: bool = False) -> torch.Tensor:
        """``w [n, w_dim]`` of a latent input (codes enter here only for ``z-concat``)."""
        codes, z = self.split_input(latent_input)
        return self.mapping(z, codes if self.injection == "z-concat" else None, update_w_avg)

    def layer_inputs(self, latent_input: torch.Tensor, truncation_psi: float = 1.0, mixing_prob: float = 0.0,
                     update_w_avg: bool = False) -> LayerInputs:
        """The inputs of every style layer for ``latent_input [n, code_dim + z_dim]``.

        ``mixing_prob``: with this probability (one draw per batch, on the device, from the generator of
        :func:`~infogan_kit.models.rng.random_source` or torch's default,
        no host synchronization), layers from a random cut-off on take ``w`` of fresh noise with
        the *same* codes (style-mixing regularization). ``truncation_psi < 1`` pulls ``w`` towards its running average.
        """
        n = latent_input.shape[0]
        w = self.mapped_w(latent_input, update_w_avg)
        ws = w.unsqueeze(1).repeat(1, self.num_layers, 1)
        if mixing_prob > 0 and self.num_layers > 1:
            ws = self._mix_styles(latent_input, ws, mixing_prob)
        if truncation_psi != 1.0:
            w_avg = self.mapping.w_avg.to(ws.dtype)
            ws = w_avg.lerp(ws, truncation_psi)
        layer_codes = None
        if self.injection != "z-concat":
            codes = self.split_input(latent_input)[0]
            layer_codes = codes.unsqueeze(1) * self.routing.to(codes.dtype).unsqueeze(0)
            layer_codes = layer_codes.expand(n, -1, -1)
        return LayerInputs(ws, layer_codes)

    def _mix_styles(self, latent_input: torch.Tensor, ws: torch.Tensor, mixing_prob: float) -> torch.Tensor:
        """``ws [n, L, w_dim]`` with the layers from a random cut-off on replaced by ``w`` of new noise."""
        codes, z = self.split_input(latent_input)
        device = ws.device
        rng = current_rng(device)
        noise = torch.randn(z.shape, generator=rng, device=device, dtype=z.dtype)
        other_w = self.mapped_w(torch.cat([codes, noise], dim=1))
        cutoff = torch.randint(1, self.num_layers, (), generator=rng, device=device)
        mixed = torch.rand((), generator=rng, device=device) < mixing_prob
        cutoff = torch.where(mixed, cutoff, torch.full_like(cutoff, self.num_layers))
        take_other = (torch.arange(self.num_layers, device=device) >= cutoff).reshape(1, -1, 1)
        return torch.where(take_other, other_w.unsqueeze(1), ws)

    @staticmethod
    def mix(first: LayerInputs, second: LayerInputs, cutoff: int) -> LayerInputs:
        """Layers ``< cutoff`` from ``first``, the rest from ``second`` (ws and codes alike)."""
        ws = torch.cat([first.ws[:, :cutoff], second.ws[:, cutoff:]], dim=1)
        codes = None if first.codes is None else torch.cat([first.codes[:, :cutoff], second.codes[:, cutoff:]], dim=1)
        return LayerInputs(ws, codes)

    def synthesize(self, inputs: LayerInputs, noise_mode: str = "random",
                   return_features: bool = False) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        """Render layer inputs: images ``[n, C, R, R]`` in about [0, 1] (and block features)."""
        return self.synthesis(inputs.ws, inputs.codes, noise_mode, return_features)

    def styles(self, inputs: LayerInputs) -> list[torch.Tensor]:
        """Style vector of every layer (``L`` tensors ``[n, C_in]``), for inspecting the routing."""
        return self.synthesis.styles(inputs.ws, inputs.codes)

    def layer_names(self) -> list[str]:
        """Readable name of every style layer (``"4x4 conv"`` ... ``"64x64 rgb"``)."""
        return self.synthesis.layer_names()

    # ------------------------------------------------------------------ whole pass
    def forward(self, latent_input: torch.Tensor, truncation_psi: float | None = None, mixing_prob: float = 0.0,
                noise_mode: str | None = None, update_w_avg: bool = False) -> torch.Tensor:
        """``latent_input [n, code_dim + z_dim] -> images [n, C, R, R]``.

        Defaults: ``truncation_psi`` = :attr:`truncation_psi`; ``noise_mode`` = ``random`` in
        training mode, ``const`` in eval mode (deterministic samples).
        """
        psi = self.truncation_psi if truncation_psi is None else truncation_psi
        mode = noise_mode or ("random" if self.training else "const")
        inputs = self.layer_inputs(latent_input, psi, mixing_prob, update_w_avg)
        return self.synthesize(inputs, mode)
