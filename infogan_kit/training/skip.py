"""Skipping a non-finite step without a trace: buffers restored, optimizer untouched, EMA frozen.

A step whose gradients are not finite (a NaN/Inf in a batch, a loss or a gradient) must leave the
run as it was. The optimizer side is the fused Adam kernel's: given ``found_inf`` (by the
GradScaler in fp16, by :func:`step_unless_non_finite` in fp32/bf16, which need no scaler) it
neither moves the parameters and moments nor counts the step. What a forward
pass changes by itself is restored here: :class:`BufferGuard` snapshots every buffer of the
networks (batch-norm statistics, spectral-norm vectors) before a phase and puts the snapshot back,
on the device and without a host synchronization, when the phase turns out non-finite. The EMA
update of a step with a skipped phase is multiplied by zero (:func:`~infogan_kit.training.ema.update_ema`'s
``apply``). Exception, by design: in fp16 the GradScaler halves its scale on a skipped step.
"""

from __future__ import annotations

import torch
from torch import nn


class BufferGuard:
    """Every buffer of ``networks``, snapshotted per phase and restored where a phase is not finite.

    A snapshot is one foreach copy; a restore is a ``where`` per buffer and one foreach copy.
    (One flat tensor of views would make it three ops, but views share autograd's version
    counter: an in-place buffer update would then invalidate tensors saved for backward.)
    """

    def __init__(self, networks: list[nn.Module]) -> None:
        seen: set[int] = set()
        self.buffers = [b for network in networks for b in network.buffers() if not (id(b) in seen or seen.add(id(b)))]
        self._snapshot: list[torch.Tensor] = []

    def snapshot(self) -> None:
        """Remember the buffers' values (before a phase's forward passes)."""
        self._snapshot = list(torch._foreach_mul(self.buffers, 1)) if self.buffers else []

    @torch.no_grad()
    def restore_unless(self, finite: torch.Tensor) -> None:
        """Put the snapshot back unless ``finite`` (a 0-dim bool tensor on the buffers' device)."""
        if self.buffers:
            kept = [torch.where(finite, buffer, saved) for buffer, saved in zip(self.buffers, self._snapshot)]
            torch._foreach_copy_(self.buffers, kept)
        self._snapshot = []


def step_unless_non_finite(optimizer: torch.optim.Optimizer, finite: torch.Tensor) -> None:
    """``optimizer.step()`` unless ``finite`` (0-dim bool) is false.

    Optimizers with fused kernels that read ``found_inf`` (our Adam) decide on the device, without
    a host synchronization; any other optimizer falls back to reading ``finite`` on the host.
    """
    if getattr(optimizer, "_step_supports_amp_scaling", False):
        optimizer.found_inf = (~finite).to(torch.float32)  # type: ignore[attr-defined]
        try:
            optimizer.step()
        finally:
            del optimizer.found_inf  # type: ignore[attr-defined]
    elif bool(finite):
        optimizer.step()
