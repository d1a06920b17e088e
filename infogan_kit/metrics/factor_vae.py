"""FactorVAE score, Kim & Mnih 2018, "Disentangling by Factorising" (disentanglement_lib's
``compute_factor_vae``).

Definition (protocol ``dlib``):

1. Global variances: represent ``num_variance_estimate = 10,000`` uniform points, variance of
   each dimension with ``ddof=1``. Dimensions whose standard deviation is below
   ``prune_threshold = 0.05`` are *pruned* (collapsed to the prior); ``num_active_dims`` counts
   the others. With no active dimension every score is 0.
2. One *vote* = choose a factor ``k`` uniformly; draw ``batch_size = 64`` uniform factor tuples
   and set factor ``k`` of all of them to the value of the first; represent them; the local
   variance of each dimension (``ddof=1``) divided by its global variance; the vote goes to
   ``(k, d)`` with ``d`` the active dimension of smallest normalized variance.
3. Votes form a ``[K, D]`` count matrix; the majority-vote classifier maps each dimension to
   its most voted factor. ``train_accuracy`` = share of the ``num_train = 10,000`` training
   votes it classifies right; ``eval_accuracy`` = the same on ``num_eval = 5,000`` fresh votes.

Differences from disentanglement_lib: we index votes by the original dimension (dlib indexes
them among the active dimensions only; accuracies are identical), and ``num_active_dims`` is the
number of active dimensions (dlib 1.5 returns ``len(mask)``, the total number of dimensions).
Votes are drawn for whole chunks at once instead of one Python call per vote.
"""

from __future__ import annotations

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


def global_variances(
    represent_factors: RepresentFactors,
    factor_sizes: Sequence[int],
    generator: torch.Generator,
    num_points: int,
) -> np.ndarray:
    """Per-dimension variance (``ddof=1``) of the codes of ``num_points`` uniform points -> ``[D]``."""
    factors = sample_uniform_factors(num_points, factor_sizes, generator)
    return np.var(represent_numpy(represent_factors, factors), axis=0, ddof=1)


def active_dimensions(variances: np.ndarray, prune_threshold: float = 0.05) -> np.ndarray:
    """Boolean mask ``[D]`` of dimensions whose standard deviation is at least ``prune_threshold``."""
    return np.sqrt(variances) >= prune_threshold


def local_variances(
    represent_factors: RepresentFactors,
    factor_sizes: Sequence[int],
    generator: torch.Generator,
    num_votes: int,
    *,
    batch_size: int = 64,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw vote batches (one factor fixed to the first row's value) and their code variances.

    Returns:
        ``(variances float64 [num_votes, D] with ddof=1 over each batch, fixed factor indices
        int64 [num_votes])``.
    """
    sizes = check_sampling_sizes(factor_sizes, batch_size, num_votes)
    num_factors = len(sizes)
    votes_per_chunk = max(1, chunk_rows // batch_size)
    variances, fixed_factors = [], []
    for start in range(0, num_votes, votes_per_chunk):
        count = min(votes_per_chunk, num_votes - start)
        fixed = torch.randint(num_factors, (count,), generator=generator)
        factors = sample_uniform_factors(count * batch_size, sizes, generator).view(count, batch_size, num_factors)
        shared = torch.nn.functional.one_hot(fixed, num_factors).bool()[:, None, :]
        factors = torch.where(shared, factors[:, :1, :], factors)
        codes = represent_numpy(represent_factors, factors.reshape(-1, num_factors)).reshape(count, batch_size, -1)
        variances.append(np.var(codes, axis=1, ddof=1))
        fixed_factors.append(fixed.numpy().astype(np.int64))
    return np.concatenate(variances), np.concatenate(fixed_factors)


def vote_matrix(
    batch_variances: np.ndarray,
    fixed_factors: np.ndarray,
    variances: np.ndarray,
    active: np.ndarray,
    num_factors: int,
) -> np.ndarray:
    """Count the votes ``(fixed factor, dimension of least normalized variance)``.

    Args:
        batch_variances: ``[V, D]`` local variances of V vote batches.
        fixed_factors: ``[V]`` factor held fixed in each batch.
        variances: ``[D]`` global variances.
        active: ``[D]`` boolean mask of active dimensions (at least one True).
        num_factors: K.

    Returns:
        int64 ``[K, D]``: entry ``(k, d)`` counts batches with factor ``k`` fixed whose smallest
        normalized variance among the active dimensions is at dimension ``d`` (original index;
        pruned dimensions never receive votes).
    """
    active_index = np.flatnonzero(active)
    if active_index.size == 0:
        raise MetricError("FactorVAE votes need at least one active dimension")
    normalized = batch_variances[:, active_index] / variances[active_index]
    winners = active_index[np.argmin(normalized, axis=1)]
    votes = np.zeros((num_factors, len(variances)), dtype=np.int64)
    np.add.at(votes, (fixed_factors, winners), 1)
    return votes


def majority_vote_accuracy(votes: np.ndarray, classifier: np.ndarray) -> float:
    """Share of ``votes [K, D]`` whose factor equals ``classifier[d]`` (the factor assigned to d)."""
    total = votes.sum()
    if total == 0:
        raise MetricError("no votes to score")
    return float(votes[classifier, np.arange(votes.shape[1])].sum() / total)


def factor_vae(
    represent_factors: RepresentFactors,
    factor_sizes: Sequence[int] | FactorDataset,
    generator: torch.Generator,
    *,
    batch_size: int = 64,
    num_train: int = 10_000,
    num_eval: int = 5_000,
    num_variance_estimate: int = 10_000,
    prune_threshold: float = 0.05,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> dict[str, float]:
    """FactorVAE score of a representation (disentanglement_lib's definition).

    Two call forms: ``factor_vae(represent_factors, factor_sizes, generator)`` and
    ``factor_vae(model.represent, dataset, generator)`` (images rendered from the sampled
    factors and represented in batches on the model's device).

    Args:
        represent_factors: ``factors LongTensor [n, K] -> codes [n, D]`` (numpy or torch), or a
            model's ``represent(images [n, C, H, W]) -> codes [n, D]`` when a dataset is given.
        factor_sizes: classes per factor, or a :class:`~infogan_kit.data.FactorDataset`.
        generator: CPU ``torch.Generator``; the result is a function of its state.
        batch_size: points per vote (dlib: 64).
        num_train, num_eval: training / evaluation votes (dlib: 10,000 / 5,000).
        num_variance_estimate: points for the global variances (dlib: 10,000).
        prune_threshold: minimum global standard deviation of an active dimension (dlib: 0.05).
        chunk_rows: representation rows per vectorized step (memory bound only).

    Returns:
        ``{"train_accuracy": float, "eval_accuracy": float, "num_active_dims": int}``
        (chance accuracy is about ``1 / K``; all zero when every dimension is pruned).
    """
    represent_factors, factor_sizes = resolve_representation(represent_factors, factor_sizes, generator)
    sizes = check_sampling_sizes(factor_sizes, batch_size, num_train, num_eval, num_variance_estimate)
    if num_variance_estimate < 2:
        raise MetricError("num_variance_estimate must be at least 2 (variance with ddof=1)")
    variances = global_variances(represent_factors, sizes, generator, num_variance_estimate)
    active = active_dimensions(variances, prune_threshold)
    if not active.any():
        return {"train_accuracy": 0.0, "eval_accuracy": 0.0, "num_active_dims": 0}

    def votes(count: int) -> np.ndarray:
        batch_variances, fixed = local_variances(
            represent_factors, sizes, generator, count, batch_size=batch_size, chunk_rows=chunk_rows
        )
        return vote_matrix(batch_variances, fixed, variances, active, len(sizes))

    train_votes = votes(num_train)
    classifier = np.argmax(train_votes, axis=0)
    train_accuracy = majority_vote_accuracy(train_votes, classifier)
    eval_accuracy = majority_vote_accuracy(votes(num_eval), classifier)
    return {
        "train_accuracy": train_accuracy,
        "eval_accuracy": eval_accuracy,
        "num_active_dims": int(active.sum()),
    }


# batch_size * (num_train + num_eval) + num_variance_estimate images: 2,800 under fast (version 2).
@metric(
    "factor_vae", kind="sampling", keys=("train_accuracy", "eval_accuracy", "num_active_dims"),
    applies=needs_two_factors, description="FactorVAE score (Kim & Mnih 2018)",
    estimator="majority vote over argmin of normalized per-dimension variance",
    sizes={"dlib": {"batch_size": 64, "num_train": 10_000, "num_eval": 5_000, "num_variance_estimate": 10_000,
                    "prune_threshold": 0.05},
           "fast": {"batch_size": 8, "num_train": 150, "num_eval": 75, "num_variance_estimate": 1_000}},
)
def compute_factor_vae(inputs: MetricInputs) -> dict[str, float]:
    """The registered ``factor_vae``: :func:`factor_vae` with the protocol's sizes."""
    return factor_vae(inputs.represent_factors, inputs.factor_sizes, inputs.generator("factor_vae"),
                      **inputs.protocol.metric_sizes("factor_vae"))
