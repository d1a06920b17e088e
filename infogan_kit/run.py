"""A trained run: ``infogan_kit.load_run(path)`` gives everything sample/traverse/evaluate need.

A run directory is self-describing: its newest checkpoint holds the networks, their EMA copies,
the resolved config and the versions, so no other file is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from .config import RunConfig
from .errors import CheckpointError, InfoganError
from .training.checkpoint import load_checkpoint, resolve_checkpoint


class Run:
    """A trained model loaded from a run directory or checkpoint file.

    Attributes:
        run_dir: the run directory.
        checkpoint: the checkpoint file loaded.
        config: the typed RunConfig the run was trained with.
        step, images_seen, wall_s: progress recorded in the checkpoint.
        system: the TrainingSystem (networks with their EMA copies) in eval mode.
        stop_reason: set by ``train`` (completed / time_budget / signal); None when loaded.
    """

    def __init__(self, run_dir: Path, checkpoint: Path | None, config: RunConfig, meta: dict[str, Any], system: Any, data_path: str | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.checkpoint = checkpoint
        self.config = config
        self.meta = meta
        self.system = system
        self.step = int(meta.get("step", 0))
        self.images_seen = int(meta.get("images_seen", 0))
        self.wall_s = float(meta.get("wall_s", 0.0))
        self.stop_reason: str | None = None
        self._data_path = data_path
        self._dataset = None

    @classmethod
    def from_trainer(cls, trainer: Any) -> "Run":
        """Wrap a finished Trainer (no reload from disk)."""
        from .training.checkpoint import list_checkpoints

        checkpoints = list_checkpoints(trainer.run_dir)
        meta = {"step": trainer.step, "images_seen": trainer.images_seen, "wall_s": trainer.wall_s,
                "model": trainer.config.model.name, "family": trainer.system.family}
        run = cls(trainer.run_dir, checkpoints[-1] if checkpoints else None, trainer.config, meta, trainer.system)
        run._dataset = trainer.dataset
        return run

    # ------------------------------------------------------------------ properties
    @property
    def model_name(self) -> str:
        return self.config.model.name

    @property
    def family(self) -> str:
        """``gan`` or ``vae``."""
        return self.system.family

    @property
    def device(self) -> torch.device:
        return self.system.device

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
        return self.system.code_names()

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def represent(self, images: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """Images ``[n, C, H, W]`` in [0, 1] -> codes ``[n, D]`` (Q's mean / encoder mean), on CPU."""
        outputs = []
        for start in range(0, len(images), batch_size):
            chunk = images[start : start + batch_size].to(self.device)
            outputs.append(self.system.represent(chunk).float().cpu())
        return torch.cat(outputs) if outputs else torch.zeros(0, len(self.code_names()))

    def set_truncation(self, psi: float) -> None:
        """Truncate later samples and traversals (style-based models; psi in [0, 1], 1: none)."""
        self.system.set_truncation(psi)

    @torch.no_grad()
    def generate(self, num_images: int, seed: int = 0) -> torch.Tensor:
        """``num_images`` samples ``[n, C, H, W]`` in [0, 1] (EMA generator), on CPU."""
        if num_images <= 0:
            raise InfoganError(f"number of images must be positive, got {num_images}")
        generator = torch.Generator(self.device).manual_seed(seed)
        return self.system.generate(num_images, generator).cpu()

    @torch.no_grad()
    def traversal(self, codes: list[str] | None = None, columns: int = 10, value_range: tuple[float, float] = (-1.0, 1.0), seed: int = 0) -> list[tuple[str, torch.Tensor]]:
        """One row per code: ``(name, images [values, C, H, W])``; everything else fixed."""
        if columns < 2:
            raise InfoganError(f"--columns must be >= 2, got {columns}")
        generator = torch.Generator(self.device).manual_seed(seed)
        dataset = self.dataset if self.system.needs_data_for_traversal else None
        rows = self.system.traversal_rows(codes, columns, value_range, generator, dataset=dataset)
        return [(name, images.cpu()) for name, images in rows]


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
        generate = (lambda n, generator: self.system.generate(n, generator)) if self.family == "gan" else None
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
        generator = torch.Generator().manual_seed(seed)
        if size is None:
            order = torch.randperm(dataset.num_combinations, generator=generator)
            factors = dataset.index_to_factors(order)
        else:
            if size <= 0:
                raise InfoganError(f"the number of codes must be positive, got {size}")
            factors = dataset.sample_factors(size, generator)
        codes = []
        for start in range(0, len(factors), batch_size):
            chunk = factors[start : start + batch_size]
            images = dataset.images(chunk, device=self.device, generator=generator)
            codes.append(self.system.represent(images).float().cpu())
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.tmp.npz")
        np.savez(temp, codes=torch.cat(codes).numpy(), factors=factors.numpy(),
                 factor_sizes=np.asarray(dataset.factor_sizes), dataset=np.asarray(dataset.name))
        import os

        os.replace(temp, target)
        return target


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
    from .recipes import config_from_dict, get_recipe
    from .training.loop import resolve_device

    checkpoint = resolve_checkpoint(path)
    target = resolve_device(str(device) if device is not None else "auto")
    state = load_checkpoint(checkpoint, map_location=target)
    try:
        config = config_from_dict(state["config"])
        recipe = get_recipe(config.model.name)
    except (ConfigError, KeyError, TypeError) as error:
        raise CheckpointError(f"{checkpoint}: incompatible checkpoint config ({error})") from None
    if state.get("model") != config.model.name:
        raise CheckpointError(f"{checkpoint}: checkpoint model {state.get('model')!r} does not match its config")
    config.train.device = str(target)
    image_shape = tuple(state["image_shape"])
    torch.manual_seed(0)
    system = recipe.build(config, image_shape, target)
    try:
        for name, network in system.networks.items():
            network.load_state_dict(state["networks"][name])
        for name, network in system.ema.items():
            network.load_state_dict(state["ema"][name])
    except (KeyError, RuntimeError) as error:
        raise CheckpointError(f"{checkpoint}: weights do not match the {config.model.name} model ({str(error).splitlines()[0][:160]})") from None
    system.load_extra_state(state.get("system", {}))
    for network in list(system.networks.values()) + list(system.ema.values()):
        network.eval()
    meta = {k: state.get(k) for k in ("step", "images_seen", "wall_s", "model", "family", "versions", "precision")}
    run_dir = Path(path) if Path(path).is_dir() else checkpoint.parent
    return Run(run_dir, checkpoint, config, meta, system, data_path=data_path)
