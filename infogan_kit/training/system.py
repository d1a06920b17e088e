"""The contract between a model recipe and the training loop.

A recipe (``infogan_kit/recipes/``) builds a :class:`TrainingSystem`: its networks, their EMA
copies, optimizers, the phases the loop schedules, and the objective that owns every forward
and backward pass. The loop knows nothing else about a model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
from torch import nn

from .context import Batch, PhaseContext


class Objective(Protocol):
    """Owns the forward and backward passes of its phases."""

    def accumulate_gradients(self, phase: str, batch: Batch, ctx: PhaseContext) -> None:
        """Compute the losses of ``phase`` on ``batch`` and call ``ctx.backward`` on them."""


@dataclass
class Phase:
    """One optimizer update the loop schedules every ``interval`` steps.

    Attributes:
        name: the objective's phase name (``"D"``, ``"G"``, ``"H"``, ``"Dreg"``...).
        optimizer: key of the optimizer (and GradScaler) the phase steps.
        trainable: names of the networks that get gradients in this phase (others are frozen).
        interval: run on steps where ``step % interval == 0`` (lazy regularization).
        repeats: how many updates per scheduled step (e.g. two G steps per iteration).
    """

    name: str
    optimizer: str
    trainable: list[str] = field(default_factory=list)
    interval: int = 1
    repeats: int = 1


class TrainingSystem:
    """Networks, EMA copies, optimizers, phases and objective of one model.

    Subclasses (one per recipe) set these attributes in ``__init__`` and implement
    :meth:`represent`, :meth:`generate` and :meth:`traversal_rows`.

    Attributes:
        networks: trained modules by name (saved in checkpoints).
        ema: EMA copies by name (subset of ``networks``' names); used for sampling/representing.
        optimizers: by name.
        phases: what the loop runs each step, in order.
        objective: the losses.
        family: ``"gan"`` or ``"vae"``.
    """

    family = "gan"
    needs_data_for_traversal = False
    """True when :meth:`traversal_rows` encodes real images (VAEs): callers then pass ``dataset``."""

    def __init__(self) -> None:
        self.networks: dict[str, nn.Module] = {}
        self.ema: dict[str, nn.Module] = {}
        self.optimizers: dict[str, torch.optim.Optimizer] = {}
        self.phases: list[Phase] = []
        self.objective: Objective | None = None

    # ------------------------------------------------------------------ helpers for subclasses
    def make_ema(self, *names: str) -> None:
        """Create frozen EMA copies of the named networks."""
        for name in names:
            ema_network = copy.deepcopy(self.networks[name]).eval()
            ema_network.requires_grad_(False)
            self.ema[name] = ema_network

    def inference_network(self, name: str) -> nn.Module:
        """The EMA copy of ``name`` when there is one, else the trained network."""
        return self.ema.get(name, self.networks[name])

    # ------------------------------------------------------------------ hooks
    def start_step(self, step: int) -> None:
        """Called before each step (schedules, re-initializations). Default: nothing."""

    def extra_state(self) -> dict[str, Any]:
        """Recipe state beyond networks/optimizers to checkpoint (schedules, EMAs of stats)."""
        return {}

    def load_extra_state(self, state: dict[str, Any]) -> None:
        """Restore :meth:`extra_state`."""

    # ------------------------------------------------------------------ inference
    @property
    def device(self) -> torch.device:
        """Device of the first network's parameters."""
        return next(iter(self.networks.values())).parameters().__next__().device

    def represent(self, images: torch.Tensor) -> torch.Tensor:
        """Images ``[n, C, H, W]`` in [0, 1] -> codes ``[n, D]`` (what the metrics score)."""
        raise NotImplementedError

    def generate(self, num_images: int, generator: torch.Generator) -> torch.Tensor:
        """``num_images`` samples ``[n, C, H, W]`` in [0, 1] from the EMA generator."""
        raise NotImplementedError

    def code_names(self) -> list[str]:
        """Names of the representation's dimensions (one per regularized code / latent)."""
        raise NotImplementedError

    def set_truncation(self, psi: float) -> None:
        """Truncate what :meth:`generate` and traversals draw (``psi`` in [0, 1]; 1: none).

        Only style-based generators have a truncation centre (the running mean of w); the
        others raise :class:`~infogan_kit.errors.InfoganError`.
        """
        from ..errors import InfoganError

        raise InfoganError(f"truncation needs a style-based generator (e.g. stylegan-info); this {type(self).__name__} has none")

    def traversal_rows(
        self,
        codes: list[str] | None,
        columns: int,
        value_range: tuple[float, float],
        generator: torch.Generator,
        dataset: Any = None,
    ) -> list[tuple[str, torch.Tensor]]:
        """One row per code: ``(label, images [columns_or_classes, C, H, W])``, everything else fixed.

        ``dataset`` is given when :attr:`needs_data_for_traversal` is true (to encode a real image).
        """
        raise NotImplementedError

    def extra_images(self, dataset: Any, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """More image sets to log with the samples, e.g. ``{"Reconstructions": [n, C, H, W]}``."""
        return {}
