"""Lazy regularization and weight schedules.

**Lazy regularization** (StyleGAN2): a regularizer that changes slowly need not run every step.
Run it every ``interval`` steps with its loss multiplied by ``interval`` (the same expected
gradient). Its phase is an extra Adam update on the same optimizer, so per ``interval`` main steps
the optimizer takes ``interval + 1`` steps; to keep the effective step size and the time constants
of Adam's moment estimates per *main* step unchanged, the optimizer is built with::

    mb_ratio = interval / (interval + 1)
    lr    <- lr * mb_ratio
    betas <- (beta1 ** mb_ratio, beta2 ** mb_ratio)

**Weight schedules**: a regularizer weight ramps linearly from 0 to its value over
``ramp_steps`` steps (0: the full weight from the start), so a strong penalty does not fight the
adversarial game while G is still noise.
"""

from __future__ import annotations

from dataclasses import dataclass


def lazy_ratio(interval: int) -> float:
    """``interval / (interval + 1)``: the share of main updates among all updates of the optimizer."""
    if interval < 1:
        raise ValueError(f"a regularization interval must be >= 1, got {interval}")
    return interval / (interval + 1)


def lazy_adam_settings(lr: float, betas: tuple[float, float], interval: int) -> tuple[float, tuple[float, float]]:
    """The learning rate and Adam betas of an optimizer with a lazy phase every ``interval`` steps.

    Returns:
        ``(lr * r, (beta1 ** r, beta2 ** r))`` with ``r = interval / (interval + 1)``.
    """
    ratio = lazy_ratio(interval)
    return lr * ratio, (betas[0] ** ratio, betas[1] ** ratio)


@dataclass
class RampWeight:
    """A regularizer weight that ramps linearly from 0.

    Attributes:
        weight: the final weight.
        ramp_steps: steps to reach it (0: constant).
    """

    weight: float
    ramp_steps: int = 0

    def at(self, step: int) -> float:
        """The weight at training ``step``: ``weight * min(1, step / ramp_steps)``."""
        if self.ramp_steps <= 0:
            return self.weight
        return self.weight * min(1.0, step / self.ramp_steps)

    @property
    def enabled(self) -> bool:
        """True when the final weight is non-zero (the regularizer runs at all)."""
        return self.weight > 0
