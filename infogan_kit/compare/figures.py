"""Figures of a comparison: one bar chart per metric (grouped by family) and a traversal panel.

Figures are drawn with matplotlib's object API and rendered by its Agg canvas: no display is
needed and the user's pyplot backend (a notebook's, say) is left alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..files import atomic_write
from .scores import GroupScores

FAMILY_COLORS = {"gan": "#d95f02", "vae": "#1b9e77"}
OTHER_COLOR = "#7570b3"
FAMILY_ORDER = ("gan", "vae")


def _figure(width: float, height: float) -> Any:
    """A matplotlib Figure on an Agg canvas (no pyplot state involved)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(figure)
    return figure


def safe_name(text: str) -> str:
    """``text`` reduced to a file-name-safe stem (``dci.disentanglement`` -> ``dci-disentanglement``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-") or "metric"


def family_sorted(groups: Sequence[GroupScores]) -> list[GroupScores]:
    """Groups ordered by family (GANs, VAEs, others), first-seen order inside a family."""
    rank = {family: index for index, family in enumerate(FAMILY_ORDER)}
    return sorted(groups, key=lambda group: rank.get(group.family, len(FAMILY_ORDER)))


def bar_chart(groups: Sequence[GroupScores], column: str, path: Path, protocol: str) -> Path:
    """A bar per group (mean, error bar = std over seeds), coloured and ordered by family.

    Args:
        groups: the compared groups.
        column: ``"metric.key"`` to plot.
        path: PNG file to write.
        protocol: shown in the title.

    Returns:
        ``path``.
    """
    from matplotlib.patches import Patch

    ordered = family_sorted(groups)
    heights = [np.nan if g.mean.get(column) is None else g.mean[column] for g in ordered]
    colors = [FAMILY_COLORS.get(g.family, OTHER_COLOR) for g in ordered]
    figure = _figure(max(4.0, 1.1 * len(ordered) + 2), 3.6)
    axes = figure.subplots()
    positions = np.arange(len(ordered))
    axes.bar(positions, heights, color=colors, edgecolor="black", linewidth=0.5)
    spread = [(p, h, g.std[column]) for p, h, g in zip(positions, heights, ordered) if g.std.get(column) is not None]
    if spread:
        x, y, error = zip(*spread)
        axes.errorbar(x, y, yerr=error, fmt="none", ecolor="black", capsize=4)
    axes.set_xticks(positions, [g.label for g in ordered], rotation=20, ha="right", fontsize=8)
    axes.set_ylabel(column)
    axes.set_title(f"{column} ({protocol} protocol)", fontsize=9)
    axes.set_xlabel("error bars: std over seeds" if spread else "one run per model", fontsize=8)
    handles = [Patch(color=FAMILY_COLORS.get(family, OTHER_COLOR), label=family) for family in dict.fromkeys(g.family for g in ordered)]
    axes.legend(handles=handles, title="family", fontsize=8)
    axes.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    return _save_figure(figure, path)


def traversal_panel(runs: Sequence[Any], labels: Sequence[str], path: Path, seed: int = 0, columns: int = 8) -> Path:
    """One latent traversal per run, side by side, all drawn with the same seed.

    Each traversal sweeps every code over its model's traversal range (-1..1 for GAN codes, -2..2
    for VAE latents, sorted by KL, inactive ones starred), one row per code, as ``infogan
    traverse`` draws it.

    Args:
        runs: loaded runs (:func:`infogan_kit.load_run`).
        labels: a title per run.
        path: PNG file to write.
        seed: seed of the fixed latent / encoded image of every run.
        columns: values per code.

    Returns:
        ``path``.
    """
    from ..viz import traversal_image

    images = []
    for run in runs:
        images.append(np.asarray(traversal_image(run.traversal(None, columns, None, seed))))
    tallest = max(image.shape[0] for image in images)
    widths = [image.shape[1] for image in images]
    figure = _figure(sum(widths) / 80 + 0.4 * len(images), tallest / 80 + 0.6)
    axes = figure.subplots(1, len(images), gridspec_kw={"width_ratios": widths}, squeeze=False)
    for axis, image, label in zip(axes[0], images, labels):
        axis.imshow(image, interpolation="nearest")
        axis.set_title(label, fontsize=8)
        axis.set_ylim(tallest, 0)
        axis.axis("off")
    figure.tight_layout()
    return _save_figure(figure, path)


def _save_figure(figure: Any, path: Path) -> Path:
    """Write ``figure`` as a PNG atomically (folder created); an unwritable file raises InfoganError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, lambda temporary: figure.savefig(temporary, format="png"))
