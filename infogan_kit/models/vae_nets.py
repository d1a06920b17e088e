"""VAE-family networks of disentanglement_lib's unsupervised study: pure ``nn.Module``s.

Layer for layer the ``conv_encoder`` / ``deconv_decoder`` / ``fc_discriminator`` of
disentanglement_lib (``methods/shared/architectures.py``), which follow the beta-VAE paper's
chairs networks (Higgins et al. 2017, Table 1 row 3) and FactorVAE's discriminator (Kim & Mnih
2018, Appendix A)::

    encoder  x [n, C, 64, 64]
             conv 32 4x4 s2 -> conv 32 4x4 s2 -> conv 64 2x2 s2 -> conv 64 2x2 s2   (ReLU each)
             -> flatten (64 x 4 x 4 = 1024) -> FC 256 (ReLU) -> (mean, log variance) FC D each
    decoder  z [n, D] -> FC 256 (ReLU) -> FC 1024 (ReLU) -> reshape 64 x 4 x 4
             -> deconv 64, 32, 32 (4x4 s2, ReLU) -> deconv C (4x4 s2) = Bernoulli logits
    discriminator (FactorVAE)  z [n, D] -> 6 x (FC 1000, LeakyReLU 0.2) -> FC 2 logits

TensorFlow's ``padding="same"`` is reproduced exactly: a 4x4 stride-2 convolution pads one pixel
per side, a 2x2 stride-2 one needs none, and a 4x4 stride-2 transposed convolution with one pixel
of padding doubles the size. Weights start like TensorFlow's layers (Glorot-uniform kernels,
zero biases), not with PyTorch's defaults, so training starts where the reference does.
The decoder returns logits; ``torch.sigmoid`` of them are the images. The deconvolutions are
:class:`~infogan_kit.models.transposed_conv.TransposedConv2d` (``nn.ConvTranspose2d`` with a
faster CPU path, same parameters and ``state_dict``) and the ReLUs run in place.
"""

from __future__ import annotations

import torch
from torch import nn

from .transposed_conv import TransposedConv2d

IMAGE_SIZE = 64
"""Height and width the encoder takes and the decoder makes."""


def init_like_tensorflow(module: nn.Module) -> None:
    """Glorot-uniform weights and zero biases for every conv, deconv and linear layer of ``module``."""
    for layer in module.modules():
        if isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)


def check_image_shape(image_shape: tuple[int, int, int]) -> None:
    """Raise ValueError unless ``image_shape`` is ``(C, 64, 64)``."""
    if tuple(image_shape[1:]) != (IMAGE_SIZE, IMAGE_SIZE):
        raise ValueError(
            f"the disentanglement_lib VAE networks take {IMAGE_SIZE}x{IMAGE_SIZE} images, "
            f"this dataset gives {image_shape[1]}x{image_shape[2]}"
        )


class ConvEncoder(nn.Module):
    """Gaussian encoder: images ``[n, C, 64, 64]`` -> (means ``[n, D]``, log variances ``[n, D]``).

    Args:
        channels: image channels C (1 for dSprites, 3 for colour data).
        num_latents: D, the number of latent dimensions (10 in the study).
    """

    def __init__(self, channels: int, num_latents: int = 10) -> None:
        super().__init__()
        self.num_latents = num_latents
        self.features = nn.Sequential(
            nn.Conv2d(channels, 32, 4, 2, 1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 32, 4, 2, 1), nn.ReLU(inplace=True),
            nn.Conv2d(32, 64, 2, 2, 0), nn.ReLU(inplace=True),
            nn.Conv2d(64, 64, 2, 2, 0), nn.ReLU(inplace=True),
            nn.Flatten(),
            nn.Linear(64 * 4 * 4, 256), nn.ReLU(inplace=True),
        )
        self.means = nn.Linear(256, num_latents)
        self.log_variances = nn.Linear(256, num_latents)
        init_like_tensorflow(self)

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Images ``[n, C, 64, 64]`` in [0, 1] -> ``(means [n, D], log_variances [n, D])``."""
        hidden = self.features(images)
        return self.means(hidden), self.log_variances(hidden)


class DeconvDecoder(nn.Module):
    """Decoder: latents ``[n, D]`` -> Bernoulli logits ``[n, C, 64, 64]``.

    Args:
        channels: image channels C of the output.
        num_latents: D, the latent width.
    """

    def __init__(self, channels: int, num_latents: int = 10) -> None:
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(num_latents, 256), nn.ReLU(inplace=True), nn.Linear(256, 64 * 4 * 4), nn.ReLU(inplace=True))
        self.deconv = nn.Sequential(
            TransposedConv2d(64, 64, 4, 2, 1), nn.ReLU(inplace=True),
            TransposedConv2d(64, 32, 4, 2, 1), nn.ReLU(inplace=True),
            TransposedConv2d(32, 32, 4, 2, 1), nn.ReLU(inplace=True),
            TransposedConv2d(32, channels, 4, 2, 1),
        )
        init_like_tensorflow(self)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents ``[n, D]`` -> logits ``[n, C, 64, 64]`` (``sigmoid`` gives pixel intensities)."""
        return self.deconv(self.fc(latents).reshape(-1, 64, 4, 4))


class FactorDiscriminator(nn.Module):
    """FactorVAE's discriminator: latents ``[n, D]`` -> 2 logits ``[n, 2]``.

    Column 0 scores "a sample of the joint q(z)", column 1 "a sample of the product of the
    marginals" (dimension-wise permuted codes), the convention of disentanglement_lib.

    Args:
        num_latents: D.
        width: hidden units per layer (1000).
        depth: hidden layers (6).
    """

    def __init__(self, num_latents: int = 10, width: int = 1000, depth: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        inputs = num_latents
        for _ in range(depth):
            layers += [nn.Linear(inputs, width), nn.LeakyReLU(0.2)]
            inputs = width
        layers.append(nn.Linear(inputs, 2))
        self.layers = nn.Sequential(*layers)
        init_like_tensorflow(self)

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        """Latents ``[n, D]`` -> logits ``[n, 2]``."""
        return self.layers(latents)


def gaussian_kl_per_latent(means: torch.Tensor, log_variances: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, sigma^2) || N(0, 1))`` of every latent of every sample (the encoder's posterior
    against the prior).

    Args:
        means, log_variances: ``[n, D]``.

    Returns:
        ``[n, D]`` KL divergences in nats: ``0.5 (mu^2 + sigma^2 - log sigma^2 - 1)``.
    """
    return 0.5 * (means.square() + log_variances.exp() - log_variances - 1.0)
