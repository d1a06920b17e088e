"""The mapping network ``z (+ codes) -> w`` and the running average of ``w`` used by truncation."""

from __future__ import annotations

import torch
from torch import nn

from .layers import EqualLinear, normalize_2nd_moment


class MappingNetwork(nn.Module):
    """An MLP with equalized learning rate from the normalized noise (and codes) to ``w``.

    Args:
        z_dim: noise dimensions (normalized to unit second moment first).
        code_dim: code dimensions concatenated to the normalized noise (``z-concat``; else 0).
        w_dim: width of ``w`` (and of every hidden layer).
        num_layers: depth (configurable; 8 in StyleGAN, 2 for small data).
        lr_mul: learning-rate multiplier of its layers (0.01 in StyleGAN).
        w_avg_beta: decay of the running average of ``w`` updated by training forwards.

    ``forward(z [n, z_dim], codes [n, code_dim] | None, update_w_avg) -> w [n, w_dim]``.
    """

    def __init__(self, z_dim: int, code_dim: int, w_dim: int, num_layers: int, lr_mul: float = 0.01, w_avg_beta: float = 0.995) -> None:
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"the mapping network needs at least one layer, got {num_layers}")
        self.z_dim, self.code_dim, self.w_dim = z_dim, code_dim, w_dim
        widths = [z_dim + code_dim] + [w_dim] * num_layers
        self.layers = nn.ModuleList(
            [EqualLinear(widths[i], widths[i + 1], lr_mul=lr_mul, activation=True) for i in range(num_layers)]
        )
        self.w_avg_beta = w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def forward(self, z: torch.Tensor, codes: torch.Tensor | None = None, update_w_avg: bool = False) -> torch.Tensor:
        x = normalize_2nd_moment(z)
        if self.code_dim:
            if codes is None:
                raise ValueError("this mapping network takes codes (z-concat injection)")
            x = torch.cat([x, codes.to(x.dtype)], dim=1)
        for layer in self.layers:
            x = layer(x)
        if update_w_avg:
            with torch.no_grad():
                self.w_avg.copy_(self.w_avg.lerp(x.detach().float().mean(dim=0), 1.0 - self.w_avg_beta))
        return x
