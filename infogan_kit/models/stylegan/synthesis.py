"""The synthesis network: learned constant -> style blocks at 4, 8, ... , resolution -> image.

Every modulated layer (each 3x3 convolution and each 1x1 ToRGB) is a *style layer* with its own
input vectors: the intermediate latent ``w`` and the codes injected into it. Style layers are
numbered coarse to fine::

    64x64:   0 4x4 conv | 1 4x4 rgb | 2 8x8 up | 3 8x8 conv | 4 8x8 rgb | ... | 12 64x64 conv | 13 64x64 rgb

(``3 * log2(resolution / 4) + 2`` layers: 14 at 64, 17 at 128.) Images are the sum of every
block's ToRGB output, up-sampled to the final resolution (the "skip" generator of StyleGAN2),
mapped from [-1, 1] to [0, 1]: ``image = 0.5 * rgb + 0.5`` (not clamped during training).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .layers import ModulatedConv2d, NoiseInput, StyleAffine, lrelu, upsample2x

RESOLUTIONS = (64, 128)


def block_resolutions(resolution: int) -> list[int]:
    """``[4, 8, ..., resolution]`` for a supported output resolution."""
    if resolution not in RESOLUTIONS:
        raise ValueError(f"the style generator makes {' or '.join(map(str, RESOLUTIONS))} pixel images, not {resolution}")
    return [2**i for i in range(2, int(math.log2(resolution)) + 1)]


def style_layer_resolutions(resolution: int) -> list[int]:
    """Block resolution of every style layer, coarse to fine (2 layers at 4x4, 3 per block above)."""
    return [r for r in block_resolutions(resolution) for _ in range(2 if r == 4 else 3)]


def channels_at(resolution: int, channel_base: int, channel_max: int) -> int:
    """Feature maps of the blocks at ``resolution``: ``min(channel_base // resolution, channel_max)``, at least 1."""
    return max(1, min(channel_base // resolution, channel_max))


class SynthesisLayer(nn.Module):
    """Modulated 3x3 convolution (optionally after 2x up-sampling), noise, bias, leaky ReLU.

    ``forward(x [n, C_in, H, W], w [n, w_dim], codes [n, code_dim] | None, noise_mode)
    -> [n, C_out, H', W']`` with ``H' = 2H`` when ``up``.
    """

    def __init__(self, in_channels: int, out_channels: int, w_dim: int, code_dim: int, resolution: int, up: bool) -> None:
        super().__init__()
        self.affine = StyleAffine(w_dim, code_dim, in_channels)
        self.conv = ModulatedConv2d(in_channels, out_channels, 3, demodulate=True)
        self.noise = NoiseInput(resolution)
        self.bias = nn.Parameter(torch.zeros(out_channels))
        self.up = up

    def forward(self, x: torch.Tensor, w: torch.Tensor, codes: torch.Tensor | None, noise_mode: str) -> torch.Tensor:
        if self.up:
            x = upsample2x(x)
        x = self.conv(x, self.affine(w, codes))
        x = self.noise(x, noise_mode)
        return lrelu(x + self.bias.to(x.dtype).reshape(1, -1, 1, 1))


class ToRGB(nn.Module):
    """Modulated 1x1 convolution (no demodulation) to image channels, plus a bias."""

    def __init__(self, in_channels: int, image_channels: int, w_dim: int, code_dim: int) -> None:
        super().__init__()
        self.affine = StyleAffine(w_dim, code_dim, in_channels)
        self.conv = ModulatedConv2d(in_channels, image_channels, 1, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(image_channels))

    def forward(self, x: torch.Tensor, w: torch.Tensor, codes: torch.Tensor | None) -> torch.Tensor:
        out = self.conv(x, self.affine(w, codes))
        return out + self.bias.to(out.dtype).reshape(1, -1, 1, 1)


class SynthesisBlock(nn.Module):
    """One resolution: (learned constant | up-sampling conv) + conv + ToRGB.

    Its style layers, in order: ``[conv]`` + ``[rgb]`` at 4x4, ``[up, conv, rgb]`` above.
    """

    def __init__(self, in_channels: int, out_channels: int, image_channels: int, w_dim: int, code_dim: int, resolution: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.first = resolution == 4
        if self.first:
            self.const = nn.Parameter(torch.randn(out_channels, 4, 4))
            self.convs = nn.ModuleList([SynthesisLayer(out_channels, out_channels, w_dim, code_dim, 4, up=False)])
        else:
            self.convs = nn.ModuleList([
                SynthesisLayer(in_channels, out_channels, w_dim, code_dim, resolution, up=True),
                SynthesisLayer(out_channels, out_channels, w_dim, code_dim, resolution, up=False),
            ])
        self.torgb = ToRGB(out_channels, image_channels, w_dim, code_dim)

    @property
    def num_layers(self) -> int:
        """Style layers of this block (convolutions + ToRGB)."""
        return len(self.convs) + 1

    def layer_names(self) -> list[str]:
        """Readable names of the block's style layers (``"8x8 up"``, ``"8x8 conv"``, ``"8x8 rgb"``)."""
        r = f"{self.resolution}x{self.resolution}"
        convs = [f"{r} conv"] if self.first else [f"{r} up", f"{r} conv"]
        return convs + [f"{r} rgb"]

    def style_layers(self) -> list[nn.Module]:
        """The block's modulated layers in style-layer order."""
        return list(self.convs) + [self.torgb]


class SynthesisNetwork(nn.Module):
    """Per-layer input vectors -> images.

    Args:
        resolution: 64 or 128.
        image_channels: 1 (grey) or 3 (RGB).
        w_dim: width of ``w``.
        code_dim: width of the codes a style layer may receive (0: codes only through ``w``).
        channel_base, channel_max: feature maps per resolution, see :func:`channels_at`.

    ``forward(ws [n, L, w_dim], layer_codes [n, L, code_dim] | None, noise_mode, return_features)
    -> images [n, C, R, R]`` (and each block's features ``[n, C_r, r, r]`` when asked).
    """

    def __init__(self, resolution: int, image_channels: int, w_dim: int, code_dim: int, channel_base: int, channel_max: int) -> None:
        super().__init__()
        self.resolution = resolution
        self.w_dim = w_dim
        self.code_dim = code_dim
        resolutions = block_resolutions(resolution)
        blocks = []
        for res in resolutions:
            in_channels = channels_at(res // 2, channel_base, channel_max) if res > 4 else 0
            blocks.append(SynthesisBlock(in_channels, channels_at(res, channel_base, channel_max), image_channels, w_dim, code_dim, res))
        self.blocks = nn.ModuleList(blocks)
        self.num_layers = sum(block.num_layers for block in self.blocks)

    def layer_names(self) -> list[str]:
        """Name of every style layer, coarse to fine (``L`` entries)."""
        return [name for block in self.blocks for name in block.layer_names()]

    def layer_resolutions(self) -> list[int]:
        """Block resolution of every style layer (``L`` entries)."""
        return [block.resolution for block in self.blocks for _ in range(block.num_layers)]

    def style_layers(self) -> list[nn.Module]:
        """Every modulated layer, coarse to fine (``L`` entries, each with an ``affine``)."""
        return [layer for block in self.blocks for layer in block.style_layers()]

    def styles(self, ws: torch.Tensor, layer_codes: torch.Tensor | None) -> list[torch.Tensor]:
        """The style vector of every layer: ``L`` tensors ``[n, C_in of the layer]``."""
        return [
            layer.affine(ws[:, index], None if layer_codes is None else layer_codes[:, index])
            for index, layer in enumerate(self.style_layers())
        ]

    def forward(self, ws: torch.Tensor, layer_codes: torch.Tensor | None = None, noise_mode: str = "random",
                return_features: bool = False) -> torch.Tensor | tuple[torch.Tensor, list[torch.Tensor]]:
        index, x, rgb = 0, None, None
        features = []
        for block in self.blocks:
            if block.first:
                x = block.const.to(ws.dtype).unsqueeze(0).expand(ws.shape[0], -1, -1, -1)
            for conv in block.convs:
                x = conv(x, ws[:, index], None if layer_codes is None else layer_codes[:, index], noise_mode)
                index += 1
            y = block.torgb(x, ws[:, index], None if layer_codes is None else layer_codes[:, index])
            index += 1
            rgb = y if rgb is None else upsample2x(rgb) + y
            features.append(x)
        images = rgb * 0.5 + 0.5
        return (images, features) if return_features else images
