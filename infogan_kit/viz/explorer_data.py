"""What the explorer page shows, computed in Python: base samples, pre-rendered frames, the
code-vs-factor MI/H matrix and the pairing of codes across runs.

A *base sample* is where every slider starts: for a model whose traversals encode data
(``traversal_needs_data``, VAEs) the encoder mean of one seeded dataset image; otherwise (GANs)
one latent draw of a seeded generator, ``torch.Generator(device).manual_seed(base_seed)``, whose
noise stays fixed in every frame of that base. A frame with codes ``values [D]`` is exactly
``model.render_codes(values[None], torch.Generator(device).manual_seed(base_seed))`` (what the
browser test checks); InfoGAN-family models are rendered in batches with the base's noise
repeated, which gives the same images.

Frames are ``uint8 [H, W, C]`` (``x * 255 + 0.5`` truncated, as :mod:`~infogan_kit.viz.grids`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch

from ..errors import InfoganError
from ..metrics.utils import discrete_entropy, discrete_mutual_info, histogram_discretize
from ..recipes.base import Model
from ..recipes.vae import INACTIVE_KL

MATCH_THRESHOLD = 0.05
"""A code whose best MI/H exceeds chance (shuffled factors) by less than this matches no factor
(it goes to the "no factor" row)."""

NUM_BINS = 20
"""Histogram bins of the MI/H matrix (MIG's discretizer)."""

ACTIVITY_IMAGES = 256
"""Data images that estimate each code's activity (a VAE's KL per latent)."""


class ExplorerError(InfoganError):
    """The explorer cannot be built from these runs or written there."""


def explore_batch_size(device: torch.device | str) -> int:
    """Frames rendered (and images represented) per batch: 1024 on a GPU, 128 on the CPU."""
    return 1024 if torch.device(device).type == "cuda" else 128


def can_render(model: Model) -> bool:
    """Whether the model has a generator: it implements ``render_codes`` (the contract's way to
    draw an image with given codes)."""
    return type(model).render_codes is not Model.render_codes


@dataclass
class BaseSample:
    """Where the sliders start: code values ``[D]`` and the seed of the noise (GANs)."""

    values: torch.Tensor
    seed: int
    noise: torch.Tensor | None = None


def base_seed(seed: int, index: int) -> int:
    """Seed of the ``index``-th base sample's generator."""
    return seed * 1000 + index


def base_samples(run: Any, count: int, seed: int, batch_size: int) -> list[BaseSample]:
    """``count`` base samples of ``run`` (see the module docstring)."""
    model = run.model
    if model.traversal_needs_data:
        images, _ = run.dataset.sample(count, generator=torch.Generator().manual_seed(base_seed(seed, 0)))
        values = run.represent(images, batch_size)
        return [BaseSample(values[index], base_seed(seed, index)) for index in range(count)]
    samples = []
    for index in range(count):
        rng = torch.Generator(run.device).manual_seed(base_seed(seed, index))
        codes = getattr(model, "codes", None)
        if codes is not None and hasattr(model, "render"):
            draw = codes.sample(1, rng, run.device)
            values = torch.cat([draw.codes_cat.float(), draw.codes_cont.float()], 1)[0].cpu()
            samples.append(BaseSample(values, base_seed(seed, index), draw.noise))
        else:  # a generator without InfoGAN codes: the codes its own Q reads from one sample
            values = run.represent(model.generate(1, rng).cpu(), batch_size)[0]
            samples.append(BaseSample(values, base_seed(seed, index)))
    return samples


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """``[n, C, H, W]`` floats in [0, 1] -> ``[n, H, W, C]`` uint8."""
    return (images.detach().float().clamp(0, 1).cpu().permute(0, 2, 3, 1).numpy() * 255 + 0.5).astype(np.uint8)


@torch.no_grad()
def render_frames(model: Model, base: BaseSample, values: torch.Tensor, batch_size: int) -> np.ndarray:
    """Frames ``uint8 [n, H, W, C]`` of ``values [n, D]`` around ``base`` (see the module docstring)."""
    device = model.device
    chunks = []
    for start in range(0, len(values), batch_size):
        chunk = values[start : start + batch_size].to(device)
        if base.noise is not None:
            from ..models.latent import Latents

            num_cat = sum(size is not None for size in model.code_sizes())
            noise = base.noise.to(device).expand(len(chunk), -1)
            latents = Latents(chunk[:, :num_cat].long(), chunk[:, num_cat:].float(), noise)
            images = model.render(latents).clamp(0, 1)  # type: ignore[attr-defined]
        elif model.traversal_needs_data:  # a decoder: the codes alone make the image
            images = model.render_codes(chunk, torch.Generator(device).manual_seed(base.seed))
        else:
            images = torch.cat([model.render_codes(row[None], torch.Generator(device).manual_seed(base.seed)) for row in chunk])
        chunks.append(to_uint8(images))
    return np.concatenate(chunks)


def code_values(model: Model, columns: int) -> list[list[float]]:
    """Slider positions per code: ``columns`` values over the model's traversal range, or the
    classes of a categorical code."""
    low, high = model.traversal_range
    steps = np.linspace(low, high, columns).round(6).tolist()
    return [list(map(float, range(size))) if size else list(steps) for size in model.code_sizes()]


def traversal_values(base: BaseSample, values: Sequence[Sequence[float]]) -> torch.Tensor:
    """Codes ``[sum of positions, D]``: for each code in turn, ``base`` with that code at each position."""
    rows = []
    for code, positions in enumerate(values):
        block = base.values.repeat(len(positions), 1)
        block[:, code] = torch.tensor(positions)
        rows.append(block)
    return torch.cat(rows)


def pair_values(base: BaseSample, values: Sequence[Sequence[float]], pair: tuple[int, int]) -> torch.Tensor:
    """Codes ``[len(a) * len(b), D]`` of the pair grid: row ``i`` sets code a to its ``i``-th
    position, column ``j`` code b to its ``j``-th."""
    first, second = (torch.tensor(values[index]) for index in pair)
    grid = base.values.repeat(len(first) * len(second), 1)
    grid[:, pair[0]] = first.repeat_interleave(len(second))
    grid[:, pair[1]] = second.repeat(len(first))
    return grid


def mi_matrix(codes: torch.Tensor, factors: torch.Tensor) -> np.ndarray:
    """Normalized mutual information ``[D, K]``: MI of each 20-bin discretized code with each
    factor over the factor's entropy (0 where a factor does not vary in the sample)."""
    mutual_info = discrete_mutual_info(histogram_discretize(codes.double().numpy(), NUM_BINS), factors.long().numpy())
    entropy = discrete_entropy(factors.long().numpy())
    return np.divide(mutual_info, entropy, out=np.zeros_like(mutual_info), where=entropy > 0)


def chance_mi_matrix(codes: torch.Tensor, factors: torch.Tensor, seed: int) -> np.ndarray:
    """:func:`mi_matrix` with every factor column shuffled (seeded): the plug-in estimator's
    upward bias on this many samples, which a code must exceed to match a factor."""
    rng = np.random.default_rng(seed)
    shuffled = np.stack([rng.permutation(column) for column in factors.long().numpy().T], 1)
    return mi_matrix(codes, torch.from_numpy(shuffled))


def code_order(model: Model, activity: np.ndarray) -> list[int]:
    """Display order: most active first for models that prune inactive codes (VAEs), else the model's."""
    if model.inactive_codes_are_nuisance:
        return [int(index) for index in np.argsort(-activity, kind="stable")]
    return list(range(len(activity)))


def inactive_codes(model: Model, activity: np.ndarray) -> list[bool]:
    """Per code: switched off (a VAE latent whose KL is below ``INACTIVE_KL``)."""
    return [bool(model.inactive_codes_are_nuisance and value < INACTIVE_KL) for value in activity]


def best_factors(excess: np.ndarray | None, inactive: Sequence[bool]) -> list[int | None]:
    """Per code: the factor of its highest MI/H above chance (``excess``, ``[D, K]``); None for
    an inactive code, one below :data:`MATCH_THRESHOLD`, or without factors (``excess`` None)."""
    if excess is None:
        return [None] * len(inactive)
    return [int(row.argmax()) if row.max() >= MATCH_THRESHOLD and not off else None for row, off in zip(excess, inactive)]


def default_pair(order: Sequence[int], factors: Sequence[int | None]) -> tuple[int, int]:
    """The pair grid's codes: the first two codes (display order) matched to different factors,
    else the first two."""
    matched = [code for code in order if factors[code] is not None]
    for first in matched:
        for second in matched:
            if factors[first] != factors[second]:
                return first, second
    return order[0], order[1 % len(order)]


def pairing_rows(runs: Sequence[dict[str, Any]], factor_names: Sequence[str]) -> list[dict[str, Any]]:
    """Slider rows shared by the runs: one per factor (each run's codes whose best factor it is,
    by decreasing MI/H) and a "no factor" row; without factors, one row per display position."""
    rows: list[dict[str, Any]] = []
    if factor_names:
        for factor, name in enumerate([*factor_names, None]):
            cells = [sorted((c for c in run["order"] if run["codes"][c]["factor"] == (factor if name else None)),
                            key=lambda c, run=run: -max(run["codes"][c]["mi"] or [0.0])) for run in runs]
            if any(cells):
                rows.append({"label": name or f"no factor (MI/H < {MATCH_THRESHOLD})", "cells": cells})
        return rows
    for position in range(max(len(run["order"]) for run in runs)):
        cells = [[run["order"][position]] if position < len(run["order"]) else [] for run in runs]
        rows.append({"label": f"#{position + 1}", "cells": cells})
    return rows
