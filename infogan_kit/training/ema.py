"""Exponential moving average of network weights (in place, foreach kernels)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def update_ema(ema_network: nn.Module, network: nn.Module, beta: float, apply: torch.Tensor | None = None) -> None:
    """``ema = beta * ema + (1 - beta) * live`` for parameters; buffers are copied.

    Buffers (BatchNorm statistics, spectral-norm vectors) are copied from the live network.
    ``apply`` (a 0-dim bool tensor): when false the parameters' update weight is 0, so the EMA
    stays bit-equal (a skipped step), without a host synchronization.
    """
    ema_params = [p for p in ema_network.parameters()]
    live_params = [p.detach() for p in network.parameters()]
    if ema_params and apply is None:
        torch._foreach_lerp_(ema_params, live_params, 1.0 - beta)
    elif ema_params:  # ema += (live - ema) * weight with a device-side weight (a Tensor lerp weight would sync)
        weight = apply.to(ema_params[0].dtype) * (1.0 - beta)
        steps = torch._foreach_sub(live_params, ema_params)
        torch._foreach_mul_(steps, weight)
        torch._foreach_add_(ema_params, steps)
    ema_buffers, buffers = list(ema_network.buffers()), list(network.buffers())
    if ema_buffers:
        torch._foreach_copy_(ema_buffers, buffers)
