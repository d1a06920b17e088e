"""A trained run: ``infogan_kit.load_run(path)`` gives everything sample/traverse/evaluate need.

A run directory is self-describing: its newest checkpoint holds the networks, their EMA copies,
the resolved config and the versions, so no other file is needed. Loading builds only what
inference needs (the model's networks and EMA copies): no optimizer, no objective, and nothing
of the training loop is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .config import RunConfig
from .errors import CheckpointError, InfoganError
from .recipes.base import Model, map_batches, restore_weights
from .training.checkpoint import load_checkpoint, resolve_checkpoint


class Run:
    """A trained model loaded from a run directory or checkpoint file.

    Attributes:
        run_dir: the run directory.
        checkpoint: the checkpoint file loaded.
        config: the typed RunConfig the run was trained with.
        step, images_seen, wall_s: progress recorded in the checkpoint.
        model: the :class:`~infogan_kit.recipes.base.Model` (networks with their EMA copies) in eval mode.
        stop_reason: set by ``train`` (completed / time_budget / signal); None when loaded.
    """

    def __init__(self, run_dir: Path, checkpoint: Path | None, config: RunConfig, meta: dict[str, Any], model: Model,
                 data_path: str | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.checkpoint = checkpoint
        self.config = config
        self.meta = meta
        self.model = model
        self.step = int(meta.get("step", 0))
        self.images_seen = int(meta.get("images_seen", 0))
        self.wall_s = float(meta.get("wall_s", 0.0))
        self.stop_reason: str | None = None
        self._data_path = data_path
        self._dataset = None

    @classmethod
    def from_trainer(cls, trainer: Any, checkpoint: Path | None = None) -> "Run":
        """Wrap a finished Trainer (no reload from disk); ``checkpoint``: the one its last save wrote."""
        meta = {"step": trainer.step, "images_seen": trainer.images_seen, "wall_s": trainer.wall_s,
                "model": trainer.config.model.name, "family": trainer.model.family}
        run = cls(trainer.run_dir, checkpoint, trainer.config, meta, trainer.model)
        run._dataset = trainer.dataset
        return run

    # ------------------------------------------------------------------ properties
    @property
    def model_name(self) -> str:
        return self.config.model.name

    @property
    def family(self) -> str:
        """The model's declared family label (``gan`` or ``vae``; reports group by it)."""
        return self.model.family

    @property
    def device(self) -> torch.device:
        return self.model.device

    @property
    def dataset(self) -> Any:
        """The run's dataset (``data_path`` given to load_run overrides the recorded path)."""
        if self._dataset is None:
            from .data import load_dataset

            path = self._data_path or self.config.data.path
            self._dataset = load_dataset(self.config.data.name, path=path, **self.config.data.options)
        return self._dataset

    def code_names(self) -> list[str]:
        """Names of the representation's dimensions."""
        return self.model.code_names()

    # ------------------------------------------------------------------ inference
    def represent(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """Images ``[n, C, H, W]`` in [0, 1] -> codes ``[n, D]`` (Q's mean / encoder mean), on CPU."""
        if not len(images):
            return torch.zeros(0, len(self.code_names()))
        return map_batches(self.model.represent, images, batch_size, self.device)

    def latent_activity(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """How active each code is on ``images`` (the model's measure; float64 ``[D]``)."""
        return self.model.latent_activity(images, batch_size)

    def set_truncation(self, psi: float) -> None:
        """Truncate later samples and traversals (style-based models; psi in [0, 1], 1: none)."""
        self.model.set_truncation(psi)

    @torch.no_grad()
    def generate(self, num_images: int, seed: int = 0) -> torch.Tensor:
        """``num_images`` samples ``[n, C, H, W]`` in [0, 1] (EMA generator), on CPU."""
        if num_images <= 0:
            raise InfoganError(f"number of images must be positive, got {num_images}")
        return self.model.generate(num_images, torch.Generator(self.device).manual_seed(seed)).cpu()

    @torch.no_grad()
    def traversal(self, codes: list[str] | None = None, columns: int = 10, value_range: tuple[float, float] | None = None,
                  seed: int = 0) -> list[tuple[str, torch.Tensor]]:
        """One row per code: ``(name, images [values, C, H, W])``; everything else fixed.

        ``value_range`` defaults to the model's :attr:`~infogan_kit.recipes.base.Model.traversal_range`.
        """
        if columns < 2:
            raise InfoganError(f"--columns must be >= 2, got {columns}")
        rng = torch.Generator(self.device).manual_seed(seed)
        dataset = self.dataset if self.model.traversal_needs_data else None
        rows = self.model.traversal_rows(codes, columns, value_range or self.model.traversal_range, rng, dataset=dataset)
        return [(name, images.cpu()) for name, images in rows]

    @torch.no_grad()
    def style_mixing_rows(self, columns: int, seed: int = 0) -> list[tuple[str, torch.Tensor]]:
        """A style-mixing grid as traversal rows (style-based models; others raise InfoganError)."""
        rows = self.model.style_mixing_rows(columns, torch.Generator(self.device).manual_seed(seed))
        return [(label, images.cpu()) for label, images in rows]


    # ------------------------------------------------------------------ evaluation
    def evaluate(self, names: str = "all", protocol: str = "dlib", seed: int = 0, merge: bool = True) -> dict[str, Any]:
        """Score the run's representation on real dataset images with the metric suite.

        The result object records the run (directory, model, step, checkpoint) and, with
        ``merge``, is merged into the run's ``metrics.json`` (one object per protocol).
        """
        from . import metrics
        from .errors import MetricError

        dataset = self.dataset
        if not dataset.has_factors:
            raise MetricError(f"dataset {dataset.name!r} has no ground-truth factors: the metrics need a dataset with factors")
        generate = self.model.generate if self.model.scores_generated_images else None
        result = metrics.evaluate(self.represent, dataset, names=names, protocol=protocol, seed=seed, device=self.device,
                                  generate=generate)
        result["config"]["run"] = {"directory": str(self.run_dir), "checkpoint": str(self.checkpoint), "model": self.model_name,
                                   "family": self.family, "step": self.step, "code_names": self.code_names()}
        if merge:
            metrics.merge_into_metrics_file(self.run_dir / "metrics.json", result)
        return result

    @torch.no_grad()
    def save_codes(self, path: str | Path, size: int | None = None, seed: int = 0, batch_size: int = 512) -> Path:
        """Write codes and factors in the ``infogan evaluate --codes`` format (rows shuffled).

        Args:
            path: the ``.npz`` file to write.
            size: number of rows; None = the whole factor grid (every factor combination once,
                so the sampling metrics can use it as a lookup table).
            seed: shuffling / sampling seed.
        """
        import numpy as np

        from .errors import MetricError

        dataset = self.dataset
        if not dataset.has_factors:
            raise MetricError(f"dataset {dataset.name!r} has no ground-truth factors to save codes against")
        from .metrics.codes_file import write_codes_file
        from .metrics.sampling import model_representation

        rng = torch.Generator().manual_seed(seed)
        if size is None:
            factors = dataset.index_to_factors(torch.randperm(dataset.num_combinations, generator=rng))
        else:
            if size <= 0:
                raise InfoganError(f"the number of codes must be positive, got {size}")
            factors = dataset.sample_factors(size, rng)
        represent = model_representation(self.model.represent, dataset, device=self.device, batch_size=batch_size, generator=rng)
        codes = represent(factors).astype(np.float32)
        return write_codes_file(path, codes, factors.numpy(), dataset.factor_sizes, dataset.name)


def load_run(path: str | Path, data_path: str | None = None, device: str | torch.device | None = None) -> Run:
    """Load a run directory (its newest checkpoint) or a checkpoint file.

    Args:
        path: run directory or ``checkpoint-*.pt`` file.
        data_path: overrides a file dataset's recorded path.
        device: where to put the networks (default: CUDA when available, else CPU).

    Raises:
        CheckpointError: missing, corrupt, foreign, crafted or incompatible checkpoints.
    """
    from .config import ConfigError
    from .devices import resolve_device
    from .recipes import config_from_dict, get_model

    checkpoint = resolve_checkpoint(path)
    target = resolve_device(device)
    state = load_checkpoint(checkpoint, map_location=target)
    try:
        config = config_from_dict(state["config"])
        model_class = get_model(config.model.name)
    except (ConfigError, KeyError, TypeError) as error:
        raise CheckpointError(f"{checkpoint}: incompatible checkpoint config ({error})") from None
    if state.get("model") != config.model.name:
        raise CheckpointError(f"{checkpoint}: checkpoint model {state.get('model')!r} does not match its config")
    config.train.device = str(target)
    image_shape = tuple(state["image_shape"])
    torch.manual_seed(0)
    model = model_class(config, image_shape, target)
    restore_weights(model, state, str(checkpoint))
    model.eval()
    meta = {k: state.get(k) for k in ("step", "images_seen", "wall_s", "model", "family", "versions", "precision")}
    run_dir = Path(path) if Path(path).is_dir() else checkpoint.parent
    return Run(run_dir, checkpoint, config, meta, model, data_path=data_path)
