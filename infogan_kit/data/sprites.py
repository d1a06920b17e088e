"""Vectorized procedural renderer of dSprites-like binary sprites.

The official dSprites grid is shape (3) x scale (6) x orientation (40) x posX (32) x posY (32).
Shape, scale and orientation give only 3 * 6 * 40 = 720 distinct sprites; position is a pure
translation by one pixel per step. So the renderer draws those 720 sprites once (with 4x4
supersampling and a majority threshold, so edges are clean and binary) into a bank of padded
canvases, and an image is a 64 x 64 crop of its sprite's canvas at an offset given by the
position. Cropping is a single gather over a strided view: no Python loop per image, and it
runs on CPU or CUDA.

Geometry (pixel units, image rows grow downwards):

* a sprite is drawn around its centre; ``scale`` multiplies the base size ``BASE_SIZE`` (the
  side of the unit square);
* ``square``: side ``scale * BASE_SIZE``; ``ellipse``: axes ``scale * BASE_SIZE`` by half of it;
  ``heart``: the curve ``(x^2 + y^2 - 1)^3 - x^2 y^3 <= 0`` scaled to the same width, tip down;
* orientation ``o`` rotates by ``2 * pi * o / 39`` counter-clockwise, so classes 0 and 39 are
  the same angle (``linspace(0, 2 pi, 40)`` includes both ends, as in the official release);
* the centre sits at pixel ``(16 + posY, 16 + posX)``: positions 0..31 move it by one pixel per
  step and the largest rotated sprite (at most 32 pixels across) never leaves the frame.
"""

from __future__ import annotations

import math

import torch

SHAPES = ("square", "ellipse", "heart")
NUM_SCALES = 6
NUM_ORIENTATIONS = 40
NUM_POSITIONS = 32
IMAGE_SIZE = 64
BASE_SIZE = 20.5
"""Side in pixels of the square at scale 1; sets the dataset's mean pixel (about 0.043)."""

PATCH = 33  # every sprite fits a 33 x 33 patch centred on pixel 16
_SUPERSAMPLE = 4
_PAD = NUM_POSITIONS - 1  # canvas margin so every crop offset stays inside the bank


def factor_values() -> dict[str, torch.Tensor]:
    """The physical value of each class, as in the official ``latents_values`` (float64)."""
    return {
        "shape": torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64),
        "scale": torch.linspace(0.5, 1.0, NUM_SCALES, dtype=torch.float64),
        "orientation": torch.linspace(0.0, 2 * math.pi, NUM_ORIENTATIONS, dtype=torch.float64),
        "pos_x": torch.linspace(0.0, 1.0, NUM_POSITIONS, dtype=torch.float64),
        "pos_y": torch.linspace(0.0, 1.0, NUM_POSITIONS, dtype=torch.float64),
    }


def _inside(shape: str, x: torch.Tensor, y: torch.Tensor, half_width: torch.Tensor) -> torch.Tensor:
    """Whether points (x right, y up; pixels from the centre, unrotated frame) lie inside.

    ``half_width`` broadcasts against x and y (one value per scale).
    """
    if shape == "square":
        return (x.abs() <= half_width) & (y.abs() <= half_width)
    if shape == "ellipse":
        return (x / half_width) ** 2 + (y / (0.5 * half_width)) ** 2 <= 1.0
    if shape == "heart":
        # The classic heart spans x in [-1.139, 1.139], y in [-1, 1.236]; centre it vertically.
        unit = half_width / 1.139
        hx = x / unit
        hy = y / unit + 0.118
        return (hx**2 + hy**2 - 1.0) ** 3 - hx**2 * hy**3 <= 0.0
    raise ValueError(f"unknown sprite shape {shape!r}")


def render_sprite_patches(dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Draw the 720 distinct sprites on ``PATCH x PATCH`` patches centred on pixel 16.

    Returns:
        BoolTensor ``[3, 6, 40, PATCH, PATCH]`` (shape, scale, orientation, row, column).
    """
    steps = (torch.arange(PATCH * _SUPERSAMPLE, dtype=dtype) + 0.5) / _SUPERSAMPLE - PATCH / 2
    rows, cols = torch.meshgrid(steps, steps, indexing="ij")
    x_img, y_img = cols, -rows  # y grows upwards in the shape's frame
    scales = torch.linspace(0.5, 1.0, NUM_SCALES, dtype=dtype)
    # Class 39 is 2*pi, i.e. exactly class 0: reduce before taking sines so they are identical.
    angles = 2 * math.pi * (torch.arange(NUM_ORIENTATIONS, dtype=dtype) % (NUM_ORIENTATIONS - 1)) / (
        NUM_ORIENTATIONS - 1
    )
    cos = torch.cos(angles)[:, None, None]
    sin = torch.sin(angles)[:, None, None]
    # Rotating the sprite by +angle = rotating the sample points by -angle.
    x_rot = cos * x_img + sin * y_img
    y_rot = -sin * x_img + cos * y_img
    patches = torch.zeros(len(SHAPES), NUM_SCALES, NUM_ORIENTATIONS, PATCH, PATCH, dtype=torch.bool)
    for shape_index, shape in enumerate(SHAPES):
        for scale_index, scale in enumerate(scales):
            fine = _inside(shape, x_rot, y_rot, scale * BASE_SIZE / 2).to(dtype)
            coverage = fine.reshape(NUM_ORIENTATIONS, PATCH, _SUPERSAMPLE, PATCH, _SUPERSAMPLE).mean((2, 4))
            patches[shape_index, scale_index] = coverage >= 0.5
    return patches


class SpriteRenderer:
    """Renders binary dSprites images from factor tuples, on any device.

    The sprite bank (about 6.5 MB of uint8) is built on first use and cached per device.
    """

    def __init__(self) -> None:
        self._views: dict[torch.device, torch.Tensor] = {}

    def _crop_view(self, device: torch.device) -> torch.Tensor:
        """Strided view ``[720, 32, 32, 64, 64]``: (sprite, posY, posX) -> its 64x64 image."""
        view = self._views.get(device)
        if view is None:
            patches = render_sprite_patches().reshape(-1, PATCH, PATCH)
            side = IMAGE_SIZE + _PAD
            bank = torch.zeros(patches.shape[0], side, side, dtype=torch.uint8)
            # Patch pixel 16 (the sprite centre) lands at canvas pixel _PAD + 16; a crop
            # starting at _PAD - pos puts the centre at image pixel 16 + pos.
            bank[:, _PAD : _PAD + PATCH, _PAD : _PAD + PATCH] = patches.to(torch.uint8)
            bank = bank.to(device)
            n = bank.shape[0]
            view = bank.as_strided(
                (n, NUM_POSITIONS, NUM_POSITIONS, IMAGE_SIZE, IMAGE_SIZE),
                (side * side, side, 1, side, 1),
            )
            self._views[device] = view
        return view

    def masks(self, factors: torch.Tensor, device: torch.device) -> torch.Tensor:
        """Binary masks ``uint8 [n, 64, 64]`` for factors ``[n, 5]`` (shape, scale, orientation, x, y)."""
        view = self._crop_view(device)
        factors = factors.to(device)
        sprite = (factors[:, 0] * NUM_SCALES + factors[:, 1]) * NUM_ORIENTATIONS + factors[:, 2]
        # A crop starting at _PAD - pos shows the sprite centre at image pixel 16 + pos.
        return view[sprite, _PAD - factors[:, 4], _PAD - factors[:, 3]]
