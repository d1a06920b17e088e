"""R1 gradient penalty on real images (Mescheder et al. 2018), with lazy regularization.

    R1 = (gamma / 2) * E_real[ ||grad_x D(x)||^2 ]

It penalizes D's slope on the data manifold, which makes GAN training locally convergent. The
gradient is taken with respect to the images *in the [-1, 1] convention* (``x = 2 image - 1``),
as in StyleGAN2, so published ``gamma`` values apply unchanged. The phase computing it needs a
double backward (``create_graph=True``): it runs eagerly, in fp32, lazily every 16 steps with the
loss multiplied by the interval, and the D optimizer's Adam settings are corrected for the extra
updates (:func:`~infogan_kit.recipes.base.lazy_adam_settings`).

Analytic check (the tests): a linear ``D(x) = <a, x>`` has penalty ``||a||^2`` for every image.
"""

from __future__ import annotations

import torch


def r1_penalty(inputs: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """``||d logits_i / d inputs_i||^2`` per sample ``[n]``; ``inputs [n, ...]`` must require grad
    and have produced ``logits [n]`` (each logit from its own input). Differentiable."""
    (grads,) = torch.autograd.grad(outputs=logits.float().sum(), inputs=inputs, create_graph=True)
    return grads.float().square().flatten(1).sum(dim=1)
