"""What the loop hands an objective for one phase: the batch, RNG, precision and backward.

Precision policy: ``fp32`` (no autocast), ``bf16`` (autocast to bfloat16), ``fp16``
(autocast to float16 with dynamic loss scaling). Only fp16 gets a GradScaler per optimizer
(saved in checkpoints); in fp32/bf16 the fused Adam kernel skips a step whose gradients are not
finite by itself (:func:`~infogan_kit.training.skip.step_unless_non_finite`, on the device,
without a host synchronization), so no scaler work runs there.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

import torch

from ..errors import ConfigError

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_supports_bf16() -> bool:
    """True when this CPU has native bfloat16 arithmetic (AVX512-BF16 or AMX)."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = cpuinfo.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def resolve_precision(requested: str, device: torch.device) -> tuple[str, str]:
    """Turn ``auto|fp32|bf16|fp16`` into a concrete mode for ``device``; returns (mode, reason)."""
    if requested == "auto":
        if device.type == "cuda" and torch.cuda.is_bf16_supported():
            return "bf16", "auto: CUDA device supports bf16"
        if device.type == "cpu" and cpu_supports_bf16():
            return "bf16", "auto: CPU has AVX512-BF16/AMX"
        return "fp32", f"auto: no native bf16 on {device.type}"
    if requested == "fp16" and device.type == "cpu":
        return "fp16", "fp16 on CPU (slow; for testing the scaler)"
    if requested not in ("fp32", "bf16", "fp16"):
        raise ConfigError(f"unknown precision {requested!r}")
    return requested, "requested"


@dataclass
class Batch:
    """One (micro-)batch of real data.

    Attributes:
        real_images: FloatTensor ``[n, C, H, W]`` in [0, 1] on the training device.
        real_factors: LongTensor ``[n, K]`` (``K = 0`` for unlabeled data).
    """

    real_images: torch.Tensor
    real_factors: torch.Tensor

    def __len__(self) -> int:
        return self.real_images.shape[0]

    def chunks(self, count: int) -> list["Batch"]:
        """Split into ``count`` equal micro-batches (gradient accumulation)."""
        images = self.real_images.chunk(count)
        factors = self.real_factors.chunk(count) if self.real_factors.numel() else [self.real_factors[: len(i)] for i in images]
        return [Batch(i, f) for i, f in zip(images, factors)]


class PhaseContext:
    """Per-phase services for objectives: autocast, scaled backward, RNG, device.

    Args:
        precision: ``fp32``, ``bf16`` or ``fp16``.
        device: the training device.
        rng: the latent RNG (checkpointed by the loop).
        channels_last: convert images to channels_last.
    """

    def __init__(self, precision: str, device: torch.device, rng: torch.Generator, channels_last: bool) -> None:
        self.precision = precision
        self.device = device
        self.rng = rng
        self.channels_last = channels_last
        self.scaler: torch.amp.GradScaler | None = None
        self.loss_divisor = 1

    @contextlib.contextmanager
    def autocast(self) -> Iterator[None]:
        """Autocast region for forward passes (no-op in fp32)."""
        if self.precision == "fp32":
            yield
        else:
            with torch.autocast(self.device.type, dtype=_DTYPES[self.precision]):
                yield

    def backward(self, loss: torch.Tensor) -> None:
        """Backward of ``loss`` (scaled by the phase's GradScaler, divided over accumulation rounds)."""
        loss = loss.float() / self.loss_divisor
        if self.scaler is not None:
            loss = self.scaler.scale(loss)
        loss.backward()

    def to_memory_format(self, images: torch.Tensor) -> torch.Tensor:
        """Images in the loop's memory format."""
        return images_in_memory_format(images, self.channels_last)


def images_in_memory_format(images: torch.Tensor, channels_last: bool) -> torch.Tensor:
    """``images [n, C, H, W]`` as channels_last when asked, else unchanged (the one conversion of batches)."""
    return images.contiguous(memory_format=torch.channels_last) if channels_last else images


def make_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """A GradScaler for one optimizer in fp16 (dynamic scaling from 2^16).

    Raises:
        ValueError: another precision (fp32/bf16 run without a scaler).
    """
    if precision != "fp16":
        raise ValueError(f"only fp16 uses a GradScaler, not {precision}")
    return torch.amp.GradScaler(device.type, init_scale=2.0**16)
