"""Exponential moving average of network weights (in place, foreach kernels)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def update_ema(ema_network: nn.Module, network: nn.Module, beta: float) -> None:
    """``ema = beta * ema + (1 - beta) * live`` for parameters; buffers are copied.

    Buffers (BatchNorm statistics, spectral-norm vectors) are copied from the live network.
    """
    ema_params = [p for p in ema_network.parameters()]
    live_params = [p.detach() for p in network.parameters()]
    if ema_params:
        torch._foreach_lerp_(ema_params, live_params, 1.0 - beta)
    for ema_buffer, buffer in zip(ema_network.buffers(), network.buffers()):
        ema_buffer.copy_(buffer)
