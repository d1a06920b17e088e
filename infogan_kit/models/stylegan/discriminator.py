"""Residual discriminator with minibatch standard deviation and the InfoGAN Q head on its trunk.

::

    images [n, C, R, R] in [0, 1] -> 2x - 1 -> FromRGB (1x1) -> residual blocks R -> R/2 ... -> 8 -> 4
        = trunk features [n, C4, 4, 4]
    D head: minibatch stddev -> conv 3x3 -> FC C4 -> FC 1            = real/fake logit [n]
    Q head: FC C4 -> FC q_dim                                        = code parameters [n, q_dim]

Residual block: ``(conv3x3 -> conv3x3 -> down  +  down -> conv1x1) / sqrt(2)``. The Q head branches
*before* the minibatch-stddev layer, so Q's output for an image never depends on the other
images of its batch (``represent`` must not). As in InfoGAN, Q's parameters are trained with G,
the trunk and the D head with D.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import EqualConv2d, EqualLinear, MinibatchStddev, downsample2x
from .synthesis import block_resolutions, channels_at


class ResidualBlock(nn.Module):
    """``[n, C_in, r, r] -> [n, C_out, r/2, r/2]`` residual down-sampling block."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv0 = EqualConv2d(in_channels, in_channels, 3, activation=True)
        self.conv1 = EqualConv2d(in_channels, out_channels, 3, activation=True, down=True)
        self.skip = EqualConv2d(in_channels, out_channels, 1, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip = self.skip(downsample2x(x))
        return (skip + self.conv1(self.conv0(x))) * math.sqrt(0.5)


class ResidualDiscriminator(nn.Module):
    """D with a real/fake head and a Q head sharing one trunk.

    Args:
        image_shape: ``(C, R, R)`` with ``R`` 64 or 128.
        q_dim: width of Q's output (``LatentSpec.q_output_dim``).
        channel_base, channel_max: feature maps per resolution (as the generator's).
        mbstd_group: group size of the minibatch standard deviation.

    ``forward(images) -> (logits [n], q_params [n, q_dim])``.
    """

    def __init__(self, image_shape: tuple[int, int, int], q_dim: int, channel_base: int = 16384, channel_max: int = 512, mbstd_group: int = 4) -> None:
        super().__init__()
        image_channels, resolution = image_shape[0], image_shape[1]
        resolutions = block_resolutions(resolution)[::-1]  # R, R/2, ..., 4
        top = channels_at(resolution, channel_base, channel_max)
        self.from_rgb = EqualConv2d(image_channels, top, 1, activation=True)
        self.blocks = nn.ModuleList(
            [ResidualBlock(channels_at(r, channel_base, channel_max), channels_at(r // 2, channel_base, channel_max)) for r in resolutions[:-1]]
        )
        width = channels_at(4, channel_base, channel_max)
        self.mbstd = MinibatchStddev(mbstd_group)
        self.d_conv = EqualConv2d(width + 1, width, 3, activation=True)
        self.d_fc = EqualLinear(width * 16, width, activation=True)
        self.d_out = EqualLinear(width, 1)
        self.q_head = nn.Sequential(EqualLinear(width * 16, width, activation=True), EqualLinear(width, q_dim))

    def trunk(self, images: torch.Tensor) -> torch.Tensor:
        """Shared features ``[n, C4, 4, 4]`` of images ``[n, C, R, R]`` in [0, 1]."""
        x = self.from_rgb(images * 2 - 1)
        for block in self.blocks:
            x = block(x)
        return x

    def d_head(self, features: torch.Tensor) -> torch.Tensor:
        """Real/fake logits ``[n]`` from trunk features."""
        x = self.d_conv(self.mbstd(features))
        return self.d_out(self.d_fc(x.flatten(1))).squeeze(1)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``[n, C, R, R]`` -> (real/fake logits ``[n]``, Q parameters ``[n, q_dim]``)."""
        features = self.trunk(images)
        return self.d_head(features), self.q_head(features.flatten(1))

    def logits(self, images: torch.Tensor) -> torch.Tensor:
        """Real/fake logits ``[n]`` only (no Q computation)."""
        return self.d_head(self.trunk(images))

    def q_params(self, images: torch.Tensor) -> torch.Tensor:
        """Q's code parameters ``[n, q_dim]`` only (what ``represent`` uses)."""
        return self.q_head(self.trunk(images).flatten(1))

    def q_head_parameters(self) -> list[nn.Parameter]:
        """Parameters of the Q head (optimized with G, the InfoGAN convention)."""
        return list(self.q_head.parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        """Trunk and real/fake head parameters (optimized by the D optimizer)."""
        q_ids = {id(p) for p in self.q_head.parameters()}
        return [p for p in self.parameters() if id(p) not in q_ids]
