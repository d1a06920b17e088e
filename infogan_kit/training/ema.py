"""Exponential moving average of network weights (in place, foreach kernels)."""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def update_ema(ema_network: nn.Module, network: nn.Module, weight: float | torch.Tensor) -> None:
    """``ema += weight * (live - ema)`` for parameters (``weight = 1 - beta``); buffers are copied.

    Buffers (BatchNorm statistics, spectral-norm vectors) are copied from the live network.
    ``weight`` may be a 0-dim tensor on the device (the loop's: ``(1 - beta)`` times whether the
    step was applied, so a skipped step leaves the EMA bit-equal), then no host value is read
    and the ops are the same at every step.
    """
    ema_params = [p for p in ema_network.parameters()]
    live_params = [p.detach() for p in network.parameters()]
    if ema_params and not isinstance(weight, torch.Tensor):
        torch._foreach_lerp_(ema_params, live_params, float(weight))
    elif ema_params:  # a Tensor lerp weight would be read on the host
        steps = torch._foreach_sub(live_params, ema_params)
        torch._foreach_mul_(steps, weight.to(ema_params[0].dtype))
        torch._foreach_add_(ema_params, steps)
    ema_buffers, buffers = list(ema_network.buffers()), list(network.buffers())
    if ema_buffers:
        torch._foreach_copy_(ema_buffers, buffers)
