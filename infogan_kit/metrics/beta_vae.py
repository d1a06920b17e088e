"""BetaVAE score, Higgins et al. 2017, "beta-VAE: Learning Basic Visual Concepts with a
Constrained Variational Framework" (disentanglement_lib's ``compute_beta_vae_sklearn``).

Definition (protocol ``dlib``):

1. One *point* = choose a factor ``k`` uniformly; draw two batches of ``batch_size = 64``
   factor tuples uniformly, copy factor ``k`` of the first batch into the second (pair ``i``
   shares factor ``k``, everything else is independent); represent both batches; the feature
   is the mean over the batch of ``|z1 - z2|`` (``[D]``) and the label is ``k``.
2. Fit ``sklearn.linear_model.LogisticRegression()`` (library defaults) on ``num_train =
   10,000`` points; report its accuracy on them (``train_accuracy``) and on ``num_eval =
   5,000`` fresh points (``eval_accuracy``). Chance is ``1 / K``.

disentanglement_lib loops over points in Python and calls the representation twice per point;
here all the batches of a chunk of points are drawn at once and represented in one call, which
gives the same distribution of points (random streams differ, so values agree statistically,
within about 0.01 at these sizes).
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import torch

from ..data.base import FactorDataset

from ..errors import MetricError
from .registry import MetricInputs, metric, needs_two_factors
from .sampling import (
    DEFAULT_CHUNK_ROWS,
    RepresentFactors,
    check_sampling_sizes,
    represent_numpy,
    resolve_representation,
    sample_uniform_factors,
)

def beta_vae_points(
    represent_factors: RepresentFactors,
    factor_sizes: Sequence[int],
    generator: torch.Generator,
    num_points: int,
    *,
    batch_size: int = 64,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw BetaVAE points: features of pair batches that share one fixed factor.

    Args:
        represent_factors: ``factors LongTensor [n, K] -> codes [n, D]``.
        factor_sizes: classes per factor (K entries).
        generator: CPU generator for every draw.
        num_points: number of points (one per pair of batches).
        batch_size: pairs per point.
        chunk_rows: representation rows per vectorized step (2 * batch_size per point).

    Returns:
        ``(features float64 [num_points, D], labels int64 [num_points])``: the mean absolute
        code difference of each point's pairs, and the index of the shared factor.
    """
    sizes = check_sampling_sizes(factor_sizes, batch_size, num_points)
    num_factors = len(sizes)
    points_per_chunk = max(1, chunk_rows // (2 * batch_size))
    features, labels = [], []
    for start in range(0, num_points, points_per_chunk):
        count = min(points_per_chunk, num_points - start)
        fixed = torch.randint(num_factors, (count,), generator=generator)
        first = sample_uniform_factors(count * batch_size, sizes, generator).view(count, batch_size, num_factors)
        second = sample_uniform_factors(count * batch_size, sizes, generator).view(count, batch_size, num_factors)
        shared = torch.nn.functional.one_hot(fixed, num_factors).bool()[:, None, :]
        second = torch.where(shared, first, second)
        both = torch.cat([first, second]).reshape(-1, num_factors)
        codes = represent_numpy(represent_factors, both).reshape(2, count, batch_size, -1)
        features.append(np.abs(codes[0] - codes[1]).mean(axis=1))
        labels.append(fixed.numpy().astype(np.int64))
    return np.concatenate(features), np.concatenate(labels)


def beta_vae(
    represent_factors: RepresentFactors,
    factor_sizes: Sequence[int] | FactorDataset,
    generator: torch.Generator,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, float]:
    """BetaVAE score of a representation (disentanglement_lib's definition).

    Two call forms: ``beta_vae(represent_factors, factor_sizes, generator)`` and
    ``beta_vae(model.represent, dataset, generator)`` (images rendered from the sampled factors
    and represented in batches on the model's device).

    Args:
        represent_factors: ``factors LongTensor [n, K] -> codes [n, D]`` (numpy or torch), or a
            model's ``represent(images [n, C, H, W]) -> codes [n, D]`` when a dataset is given.
        factor_sizes: classes per factor, or a :class:`~infogan_kit.data.FactorDataset`.
        generator: CPU ``torch.Generator``; the result is a function of its state.
        batch_size: pairs per point (dlib: 64).
        num_train: training points (dlib: 10,000).
        num_eval: evaluation points (dlib: 5,000).
        chunk_rows: representation rows per vectorized step (memory bound only).

    Returns:
        ``{"train_accuracy": float, "eval_accuracy": float}`` of the logistic regression
        predicting the shared factor (chance ``1 / K``).
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    represent_factors, factor_sizes = resolve_representation(represent_factors, factor_sizes, generator)
    check_sampling_sizes(factor_sizes, batch_size, num_train, num_eval)
    train_features, train_labels = beta_vae_points(
        represent_factors, factor_sizes, generator, num_train, batch_size=batch_size, chunk_rows=chunk_rows
    )
    model = LogisticRegression()
    if len(np.unique(train_labels)) < 2:
        raise MetricError("BetaVAE needs at least two factors (and enough points to draw both)")
    with warnings.catch_warnings():  # dlib fits with the default max_iter too; no warning per run
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(train_features, train_labels)
    train_accuracy = float(np.mean(model.predict(train_features) == train_labels))
    eval_features, eval_labels = beta_vae_points(
        represent_factors, factor_sizes, generator, num_eval, batch_size=batch_size, chunk_rows=chunk_rows
    )
    eval_accuracy = float(np.mean(model.predict(eval_features) == eval_labels))
    return {"train_accuracy": train_accuracy, "eval_accuracy": eval_accuracy}


# Sampling metrics represent batch_size * (num_train + num_eval) x 2 images (the pairs): fast's
# sizes (protocol version 2) are 3,600 images, about 1-2 s for a real network on 2 CPU cores.
@metric(
    "beta_vae", kind="sampling", keys=("train_accuracy", "eval_accuracy"), applies=needs_two_factors,
    description="BetaVAE score (Higgins et al. 2017)",
    estimator="sklearn LogisticRegression() on mean |z1 - z2| of pairs sharing one factor",
    sizes={"dlib": {"batch_size": 64, "num_train": 10_000, "num_eval": 5_000},
           "fast": {"batch_size": 8, "num_train": 150, "num_eval": 75}},
)
def compute_beta_vae(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``beta_vae``: :func:`beta_vae` with the protocol's sizes."""
    return beta_vae(inputs.represent_factors, inputs.factor_sizes, inputs.generator("beta_vae"),
                    **inputs.protocol.metric_sizes("beta_vae"))
