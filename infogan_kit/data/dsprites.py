"""dSprites and its disentanglement_lib variants (colour, noisy).

Procedural by default: images are rendered from the factors on the fly by
:class:`~infogan_kit.data.sprites.SpriteRenderer` (no file, no download). With ``path`` (or
``source="file"`` and the official file inside ``$INFOGAN_DATA``), the binary sprites come from
the official release ``dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz`` instead; the variants
apply on top of either source.

Variants (as defined by disentanglement_lib):

* ``color_dsprites``: the sprite is multiplied by a colour drawn per image from
  ``U(0.5, 1)^3`` (3 channels, black background);
* ``noisy_dsprites``: the background is uniform noise ``U(0, 1)`` per pixel and channel, and
  the sprite is white: ``min(sprite + noise, 1)`` (3 channels).

Their randomness comes from the ``generator`` passed to :meth:`FactorDataset.images` (drawn on
that generator's device), so a seeded generator reproduces the same images.
"""

from __future__ import annotations

from pathlib import Path

import torch

from .base import FactorDataset
from .sprites import NUM_ORIENTATIONS, NUM_POSITIONS, NUM_SCALES, SHAPES, SpriteRenderer, factor_values

DSPRITES_FILE = "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
DSPRITES_URL = "https://github.com/deepmind/dsprites-dataset (file dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz)"

_RENDERER = SpriteRenderer()


class DSprites(FactorDataset):
    """dSprites: 737,280 binary 64x64 sprites over shape, scale, orientation, posX and posY.

    Args:
        path: the official npz file (or a directory holding it). ``None`` renders procedurally.
        source: ``"procedural"`` (default when ``path`` is None) or ``"file"`` (uses ``path`` or
            the official file name inside ``$INFOGAN_DATA``).
    """

    name = "dsprites"
    factor_names = ("shape", "scale", "orientation", "pos_x", "pos_y")
    factor_sizes = (len(SHAPES), NUM_SCALES, NUM_ORIENTATIONS, NUM_POSITIONS, NUM_POSITIONS)
    image_shape = (1, 64, 64)
    description = "binary 2D sprites (square, ellipse, heart); rendered procedurally unless a file is given"
    needs_file = "optional"
    source = DSPRITES_URL
    deterministic_images = True  # both sources: the image is a function of the factors alone

    def __init__(self, path: str | Path | None = None, source: str | None = None) -> None:
        from ..errors import DatasetError

        source = source or ("file" if path is not None else "procedural")
        if source not in ("procedural", "file"):
            raise DatasetError(f"dsprites source must be 'procedural' or 'file', got {source!r}")
        self.path: Path | None = None
        self._file = None
        if source == "file":
            from .files import DSpritesNpz, resolve_data_file

            self.path = resolve_data_file(path, DSPRITES_FILE, self.name, DSPRITES_URL)
            self._file = DSpritesNpz(self.path)
        self.variant = source

    @staticmethod
    def factor_values() -> dict[str, torch.Tensor]:
        """Physical value of every class of every factor (as the official ``latents_values``)."""
        return factor_values()

    def masks(self, factors: torch.Tensor, device: torch.device) -> torch.Tensor:
        """Binary sprites ``uint8 [n, 64, 64]`` (0 or 1) for validated factors ``[n, 5]``."""
        if self._file is not None:
            return self._file.masks(self.factors_to_index(factors.cpu())).to(device)
        return _RENDERER.masks(factors, device)

    def _render(self, factors: torch.Tensor, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        return self.masks(factors, device).to(torch.float32).unsqueeze(1)



def _uniform(shape: tuple[int, ...], low: float, high: float, generator: torch.Generator | None, device: torch.device) -> torch.Tensor:
    """U(low, high) draws on the generator's device (default RNG: ``device``), returned on ``device``."""
    draw_device = generator.device if generator is not None else device
    values = torch.rand(shape, generator=generator, device=draw_device)
    return (low + (high - low) * values).to(device)


class ColorDSprites(DSprites):
    """dSprites with the sprite coloured by ``U(0.5, 1)^3`` per image (disentanglement_lib)."""

    name = "color_dsprites"
    image_shape = (3, 64, 64)
    description = "dSprites with a random colour U(0.5,1)^3 per image"
    deterministic_images = False  # a colour drawn per image

    def _render(self, factors: torch.Tensor, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        masks = self.masks(factors, device).to(torch.float32).unsqueeze(1)
        colours = _uniform((len(factors), 3, 1, 1), 0.5, 1.0, generator, device)
        return masks * colours


class NoisyDSprites(DSprites):
    """dSprites with a white sprite on a ``U(0, 1)`` noise background (disentanglement_lib)."""

    name = "noisy_dsprites"
    image_shape = (3, 64, 64)
    description = "dSprites with a white sprite on uniform-noise background"
    deterministic_images = False  # noise drawn per image

    def _render(self, factors: torch.Tensor, device: torch.device, generator: torch.Generator | None) -> torch.Tensor:
        masks = self.masks(factors, device).to(torch.float32).unsqueeze(1)
        noise = _uniform((len(factors), 3, 64, 64), 0.0, 1.0, generator, device)
        return torch.clamp(masks + noise, max=1.0)
