"""What every objective is: its phases (each with its handler), its schedules and its state.

An objective owns every forward and backward pass of its model. It declares its phases, and
each :class:`Phase` names the optimizer it steps, how often it runs and the handler that computes
its losses, so a phase name is written once. The loop only schedules: per step it calls
:meth:`Objective.start_step`, then for every due phase ``phase.run(batch, ctx)`` (once per
micro-batch, ``phase.repeats`` times), then steps ``phase.optimizer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import torch

if TYPE_CHECKING:
    from ..training.context import Batch, PhaseContext

PhaseHandler = Callable[["Batch", "PhaseContext"], None]
"""``handler(batch, ctx)``: compute a phase's losses on ``batch`` and call ``ctx.backward`` on them."""


@dataclass(frozen=True)
class Phase:
    """One optimizer update the loop schedules.

    Attributes:
        name: shown in logs and errors (``"D"``, ``"G"``, ``"H"``, ``"Dreg"``...).
        optimizer: key of the optimizer (and GradScaler) the phase steps; only that
            optimizer's parameters get gradients in the phase.
        run: the handler computing the phase's losses (see :data:`PhaseHandler`).
        interval: run on steps where ``step % interval == 0`` (lazy regularization).
        repeats: updates per scheduled step (e.g. two G steps per iteration).
    """

    name: str
    optimizer: str
    run: PhaseHandler
    interval: int = 1
    repeats: int = 1

    def due(self, step: int) -> bool:
        """Whether the phase runs at ``step``."""
        return step % self.interval == 0


class Objective:
    """Base of every objective: phases, a step hook for schedules, checkpointed state.

    Subclasses set :attr:`phases` in ``__init__`` (through :meth:`declare_phases`) and override
    :meth:`start_step`, :meth:`state_dict` and :meth:`load_state_dict` when they have schedules
    or state.

    Attributes:
        phases: what the loop runs each step, in order.
        step: the training step the schedules were last applied for.
    """

    def __init__(self) -> None:
        self.step = 0
        self.phases: list[Phase] = self.declare_phases()

    def declare_phases(self) -> list[Phase]:
        """The objective's phases, in the order the loop runs them."""
        raise NotImplementedError

    def start_step(self, step: int) -> None:
        """Apply the schedules of ``step`` (called by the loop before the step's phases)."""
        self.step = step

    @staticmethod
    def device_of(*networks: Any) -> torch.device:
        """The device of the first parameter among ``networks`` (CPU when they have none)."""
        for network in networks:
            for parameter in network.parameters():
                return parameter.device
        return torch.device("cpu")

    def state_dict(self) -> dict[str, Any]:
        """State beyond networks and optimizers that a resume needs (schedules, running means)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
