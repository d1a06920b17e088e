"""What a run writes besides checkpoints: sample and traversal grids, fast metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..viz import sample_grid, save_image, traversal_image
from .logger import RunLogger

SAMPLE_SEED = 1234
"""Fixed seed of the sample and traversal grids, so grids of different steps are comparable."""


class RunArtifacts:
    """Writes ``samples/``, ``traversals/`` and ``metrics.json`` of a run directory."""

    def __init__(self, run_dir: Path, logger: RunLogger) -> None:
        self.run_dir = Path(run_dir)
        self.logger = logger

    def write_images(self, system: Any, step: int, dataset: Any = None) -> None:
        """Sample grid (64 images), traversal grid and the system's extra image sets at ``step``
        (PNG + TensorBoard)."""
        generator = torch.Generator(system.device).manual_seed(SAMPLE_SEED)
        samples = sample_grid(system.generate(64, generator))
        save_image(samples, self.run_dir / "samples" / f"step-{step:08d}.png")
        self.logger.image("Samples", samples, step)
        generator = torch.Generator(system.device).manual_seed(SAMPLE_SEED)
        value_range = (-2.0, 2.0) if system.family == "vae" else (-1.0, 1.0)
        rows = system.traversal_rows(None, 10, value_range, generator, dataset=dataset)
        traversal = traversal_image(rows)
        save_image(traversal, self.run_dir / "traversals" / f"step-{step:08d}.png")
        self.logger.image("Traversal", traversal, step)
        generator = torch.Generator(system.device).manual_seed(SAMPLE_SEED)
        for name, images in system.extra_images(dataset, generator).items():
            grid = sample_grid(images)
            save_image(grid, self.run_dir / "samples" / f"{name.lower()}-{step:08d}.png")
            self.logger.image(name, grid, step)

    def fast_metrics(self, system: Any, dataset: Any, step: int) -> dict[str, float]:
        """Fast-protocol metrics of the current EMA representation, logged as ``Metrics/fast/...``;
        merged into ``metrics.json``. Returns flat ``{"mig": ..., "dci/disentanglement": ...}``."""
        if not getattr(dataset, "has_factors", False):
            return {}
        from .. import metrics

        result = metrics.evaluate(system.represent, dataset, names="all", protocol="fast", seed=0, device=system.device)
        result["config"]["step"] = step
        metrics.merge_into_metrics_file(self.run_dir / "metrics.json", result)
        flat = flatten_scores(result["metrics"])
        self.logger.metric_scalars({f"Metrics/fast/{name}": value for name, value in flat.items()}, step)
        return flat


def flatten_scores(metric_results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """``{"dci": {"disentanglement": 0.3}}`` -> ``{"dci/disentanglement": 0.3}`` (numbers only)."""
    flat = {}
    for metric, values in metric_results.items():
        if not isinstance(values, dict):
            continue
        for key, value in values.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                flat[f"{metric}/{key}" if key != "score" else metric] = float(value)
    return flat
