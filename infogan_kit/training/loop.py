"""The training loop: schedules phases, precision, accumulation, EMA, logging, checkpoints.

It knows nothing about a specific model: the registered
:class:`~infogan_kit.recipes.base.Model` builds its networks, EMA copies, optimizers and
objective, and the objective owns every forward and backward pass. Per step the loop applies
the objective's schedules (``start_step``), draws one global batch, runs each due phase's handler
(freezing every parameter its optimizer does not own), steps the optimizer through its GradScaler
(which skips non-finite steps on the device; :mod:`~infogan_kit.training.skip` restores the
buffers and freezes the EMA of a skipped step), updates the EMA copies, and every N steps reads
the scalars.
"""

from __future__ import annotations

import math
import signal
import threading
import time
from pathlib import Path
from typing import Any

import torch

from ..config import RunConfig, config_to_dict
from ..data import load_dataset
from ..devices import resolve_device
from ..errors import InfoganError
from ..models.rng import random_source
from ..objectives.base import Phase
from ..recipes import get_model
from ..recipes.base import restore_weights
from ..versions import library_versions
from . import stats
from .checkpoint import save_checkpoint
from .context import Batch, PhaseContext, make_scaler, resolve_precision
from .data import make_batches
from .distributed import DistributedContext, any_rank, average_gradients, broadcast_module, gather_objects
from .ema import update_ema
from .logger import RunLogger
from .skip import BufferGuard, step_unless_non_finite


class TrainingStopped(InfoganError):
    """Training stopped on an error after saving a checkpoint (e.g. too many skipped steps)."""


class Trainer:
    """Runs one training run in ``run_dir`` (fresh, or resumed from ``resume_state``).

    Args:
        config: the validated run configuration.
        run_dir: the run directory (created by the caller).
        resume_state: a loaded checkpoint to continue from, or None.
        distributed: rank and world size under torchrun (rank 0 logs and checkpoints).
    """

    def __init__(
        self,
        config: RunConfig,
        run_dir: Path,
        resume_state: dict[str, Any] | None = None,
        distributed: DistributedContext | None = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.dist = distributed or DistributedContext()
        self.rank, self.world_size = self.dist.rank, self.dist.world_size
        train = config.train
        self.device = resolve_device(train.device)
        if self.dist.enabled and self.device.type == "cuda":
            self.device = torch.device("cuda", self.dist.local_rank)
            torch.cuda.set_device(self.device)
        if train.threads:
            torch.set_num_threads(train.threads)
        if self.device.type == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.backends.cudnn.allow_tf32 = True
        self.precision, self.precision_reason = resolve_precision(train.precision, self.device)
        self.dataset = load_dataset(config.data.name, path=config.data.path, **config.data.options)
        torch.manual_seed(train.seed)
        self.model = get_model(config.model.name)(config, self.dataset.image_shape, self.device)
        parts = self.model.build_training()
        self.optimizers, self.objective = parts.optimizers, parts.objective
        for network in list(self.model.networks.values()) + list(self.model.ema.values()):
            broadcast_module(network, self.dist)
        if train.compile:
            for network in self.model.networks.values():
                network.compile()
        # fp16 scales losses; fp32/bf16 need no GradScaler: the fused optimizers skip non-finite steps themselves
        self.scalers = {name: make_scaler(self.precision, self.device) for name in self.optimizers} if self.precision == "fp16" else {}
        # procedural data is drawn and rendered on the training device, by a generator there
        data_device = self.device if getattr(self.dataset, "variant", "") == "procedural" else torch.device("cpu")
        self.data_rng = torch.Generator(data_device).manual_seed(train.seed * 1000 + self.rank)
        self.latent_rng = torch.Generator(self.device).manual_seed(train.seed * 1000 + 500 + self.rank)
        self.ctx = PhaseContext(self.precision, self.device, self.latent_rng, train.channels_last)
        self.step = 0
        self.images_seen = 0
        self.wall_s = 0.0
        self.skipped_total = torch.zeros((), dtype=torch.long, device=self.device)
        self.skipped_consecutive = torch.zeros((), dtype=torch.long, device=self.device)
        self._stop_signal: int | None = None
        self._owned = {name: {id(p) for group in opt.param_groups for p in group["params"]} for name, opt in self.optimizers.items()}
        self._all_params = [p for net in self.model.networks.values() for p in net.parameters()]
        self.buffer_guard = BufferGuard(list(self.model.networks.values()))
        self._all_finite = torch.ones((), dtype=torch.bool, device=self.device)
        self._ema_weight = torch.zeros((), dtype=torch.float32, device=self.device)
        if resume_state is not None:
            self.load_state(resume_state)
        if train.batch_size % self.world_size:
            raise InfoganError(f"batch size {train.batch_size} does not split evenly across {self.world_size} ranks")
        self.batch_size_local = train.batch_size // self.world_size
        self.batches = make_batches(
            self.dataset, self.batch_size_local, self.data_rng, self.device, config.data.num_workers, train.channels_last, self.step
        )

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly: models, EMA, optimizers, scalers, RNG, counters."""
        model = self.model
        return {
            "model": self.config.model.name,
            "family": model.family,
            "config": config_to_dict(self.config),
            "versions": library_versions(),
            "precision": self.precision,
            "step": self.step,
            "images_seen": self.images_seen,
            "wall_s": self.wall_s,
            "skipped_steps": int(self.skipped_total),
            "image_shape": list(self.dataset.image_shape),
            "networks": {n: net.state_dict() for n, net in model.networks.items()},
            "ema": {n: net.state_dict() for n, net in model.ema.items()},
            "optimizers": {n: opt.state_dict() for n, opt in self.optimizers.items()},
            "scalers": {n: s.state_dict() for n, s in self.scalers.items()},
            "rng": self._rng_states()[0],
            "rng_per_rank": self._rng_states(),
            "world_size": self.world_size,
            "system": self.objective.state_dict(),  # the objective's state (key name kept from format 1)
        }

    def load_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (the networks must match the config)."""
        if state.get("inference_only"):
            raise InfoganError(
                "this checkpoint was exported for inference only (no optimizer or RNG state): it can be sampled, "
                "traversed and evaluated, but not resumed"
            )
        source = f"checkpoint of {self.run_dir}"
        restore_weights(self.model, state, source)
        try:
            for name, optimizer in self.optimizers.items():
                optimizer.load_state_dict(state["optimizers"][name])
            for name, scaler in self.scalers.items():
                if state["scalers"].get(name):
                    scaler.load_state_dict(state["scalers"][name])
        except (KeyError, RuntimeError, ValueError) as error:
            raise InfoganError(f"{source}: optimizer states do not match the {self.config.model.name} model: "
                               f"{str(error).splitlines()[0][:200]}") from None
        self.objective.load_state_dict(state.get("system", {}))
        self.step = int(state["step"])
        self.images_seen = int(state["images_seen"])
        self.wall_s = float(state["wall_s"])
        self.skipped_total.fill_(int(state.get("skipped_steps", 0)))
        per_rank = state.get("rng_per_rank") or [state["rng"]]
        if self.rank < len(per_rank):
            rng = per_rank[self.rank]
            torch.set_rng_state(rng["torch_cpu"])
            if rng.get("torch_cuda") and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(rng["torch_cuda"])
            self._restore_stream(self.data_rng, rng["data"], self._resume_seed())
            self._restore_stream(self.latent_rng, rng["latent"], self._resume_seed() + 500)
        else:  # more ranks than the checkpoint had: seed the new ones from the step
            self.data_rng.manual_seed(self._resume_seed())
            self.latent_rng.manual_seed(self._resume_seed() + 500)

    @staticmethod
    def _restore_stream(rng: torch.Generator, saved: torch.Tensor, fallback_seed: int) -> None:
        """Continue ``rng`` from ``saved``; a state of another device type (CPU Mersenne Twister vs
        CUDA Philox) cannot enter it, so it then starts a new stream from ``fallback_seed``."""
        current = rng.get_state()
        if saved.numel() == current.numel():
            rng.set_state(saved.to(current.device))
        else:
            rng.manual_seed(fallback_seed)

    def _resume_seed(self) -> int:
        """Seed of a stream that cannot continue from the checkpoint (new rank, other device)."""
        return self.config.train.seed * 1000 + self.rank + 7919 * self.step

    def _rng_states(self) -> list[dict[str, Any]]:
        """Every rank's RNG states (a collective call under DDP)."""
        local = {
            "torch_cpu": torch.get_rng_state(),
            "torch_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "data": self.data_rng.get_state().cpu(),
            "latent": self.latent_rng.get_state().cpu(),
        }
        return gather_objects(local, self.dist)

    def save(self) -> Path | None:
        """Write a checkpoint; every rank must call it (RNG states are gathered), rank 0 writes."""
        state = self.state_dict()
        if self.rank != 0:
            return None
        return save_checkpoint(state, self.run_dir, self.step, self.config.train.keep_checkpoints)

    # ------------------------------------------------------------------ one step
    def _run_phase(self, phase: Phase, batch: Batch) -> torch.Tensor | None:
        """One update of ``phase``; returns whether its gradients were finite (None: it had none)."""
        optimizer = self.optimizers[phase.optimizer]
        scaler = self.scalers.get(phase.optimizer)
        owned = self._owned[phase.optimizer]
        for param in self._all_params:
            param.requires_grad_(id(param) in owned)
        optimizer.zero_grad(set_to_none=True)
        self.buffer_guard.snapshot()
        self.ctx.scaler = scaler
        self.ctx.loss_divisor = self.config.train.accumulation
        with random_source(self.latent_rng):  # the networks' own draws (StyleGAN noise, style mixing) too
            for chunk in batch.chunks(self.config.train.accumulation):
                phase.run(chunk, self.ctx)
        grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
        if not grads:
            return None  # the objective had nothing to do in this phase (e.g. a weight scheduled to 0)
        average_gradients(grads, self.dist)
        if scaler is not None:
            scaler.unscale_(optimizer)
        grad_norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
        stats.report(f"Grad/{phase.optimizer}_norm", grad_norm)
        finite = torch.isfinite(grad_norm)
        self.buffer_guard.restore_unless(finite)
        self.skipped_total += (~finite).long()
        self.skipped_consecutive.copy_(torch.where(finite, torch.zeros_like(self.skipped_consecutive), self.skipped_consecutive + 1))
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            step_unless_non_finite(optimizer, finite)
        return finite

    def train_step(self) -> None:
        """One iteration: the step's schedule values written to the device, then :meth:`compute_step`."""
        self.apply_schedules()
        self.compute_step()

    def apply_schedules(self) -> None:
        """Host-side writes of this step's schedule values (the objective's ramps, the EMA ramp)
        into their device tensors; everything after them runs the same ops at every step."""
        self.objective.start_step(self.step)
        # EMA ramp-up: a short run's average must not be dominated by the initial weights.
        self._ema_weight.fill_(1.0 - min(self.config.train.ema_beta, (1 + self.step) / (10 + self.step)))

    def compute_step(self) -> None:
        """A global batch, every due phase, the EMA update (frozen if a phase was skipped)."""
        batch = next(self.batches)
        step_finite = self._all_finite
        for phase in self.objective.phases:
            if phase.due(self.step):
                for _ in range(phase.repeats):
                    finite = self._run_phase(phase, batch)
                    step_finite = step_finite if finite is None else step_finite & finite
        if self.dist.enabled:  # rank 0's buffers everywhere, before the EMA copies them
            for network in self.model.networks.values():
                broadcast_module(network, self.dist, buffers_only=True)
        weight = self._ema_weight * step_finite
        for name, ema_network in self.model.ema.items():
            update_ema(ema_network, self.model.networks[name], weight)
        self.step += 1
        self.images_seen += self.config.train.batch_size

    # ------------------------------------------------------------------ signals
    def _on_signal(self, signum: int, frame: Any) -> None:
        self._stop_signal = signum

    def _install_signal_handlers(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        previous = {}
        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, self._on_signal)
        return previous

    # ------------------------------------------------------------------ the run
    def run(self, logger: RunLogger, periodic: "PeriodicTasks") -> str:
        """Train until ``train.steps``, the time budget, a signal or too many skipped steps.

        Returns:
            the stop reason: ``"completed"``, ``"time_budget"`` or ``"signal"``.
        """
        train = self.config.train
        budget_s = train.time_budget_min * 60 if train.time_budget_min else math.inf
        previous = self._install_signal_handlers()
        session_start = time.monotonic()
        wall_at_start = self.wall_s
        last_log = (time.monotonic(), self.images_seen)
        reason = "completed"
        try:
            while self.step < train.steps:
                self.train_step()
                self.wall_s = wall_at_start + time.monotonic() - session_start
                logger.advance()
                sync_now = self.device.type == "cpu" or self.step % train.log_every == 0
                if sync_now and int(self.skipped_consecutive) >= train.max_consecutive_skips:
                    self.save()
                    raise TrainingStopped(
                        f"stopped after {int(self.skipped_consecutive)} consecutive steps with non-finite losses or "
                        f"gradients (step {self.step}); a checkpoint was saved in {self.run_dir}. Lower the learning "
                        "rates or use --precision fp32."
                    )
                if self.step % train.log_every == 0:
                    now = time.monotonic()
                    values = stats.collect()
                    values["Perf/img_per_s"] = (self.images_seen - last_log[1]) / max(now - last_log[0], 1e-9)
                    values["Steps/skipped"] = float(int(self.skipped_total))
                    values["AMP/scale"] = float(next(iter(self.scalers.values())).get_scale()) if self.scalers else 1.0
                    last_log = (now, self.images_seen)
                    logger.scalars(self.step, self.images_seen, self.wall_s, values)
                periodic.after_step(self)
                stop_signal = any_rank(self._stop_signal is not None, self.dist, self.device)
                out_of_time = any_rank(self.wall_s - wall_at_start >= budget_s, self.dist, self.device)
                if stop_signal:
                    reason = "signal"
                    break
                if out_of_time:
                    reason = "time_budget"
                    break
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        return reason


class PeriodicTasks:
    """Checkpoints, sample/traversal grids and fast metrics every N steps (rank 0)."""

    def __init__(self, artifacts: Any) -> None:
        self.artifacts = artifacts

    def after_step(self, trainer: Trainer) -> None:
        train = trainer.config.train
        step = trainer.step
        if step >= train.steps:
            return  # the final step is handled by the caller
        if train.checkpoint_every and step % train.checkpoint_every == 0:
            trainer.save()  # collective: every rank takes part
        if trainer.rank != 0:
            return
        if train.sample_every and step % train.sample_every == 0:
            self.artifacts.write_images(trainer.model, step, trainer.dataset)
        if train.metrics_every > 0 and step % train.metrics_every == 0:
            self.artifacts.fast_metrics(trainer.model, trainer.dataset, step)
