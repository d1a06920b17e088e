"""Regularizers of the style-based GAN, one small module each, each with an analytic test.

* :mod:`.hessian`: Hessian penalty (finite differences, Rademacher directions);
* :mod:`.orojar`: OroJaR, first-order orthogonal-Jacobian penalty;
* :mod:`.path_length`: StyleGAN2 path-length regularization with its running mean;
* :mod:`.r1`: R1 gradient penalty on reals;
* :mod:`.augment`: differentiable augmentation with an adaptive probability (ADA).

Their weights follow :class:`~infogan_kit.objectives.schedule.Schedule` ramps; the lazy-phase
Adam correction is :func:`~infogan_kit.recipes.base.lazy_adam_settings`.
"""

from .augment import AdaptiveAugmentProbability, augment
from .hessian import hessian_penalty
from .orojar import orojar_penalty
from .path_length import PathLengthRegularizer, path_lengths
from .r1 import r1_penalty

__all__ = [
    "AdaptiveAugmentProbability", "PathLengthRegularizer", "augment", "hessian_penalty", "orojar_penalty", "path_lengths",
    "r1_penalty",
]
