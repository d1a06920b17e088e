"""``per-layer`` code routing: which code reaches which synthesis blocks.

Written as a string, one ``code=resolutions`` entry per code, separated by ``;``::

    "c1=4,8; c2=8,16; c3=16,32; cat1=4-16"

``4-16`` is a range of block resolutions (4, 8, 16). A code routed to a block reaches all of its
style layers (convolutions and ToRGB). Codes not named reach every block. ``auto`` splits the
blocks below the final resolution (the finest block only adds detail) into contiguous groups,
coarse to fine, one group per code in the latent's order (categorical codes first), wrapping
around when there are more codes than groups; with 5 codes at 64x64: 4 | 8 | 16 | 32 | 4.
"""

from __future__ import annotations

import torch

from ...errors import ConfigError


def _parse_resolutions(text: str, allowed: list[int], entry: str) -> list[int]:
    chosen: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                low, high = (int(p) for p in part.split("-"))
                values = [r for r in allowed if low <= r <= high]
                if low not in allowed or high not in allowed or not values:
                    raise ValueError
            else:
                values = [int(part)]
                if values[0] not in allowed:
                    raise ValueError
        except ValueError:
            raise ConfigError(
                f"model.code_layers entry {entry!r}: {part!r} is not a block resolution or range of {allowed}"
            ) from None
        chosen.extend(v for v in values if v not in chosen)
    return chosen


def auto_routes(code_names: list[str], resolutions: list[int]) -> dict[str, list[int]]:
    """The ``auto`` routing: contiguous groups of the blocks below the last, one per code."""
    blocks = resolutions[:-1] or resolutions
    groups = min(len(code_names), len(blocks)) or 1
    size, extra = divmod(len(blocks), groups)
    split, start = [], 0
    for g in range(groups):
        end = start + size + (1 if g < extra else 0)
        split.append(blocks[start:end])
        start = end
    return {name: split[i % groups] for i, name in enumerate(code_names)}


def parse_code_layers(spec: str, code_names: list[str], resolutions: list[int]) -> dict[str, list[int]]:
    """``{code name: [block resolutions]}`` for every code (see the module docstring).

    Raises:
        ConfigError: unknown code names, resolutions, or malformed entries.
    """
    text = spec.strip()
    if text == "auto":
        return auto_routes(code_names, resolutions)
    routes = {name: list(resolutions) for name in code_names}
    for entry in filter(None, (e.strip() for e in text.split(";"))):
        if "=" not in entry:
            raise ConfigError(f"model.code_layers entry {entry!r} must read code=resolutions, e.g. c1=4,8")
        name, value = (p.strip() for p in entry.split("=", 1))
        if name not in routes:
            raise ConfigError(f"model.code_layers names unknown code {name!r}; the codes are {', '.join(code_names)}")
        routes[name] = _parse_resolutions(value, resolutions, entry)
    return routes


def routing_matrix(routes: dict[str, list[int]], code_columns: dict[str, list[int]], code_dim: int,
                   layer_resolutions: list[int]) -> torch.Tensor:
    """0/1 matrix ``[L, code_dim]``: entry ``(l, j)`` is 1 when code column ``j`` reaches style layer ``l``.

    Args:
        routes: ``{code: [block resolutions]}`` (:func:`parse_code_layers`).
        code_columns: ``{code: [its columns in the code vector]}`` (a categorical code has one per class).
        code_dim: width of the code vector.
        layer_resolutions: block resolution of each style layer.
    """
    matrix = torch.zeros(len(layer_resolutions), code_dim)
    for name, columns in code_columns.items():
        for layer, resolution in enumerate(layer_resolutions):
            if resolution in routes[name]:
                matrix[layer, columns] = 1.0
    return matrix
