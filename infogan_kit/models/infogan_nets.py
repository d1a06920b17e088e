"""InfoGAN-family networks: pure ``nn.Module``s, no training logic.

Two architectures, chosen by image size (or explicitly):

* ``dsprites`` (64x64, the InfoGAN-CR dSprites networks):
  G = FC128-ReLU-BN -> FC(4x4x64)-ReLU-BN -> deconv 64 -> 32 -> 32 -> C (4x4, stride 2,
  LeakyReLU-BN between, sigmoid output);
  D trunk = conv 32, 32, 64, 64 (4x4, stride 2, LeakyReLU 0.2, spectral norm) -> FC128
  (LeakyReLU); D head = FC1 (a logit); Q head = FC128-LeakyReLU -> code parameters.
* ``mnist`` (28x28, the original InfoGAN MNIST networks):
  G = FC1024-BN-ReLU -> FC(7x7x128)-BN-ReLU -> deconv 64 (4x4 s2)-BN-ReLU -> deconv C (4x4 s2),
  sigmoid; D trunk = conv 64 (4x4 s2)-LReLU -> conv 128 (4x4 s2)-BN-LReLU -> FC1024-BN-LReLU;
  D head FC1; Q head FC128-BN-LReLU -> code parameters.

The discriminator returns both heads from one trunk pass: :meth:`Discriminator.forward`
gives ``(logits [n], q_params [n, q_dim])``.

Implementation: the upsampling layers are :class:`~infogan_kit.models.transposed_conv.TransposedConv2d`
(``nn.ConvTranspose2d`` with a faster CPU path, same parameters) and the activations run in
place; :func:`~infogan_kit.models.transposed_conv.reference_layers` gives the textbook copy.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .transposed_conv import TransposedConv2d

ARCHITECTURES = ("dsprites", "mnist")


def architecture_for(image_shape: tuple[int, int, int], requested: str = "auto") -> str:
    """Pick the architecture for images of ``image_shape`` (C, H, W)."""
    if requested != "auto":
        return requested
    return "mnist" if image_shape[1:] == (28, 28) else "dsprites"


class Generator(nn.Module):
    """Maps the latent input ``[n, input_dim]`` to images ``[n, C, H, W]`` in [0, 1]."""

    def __init__(self, input_dim: int, image_shape: tuple[int, int, int], arch: str = "dsprites") -> None:
        super().__init__()
        channels, height, width = image_shape
        self.image_shape = image_shape
        if arch == "dsprites":
            if (height, width) != (64, 64):
                raise ValueError(f"the dsprites architecture makes 64x64 images, not {height}x{width}")
            self.fc = nn.Sequential(
                nn.Linear(input_dim, 128), nn.ReLU(inplace=True), nn.BatchNorm1d(128),
                nn.Linear(128, 4 * 4 * 64), nn.ReLU(inplace=True), nn.BatchNorm1d(4 * 4 * 64),
            )
            self.start = (64, 4, 4)
            self.deconv = nn.Sequential(
                TransposedConv2d(64, 64, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.BatchNorm2d(64),
                TransposedConv2d(64, 32, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.BatchNorm2d(32),
                TransposedConv2d(32, 32, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True), nn.BatchNorm2d(32),
                TransposedConv2d(32, channels, 4, 2, 1),
            )
        elif arch == "mnist":
            if (height, width) != (28, 28):
                raise ValueError(f"the mnist architecture makes 28x28 images, not {height}x{width}")
            self.fc = nn.Sequential(
                nn.Linear(input_dim, 1024), nn.BatchNorm1d(1024), nn.ReLU(inplace=True),
                nn.Linear(1024, 7 * 7 * 128), nn.BatchNorm1d(7 * 7 * 128), nn.ReLU(inplace=True),
            )
            self.start = (128, 7, 7)
            self.deconv = nn.Sequential(
                TransposedConv2d(128, 64, 4, 2, 1), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                TransposedConv2d(64, channels, 4, 2, 1),
            )
        else:
            raise ValueError(f"unknown architecture {arch!r}; choose from {ARCHITECTURES}")

    def forward(self, latent_input: torch.Tensor) -> torch.Tensor:
        hidden = self.fc(latent_input).reshape(-1, *self.start)
        return torch.sigmoid(self.deconv(hidden))


def dsprites_trunk(channels: int) -> nn.Sequential:
    """conv 32, 32, 64, 64 (4x4, stride 2, LeakyReLU 0.2, spectral norm) -> FC128: ``[n, C, 64, 64] -> [n, 128]``."""
    return nn.Sequential(
        spectral_norm(nn.Conv2d(channels, 32, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
        spectral_norm(nn.Conv2d(32, 32, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
        spectral_norm(nn.Conv2d(32, 64, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
        spectral_norm(nn.Conv2d(64, 64, 4, 2, 1)), nn.LeakyReLU(0.2, inplace=True),
        nn.Flatten(),
        spectral_norm(nn.Linear(64 * 4 * 4, 128)), nn.LeakyReLU(0.2, inplace=True),
    )


def mnist_trunk(channels: int) -> nn.Sequential:
    """conv 64 -> conv 128 (BN) -> FC1024 (BN), LeakyReLU 0.1: ``[n, C, 28, 28] -> [n, 1024]``."""
    return nn.Sequential(
        nn.Conv2d(channels, 64, 4, 2, 1), nn.LeakyReLU(0.1, inplace=True),
        nn.Conv2d(64, 128, 4, 2, 1), nn.BatchNorm2d(128), nn.LeakyReLU(0.1, inplace=True),
        nn.Flatten(),
        nn.Linear(128 * 7 * 7, 1024), nn.BatchNorm1d(1024), nn.LeakyReLU(0.1, inplace=True),
    )


class Discriminator(nn.Module):
    """Shared trunk with a real/fake head and the MI head Q.

    Args:
        image_shape: (C, H, W) of the input images.
        q_dim: width of Q's output (see ``LatentSpec.q_output_dim``).
        arch: ``dsprites`` or ``mnist``.
    """

    def __init__(self, image_shape: tuple[int, int, int], q_dim: int, arch: str = "dsprites") -> None:
        super().__init__()
        channels = image_shape[0]
        if arch == "dsprites":
            self.trunk = dsprites_trunk(channels)
            self.d_head = spectral_norm(nn.Linear(128, 1))
            self.q_head = nn.Sequential(nn.Linear(128, 128), nn.LeakyReLU(0.2, inplace=True), nn.Linear(128, q_dim))
        elif arch == "mnist":
            self.trunk = mnist_trunk(channels)
            self.d_head = nn.Linear(1024, 1)
            self.q_head = nn.Sequential(nn.Linear(1024, 128), nn.BatchNorm1d(128), nn.LeakyReLU(0.1, inplace=True), nn.Linear(128, q_dim))
        else:
            raise ValueError(f"unknown architecture {arch!r}; choose from {ARCHITECTURES}")

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``[n, C, H, W]`` -> (real/fake logits ``[n]``, Q parameters ``[n, q_dim]``)."""
        features = self.trunk(images)
        return self.d_head(features).squeeze(1), self.q_head(features)

    def q_params(self, images: torch.Tensor) -> torch.Tensor:
        """Q's code parameters only ``[n, q_dim]`` (what ``represent`` uses)."""
        return self.q_head(self.trunk(images))

    def q_head_parameters(self) -> list[nn.Parameter]:
        """Parameters of the Q head (optimized with G, the InfoGAN convention)."""
        return list(self.q_head.parameters())

    def d_parameters(self) -> list[nn.Parameter]:
        """Trunk and real/fake head parameters (optimized by the D optimizer)."""
        return list(self.trunk.parameters()) + list(self.d_head.parameters())


class ContrastiveDiscriminator(nn.Module):
    """InfoGAN-CR's H: a pair of images concatenated along channels -> logits over which
    regularized code the pair shares. Same trunk as D (with 2C input channels).

    Args:
        image_shape: (C, H, W) of one image.
        num_codes: number of regularized codes (the classes H predicts).
        arch: ``dsprites`` or ``mnist``.
    """

    def __init__(self, image_shape: tuple[int, int, int], num_codes: int, arch: str = "dsprites") -> None:
        super().__init__()
        channels = 2 * image_shape[0]
        if arch == "dsprites":
            self.trunk, width = dsprites_trunk(channels), 128
        elif arch == "mnist":
            self.trunk, width = mnist_trunk(channels), 1024
        else:
            raise ValueError(f"unknown architecture {arch!r}; choose from {ARCHITECTURES}")
        self.head = nn.Linear(width, num_codes)

    def forward(self, first_images: torch.Tensor, second_images: torch.Tensor) -> torch.Tensor:
        """Two batches ``[n, C, H, W]`` -> logits ``[n, num_codes]``."""
        return self.head(self.trunk(torch.cat([first_images, second_images], dim=1)))
