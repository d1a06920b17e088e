"""Image grids for samples and latent traversals.

A traversal image has one row per code and one column per value (the categories of a
categorical code), with the code names drawn in a left margin. Rows shorter than the widest
(a categorical code with fewer classes than ``--columns``) are padded with grey.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

_PAD = 2
_MARGIN = 56


def _to_uint8(images: torch.Tensor) -> np.ndarray:
    """``[n, C, H, W]`` floats in [0, 1] -> ``[n, H, W, 3]`` uint8 (grey replicated to RGB)."""
    images = images.detach().float().clamp(0, 1).cpu()
    if images.shape[1] == 1:
        images = images.repeat(1, 3, 1, 1)
    return (images.permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)


def sample_grid(images: torch.Tensor, columns: int | None = None) -> Image.Image:
    """Tile images ``[n, C, H, W]`` into a roughly square grid (a PIL image)."""
    count = images.shape[0]
    columns = columns or max(1, int(np.ceil(np.sqrt(count))))
    rows = int(np.ceil(count / columns))
    tiles = _to_uint8(images)
    height, width = tiles.shape[1:3]
    canvas = np.full((rows * (height + _PAD) + _PAD, columns * (width + _PAD) + _PAD, 3), 128, np.uint8)
    for index, tile in enumerate(tiles):
        r, c = divmod(index, columns)
        top, left = _PAD + r * (height + _PAD), _PAD + c * (width + _PAD)
        canvas[top : top + height, left : left + width] = tile
    return Image.fromarray(canvas)


def _traversal_canvas(rows: list[tuple[str, torch.Tensor]], frame: int | None = None) -> Image.Image:
    """Grid of traversal rows (``frame``: only that column of every row, for GIF frames)."""
    width_tiles = max(len(images) for _, images in rows) if frame is None else 1
    height, width = rows[0][1].shape[2:]
    canvas = np.full(
        (len(rows) * (height + _PAD) + _PAD, _MARGIN + width_tiles * (width + _PAD) + _PAD, 3), 128, np.uint8
    )
    for r, (_, images) in enumerate(rows):
        tiles = _to_uint8(images)
        if frame is not None:
            tiles = tiles[[min(frame, len(tiles) - 1)]]
        for c, tile in enumerate(tiles):
            top, left = _PAD + r * (height + _PAD), _MARGIN + _PAD + c * (width + _PAD)
            canvas[top : top + height, left : left + width] = tile
    image = Image.fromarray(canvas)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    for r, (label, _) in enumerate(rows):
        draw.text((4, _PAD + r * (height + _PAD) + height // 2 - 6), label[:8], fill=(255, 255, 255), font=font)
    return image


def traversal_image(rows: list[tuple[str, torch.Tensor]]) -> Image.Image:
    """One row per code ``(label, images [values, C, H, W])``, labels in a left margin."""
    if not rows:
        raise ValueError("a traversal needs at least one row")
    return _traversal_canvas(rows)


def traversal_gif(rows: list[tuple[str, torch.Tensor]], path: str | Path, frame_ms: int = 150) -> None:
    """Write a GIF sweeping every row's values in step (forth and back)."""
    steps = max(len(images) for _, images in rows)
    order = list(range(steps)) + list(range(steps - 2, 0, -1))
    frames = [_traversal_canvas(rows, frame=i) for i in order]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)


def save_image(image: Image.Image, path: str | Path) -> Path:
    """Save a PIL image, creating parent folders; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    image.save(target)
    return target
