"""One schedule mechanism for every value that changes with the training step.

InfoGAN-CR's contrastive weight alpha (off until ``alpha_start``) and its gap schedule are
piecewise constant; AnnealedVAE's capacity and the StyleGAN regularizer ramps grow linearly
from 0 and then hold. All are a :class:`Schedule`::

    Schedule.switch_on(288_000, 2.0).at(0)        # 0.0, then 2.0 from step 288,000
    Schedule.piecewise(0.0, [[1000, 0.1]]).at(999) # 0.0 (0.1 from step 1,000)
    Schedule.ramp(25.0, 2000).at(1000)             # 12.5, 25.0 from step 2,000 on
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch

INTERPOLATIONS = ("step", "linear")


@dataclass(frozen=True)
class Schedule:
    """A value over training steps, held constant after the last point.

    Attributes:
        points: ``((step, value), ...)`` sorted by step; the first value also holds before the
            first step.
        interpolation: ``"step"`` (each value holds until the next point) or ``"linear"``
            (straight lines between points).
    """

    points: tuple[tuple[int, float], ...]
    interpolation: str = "step"

    def __post_init__(self) -> None:
        if not self.points:
            raise ValueError("a schedule needs at least one (step, value) point")
        if self.interpolation not in INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {self.interpolation!r}")
        steps = [step for step, _ in self.points]
        if steps != sorted(steps):
            raise ValueError("schedule points must be sorted by step")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def constant(cls, value: float) -> "Schedule":
        """``value`` at every step."""
        return cls(((0, float(value)),))

    @classmethod
    def switch_on(cls, start: int, value: float) -> "Schedule":
        """0 before ``start``, ``value`` from ``start`` on."""
        return cls(((0, 0.0), (int(start), float(value)))) if start > 0 else cls.constant(value)

    @classmethod
    def piecewise(cls, default: float, changes: Sequence[Sequence[float]]) -> "Schedule":
        """``default``, replaced by ``value`` from each ``[from_step, value]`` of ``changes`` on."""
        ordered = sorted(((int(step), float(value)) for step, value in changes), key=lambda item: item[0])
        return cls(((0, float(default)),) + tuple(ordered))

    @classmethod
    def ramp(cls, value: float, steps: int) -> "Schedule":
        """Linear from 0 at step 0 to ``value`` at ``steps``, then ``value`` (``steps`` <= 0: constant)."""
        if steps <= 0:
            return cls.constant(value)
        return cls(((0, 0.0), (int(steps), float(value))), "linear")

    # ------------------------------------------------------------------ reading
    def at(self, step: int) -> float:
        """The value at training ``step``."""
        points = self.points
        if step < points[0][0]:
            return points[0][1]
        for (start, begin), (end, finish) in zip(points, points[1:]):
            if step < end:
                if self.interpolation == "step":
                    return begin
                return begin + (finish - begin) * ((step - start) / (end - start))
        return points[-1][1]

    @property
    def final(self) -> float:
        """The value held after the last point."""
        return self.points[-1][1]

    @property
    def enabled(self) -> bool:
        """True when the schedule is non-zero at some step (its regularizer runs at all)."""
        return any(value != 0 for _, value in self.points)


class ScheduledValue:
    """A :class:`Schedule`'s current value as a 0-dim float32 tensor, written in place each step.

    Losses multiply by :attr:`tensor`, never by a Python number, so the ops of a step are the same
    whatever the value (a captured CUDA graph can replay them; the value is written between
    replays by :meth:`update`, which the objective's ``start_step`` calls). :attr:`value` is the
    same number on the host, for decisions that hold for a whole schedule segment (e.g. skipping a
    phase whose weight is 0).

    Args:
        schedule: the schedule.
        device: where the tensor lives (the training device).
    """

    def __init__(self, schedule: Schedule, device: torch.device | str | None = None) -> None:
        self.schedule = schedule
        self.value = schedule.at(0)
        self.tensor = torch.full((), self.value, dtype=torch.float32, device=device)

    def update(self, step: int) -> float:
        """Write the value of ``step`` into :attr:`tensor`; returns it."""
        self.value = self.schedule.at(step)
        self.tensor.fill_(self.value)
        return self.value
