"""What a run writes besides checkpoints: sample and traversal grids, fast metrics."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..recipes.base import Model
from ..viz import sample_grid, save_image, traversal_image
from .logger import RunLogger

SAMPLE_SEED = 1234
"""Fixed seed of the sample and traversal grids, so grids of different steps are comparable."""


class RunArtifacts:
    """Writes ``samples/``, ``traversals/`` and ``metrics.json`` of a run directory."""

    def __init__(self, run_dir: Path, logger: RunLogger) -> None:
        self.run_dir = Path(run_dir)
        self.logger = logger

    def write_images(self, model: Model, step: int, dataset: Any = None) -> None:
        """Sample grid (64 images), traversal grid and the model's extra image sets at ``step``
        (PNG + TensorBoard)."""
        samples = sample_grid(model.generate(64, self._rng(model)))
        save_image(samples, self.run_dir / "samples" / f"step-{step:08d}.png")
        self.logger.image("Samples", samples, step)
        rows = model.traversal_rows(None, 10, model.traversal_range, self._rng(model), dataset=dataset)
        traversal = traversal_image(rows)
        save_image(traversal, self.run_dir / "traversals" / f"step-{step:08d}.png")
        self.logger.image("Traversal", traversal, step)
        for name, images in model.extra_images(dataset, self._rng(model)).items():
            grid = sample_grid(images)
            save_image(grid, self.run_dir / "samples" / f"{name.lower()}-{step:08d}.png")
            self.logger.image(name, grid, step)

    @staticmethod
    def _rng(model: Model) -> torch.Generator:
        """A generator on the model's device seeded with :data:`SAMPLE_SEED`."""
        return torch.Generator(model.device).manual_seed(SAMPLE_SEED)

    def fast_metrics(self, model: Model, dataset: Any, step: int) -> dict[str, float]:
        """Fast-protocol metrics of the current EMA representation, logged as ``Metrics/fast/...``;
        merged into ``metrics.json``. Returns flat ``{"mig": ..., "dci/disentanglement": ...}``."""
        if not getattr(dataset, "has_factors", False):
            return {}
        from .. import metrics

        result = metrics.evaluate(model.represent, dataset, names="all", protocol="fast", seed=0, device=model.device)
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
