"""Building blocks of the style-based networks, in plain PyTorch (no compiled extensions).

* **Equalized learning rate** (Karras et al. 2018): weights are stored as ``N(0, 1) / lr_mul``
  and scaled at run time by ``lr_mul / sqrt(fan_in)``, so Adam's per-parameter step sizes are
  the same for every layer whatever its fan-in. :class:`EqualLinear`, :class:`EqualConv2d`.
* **Modulated / demodulated convolution** (StyleGAN2): a style ``s [n, C_in]`` scales the input
  channels of the weight, then each output channel's weight is renormalized to unit norm
  ("demodulation"), which keeps unit-variance inputs at unit-variance outputs. Implemented in the
  non-fused form ``conv(x * s) * d`` (mathematically the same as the grouped convolution of the
  paper; a plain batched convolution is faster on CPUs and works with channels_last).
* **Noise inputs**: per-pixel Gaussian noise times a learned per-layer strength (initialized 0).
* **Minibatch standard deviation** (ProGAN): one extra feature map with the average standard
  deviation of features over groups of samples.

Up-sampling is bilinear (align_corners=False), which is exactly the ``[1, 3, 3, 1]`` FIR filter of
StyleGAN2; down-sampling is a 2x2 average.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..rng import current_rng

LRELU_SLOPE = 0.2
LRELU_GAIN = math.sqrt(2.0)
"""Leaky ReLU and its gain: ``lrelu(x) * sqrt(2)`` keeps unit-variance pre-activations at unit variance."""


def lrelu(x: torch.Tensor) -> torch.Tensor:
    """Leaky ReLU (slope 0.2) scaled by ``sqrt(2)``; any shape."""
    return F.leaky_relu(x, LRELU_SLOPE) * LRELU_GAIN


def normalize_2nd_moment(x: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``x [n, d] / rms(x)`` per row (the pixel norm of the mapping network's input)."""
    return x * (x.square().mean(dim=1, keepdim=True) + eps).rsqrt()


def upsample2x(x: torch.Tensor) -> torch.Tensor:
    """Bilinear 2x up-sampling ``[n, C, H, W] -> [n, C, 2H, 2W]``."""
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


def downsample2x(x: torch.Tensor) -> torch.Tensor:
    """2x2 average pooling ``[n, C, H, W] -> [n, C, H/2, W/2]``."""
    return F.avg_pool2d(x, 2)


class EqualLinear(nn.Module):
    """Fully connected layer with equalized learning rate.

    Args:
        in_features, out_features: widths.
        bias: learn a bias.
        bias_init: initial bias value (1 for style affines: styles start at 1).
        lr_mul: learning-rate multiplier (0.01 in the mapping network).
        activation: apply :func:`lrelu` after the affine map.

    Shapes: ``[n, in_features] -> [n, out_features]``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, bias_init: float = 0.0,
                 lr_mul: float = 1.0, activation: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_features,), float(bias_init) / lr_mul)) if bias else None
        self.weight_gain = lr_mul / math.sqrt(in_features)
        self.lr_mul = lr_mul
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        bias = self.bias * self.lr_mul if self.bias is not None else None
        out = F.linear(x, self.weight * self.weight_gain, bias)
        return lrelu(out) if self.activation else out


class EqualConv2d(nn.Module):
    """Convolution with equalized learning rate, "same" padding and an optional 2x down-sampling.

    Args:
        in_channels, out_channels, kernel_size: as ``nn.Conv2d`` (odd kernel sizes).
        bias: learn a bias.
        activation: apply :func:`lrelu` after the convolution.
        down: average-pool 2x after the convolution.

    Shapes: ``[n, C_in, H, W] -> [n, C_out, H, W]`` (``H/2, W/2`` with ``down``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True,
                 activation: bool = False, down: bool = False) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.activation = activation
        self.down = down

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.conv2d(x, self.weight * self.weight_gain, self.bias, padding=self.padding)
        if self.down:
            out = downsample2x(out)
        return lrelu(out) if self.activation else out


class StyleAffine(nn.Module):
    """The affine map ``A`` from a layer's input vectors to its style ``s [n, channels]``.

    ``s = A_w(w) + A_c(c)``: the intermediate latent ``w [n, w_dim]`` and, when codes are injected
    into this layer (``w-space`` / ``per-layer``), the layer's (masked) codes ``c [n, code_dim]``.
    The two parts have separate equalized gains, so a handful of code dimensions weigh as much
    as the whole of ``w`` at initialization. Styles start at 1 (bias init 1).
    """

    def __init__(self, w_dim: int, code_dim: int, channels: int) -> None:
        super().__init__()
        self.from_w = EqualLinear(w_dim, channels, bias_init=1.0)
        self.from_codes = EqualLinear(code_dim, channels, bias=False) if code_dim > 0 else None

    def forward(self, w: torch.Tensor, codes: torch.Tensor | None) -> torch.Tensor:
        style = self.from_w(w)
        if self.from_codes is not None and codes is not None:
            style = style + self.from_codes(codes)
        return style


class ModulatedConv2d(nn.Module):
    """Modulated (and optionally demodulated) convolution, "same" padding.

    Args:
        in_channels, out_channels, kernel_size: the convolution.
        demodulate: renormalize each output channel's modulated weight to unit norm.

    ``forward(x [n, C_in, H, W], styles [n, C_in]) -> [n, C_out, H, W]``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, demodulate: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_channels, in_channels, kernel_size, kernel_size))
        self.weight_gain = 1.0 / math.sqrt(in_channels * kernel_size * kernel_size)
        self.padding = kernel_size // 2
        self.demodulate = demodulate

    def demodulation_coefficients(self, styles: torch.Tensor) -> torch.Tensor:
        """``1 / ||w * s||`` per sample and output channel ``[n, C_out]`` (fp32 math)."""
        weight = (self.weight * self.weight_gain).float()
        # sum_{i,k} (w_oik s_i)^2 = sum_i s_i^2 * sum_k w_oik^2
        weight_sq = weight.square().sum(dim=(2, 3))  # [C_out, C_in]
        return (styles.float().square() @ weight_sq.t() + 1e-8).rsqrt()

    def forward(self, x: torch.Tensor, styles: torch.Tensor) -> torch.Tensor:
        n = x.shape[0]
        x = x * styles.to(x.dtype).reshape(n, -1, 1, 1)
        out = F.conv2d(x, (self.weight * self.weight_gain).to(x.dtype), padding=self.padding)
        if self.demodulate:
            out = out * self.demodulation_coefficients(styles).to(out.dtype).reshape(n, -1, 1, 1)
        return out


class NoiseInput(nn.Module):
    """Adds per-pixel noise ``[n, 1, H, W]`` times a learned strength (initialized 0).

    Modes: ``random`` (fresh ``N(0, 1)`` noise from the global RNG, which the training loop
    checkpoints), ``const`` (a fixed noise map stored as a buffer: deterministic samples and the
    fixed noise the finite-difference regularizers need), ``none``.
    """

    MODES = ("random", "const", "none")

    def __init__(self, resolution: int) -> None:
        super().__init__()
        self.strength = nn.Parameter(torch.zeros(()))
        generator = torch.Generator().manual_seed(resolution)
        self.register_buffer("const_noise", torch.randn(1, 1, resolution, resolution, generator=generator))

    def forward(self, x: torch.Tensor, mode: str) -> torch.Tensor:
        if mode == "none":
            return x
        if mode == "const":
            noise = self.const_noise.to(x.dtype)
        elif mode == "random":
            noise = torch.randn(x.shape[0], 1, x.shape[2], x.shape[3], generator=current_rng(x.device), device=x.device,
                                dtype=x.dtype)
        else:
            raise ValueError(f"noise mode must be one of {self.MODES}, got {mode!r}")
        return x + noise * self.strength.to(x.dtype)


class MinibatchStddev(nn.Module):
    """Appends one feature map: the mean standard deviation of the features over groups of samples.

    Args:
        group_size: samples per group (reduced to ``gcd(n, group_size)`` for batches it does not divide).

    Shapes: ``[n, C, H, W] -> [n, C + 1, H, W]``.
    """

    def __init__(self, group_size: int = 4) -> None:
        super().__init__()
        self.group_size = group_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        group = math.gcd(n, self.group_size)
        y = x.float().reshape(group, -1, c, h, w)  # [G, n/G, C, H, W]
        y = (y - y.mean(dim=0)).square().mean(dim=0)
        y = (y + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [n/G]
        y = y.reshape(-1, 1, 1, 1).repeat(group, 1, h, w).to(x.dtype)
        return torch.cat([x, y], dim=1)
