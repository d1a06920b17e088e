"""Mutual-information terms of InfoGAN (the variational lower bound on I(c; G(z, c))).

For a code ``c`` with prior ``p(c)`` and the Q head's posterior ``q(c | x)``:

    I(c; G(z, c)) >= H(c) + E[log q(c | G(z, c))]

so minimizing the negative log-likelihood ``NLL = -E[log q(c | x)]`` maximizes the bound.

* categorical code with ``k`` classes: ``NLL`` = cross-entropy of Q's logits against the sampled
  class; ``H(c) = log k``; a perfect Q (all mass on the true class) reaches ``MI = H(c)``.
* continuous code, ``c ~ U(-1, 1)``: Gaussian ``q(c | x) = N(mu, sigma^2)``;
  ``NLL = 0.5 log(2 pi sigma^2) + (c - mu)^2 / (2 sigma^2)``, with ``sigma = 1`` fixed (the
  InfoGAN default) or ``log sigma^2`` predicted by Q (learned variance).

Both are computed in fp32 whatever the autocast precision: they compare codes in the prior's
range (-1..1) with Q's outputs directly, with no squashing.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def categorical_nll(logits: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
    """Cross-entropy ``[n]`` of logits ``[n, k]`` against class indices ``[n]`` (fp32, nats)."""
    return F.cross_entropy(logits.float(), codes.long(), reduction="none")


def gaussian_nll(means: torch.Tensor, codes: torch.Tensor, logvars: torch.Tensor | None = None) -> torch.Tensor:
    """Gaussian negative log-likelihood ``[n, d]`` of codes ``[n, d]`` under ``N(means, exp(logvars))``.

    ``logvars=None`` means a fixed ``sigma = 1``.
    """
    error = codes.float() - means.float()
    if logvars is None:
        return 0.5 * LOG_2PI + 0.5 * error**2
    logvars = logvars.float().clamp(-10.0, 10.0)
    return 0.5 * (LOG_2PI + logvars) + 0.5 * error**2 * torch.exp(-logvars)


def categorical_entropy(num_classes: int) -> float:
    """Entropy ``log k`` (nats) of a uniform categorical code."""
    return math.log(num_classes)


def uniform_entropy(low: float = -1.0, high: float = 1.0) -> float:
    """Differential entropy (nats) of ``U(low, high)``: ``log(high - low)``."""
    return math.log(high - low)
