"""Unsupervised model selection across runs, without ground-truth labels.

Two methods, each a function of plain arrays / callables (so they are testable without
training) plus adapters that feed them from trained runs:

* **UDR** (Duan et al. 2020, "Unsupervised Model Selection for Variational Disentangled
  Representation Learning"; disentanglement_lib's ``udr.compute_udr_sklearn``). Every model
  represents the same ``num_points`` data images; each representation is standardized and its
  inactive dimensions (mean KL below 0.01 for a VAE; variance below 0.01 for a GAN's Q codes,
  which have no KL) are zeroed. For each ordered pair ``(i, j)`` a similarity matrix ``R [D_i,
  D_j]`` is built, either ``|Lasso(alpha=0.1)`` coefficients regressing ``j``'s codes on ``i``'s|
  (``udr-lasso``) or ``|Spearman correlation|`` (``udr-spearman``); restricted to the active
  rows/columns it is scored with the *relative strength* ``(mean_cols max^2/sum + mean_rows
  max^2/sum) / 2``. Model ``m``'s UDR = median over ``i != m`` of ``score[i, m]``.
* **ModelCentrality** (Lin et al. 2020, InfoGAN-CR). Each model's generator is a ground-truth
  data set whose factors are its latent codes (categorical codes as they are; continuous codes
  cut into ``num_bins`` equal-probability bins and rendered at the bin centre, so fixing a
  factor fixes the value; noise and inactive VAE latents are resampled as nuisance). Model
  ``i``'s encoder is scored with the FactorVAE metric (eval accuracy) on model ``j``'s data:
  ``S[i, j]``. The pairwise similarity is symmetrized, and model ``i``'s centrality is
  ``mean_{j != i} (S[i, j] + S[j, i]) / 2``; the medoid (highest centrality) wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any, Callable, Sequence

import numpy as np
import torch

from .errors import MetricError
from .metrics.factor_vae import active_dimensions, global_variances, local_variances, majority_vote_accuracy, vote_matrix
from .metrics.protocol import Protocol, get_protocol
from .metrics.sampling import codes_to_numpy, derive_generator

METHODS = ("udr-lasso", "udr-spearman", "centrality")
ACTIVITY_THRESHOLD = 0.01
"""Mean KL (VAE) or code variance (GAN) below which a dimension is inactive (dlib's 0.01)."""
LASSO_ALPHA = 0.1
"""disentanglement_lib's Lasso penalty for the UDR similarity matrix."""

Encoder = Callable[[torch.Tensor], Any]
"""``observations [n, ...] -> codes [n, D]`` (numpy or torch)."""


# ------------------------------------------------------------------ UDR on arrays
def relative_strength_disentanglement(similarity: np.ndarray) -> float:
    """disentanglement_lib's relative strength of a non-negative similarity matrix ``[D_a, D_b]``:
    the mean over columns of ``max^2 / sum`` averaged with the same over rows (a permutation
    matrix scores 1, a constant one ``1 / D``, all zeros 0; empty matrices score 0)."""
    matrix = np.asarray(similarity, dtype=np.float64)
    if matrix.size == 0:
        return 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        columns = np.nan_to_num(np.max(matrix, axis=0) ** 2 / np.sum(matrix, axis=0), nan=0.0)
        rows = np.nan_to_num(np.max(matrix, axis=1) ** 2 / np.sum(matrix, axis=1), nan=0.0)
    return float((np.nanmean(columns) + np.nanmean(rows)) / 2)


def spearman_correlation_matrix(codes_a: np.ndarray, codes_b: np.ndarray) -> np.ndarray:
    """``|Spearman rank correlation|`` of every column of ``codes_a [N, D_a]`` with every column
    of ``codes_b [N, D_b]`` -> ``[D_a, D_b]`` (constant columns correlate 0)."""
    from scipy.stats import rankdata

    def standardized_ranks(codes: np.ndarray) -> np.ndarray:
        ranks = rankdata(np.asarray(codes, dtype=np.float64), axis=0)
        ranks -= ranks.mean(axis=0)
        norms = np.linalg.norm(ranks, axis=0)
        return np.divide(ranks, norms, out=np.zeros_like(ranks), where=norms > 1e-12)

    return np.abs(standardized_ranks(codes_a).T @ standardized_ranks(codes_b))


def lasso_correlation_matrix(codes_a: np.ndarray, codes_b: np.ndarray, random_state: int | None = 0, alpha: float = LASSO_ALPHA) -> np.ndarray:
    """``|coefficients|`` of a multi-output Lasso regressing ``codes_b [N, D_b]`` on ``codes_a
    [N, D_a]`` (sklearn ``Lasso(alpha=0.1)`` as in disentanglement_lib) -> ``[D_a, D_b]``."""
    from sklearn.linear_model import Lasso

    model = Lasso(alpha=alpha, random_state=random_state)
    model.fit(np.asarray(codes_a, dtype=np.float64), np.asarray(codes_b, dtype=np.float64))
    return np.abs(np.asarray(model.coef_).reshape(np.shape(codes_b)[1], np.shape(codes_a)[1])).T


def udr(
    codes: Sequence[np.ndarray],
    activity: Sequence[np.ndarray] | None = None,
    correlation: str = "lasso",
    threshold: float = ACTIVITY_THRESHOLD,
    random_state: int | None = 0,
) -> dict[str, Any]:
    """UDR scores of M models that represented the same N data points.

    Args:
        codes: M arrays ``[N, D_m]`` (dimensions may differ between models).
        activity: M arrays ``[D_m]`` of mean KL (or variance) per dimension; dimensions at or
            below ``threshold`` are inactive (zeroed and left out). None: all active.
        correlation: ``"lasso"`` or ``"spearman"``.
        threshold: activity threshold (dlib: 0.01).
        random_state: seed of the Lasso fits.

    Returns:
        ``{"model_scores": [M] floats, "pairwise": [M, M] list (entry [i][j]: similarity of i's
        representation to j's; diagonal 0), "active_dims": [M] ints}``.
    """
    if correlation not in ("lasso", "spearman"):
        raise MetricError(f"UDR correlation must be 'lasso' or 'spearman', got {correlation!r}")
    if len(codes) < 2:
        raise MetricError(f"UDR compares models with each other: it needs at least 2, got {len(codes)}")
    prepared, masks = _standardize_active(codes, activity, threshold)
    count = len(prepared)
    pairwise = np.zeros((count, count))
    for i in range(count):
        for j in range(count):
            if i == j:
                continue
            if correlation == "lasso":
                matrix = lasso_correlation_matrix(prepared[i], prepared[j], random_state)
            else:
                matrix = spearman_correlation_matrix(prepared[i], prepared[j])
            pairwise[i, j] = relative_strength_disentanglement(matrix[masks[i]][:, masks[j]])
    scores = [float(np.median(np.delete(pairwise[:, m], m))) for m in range(count)]
    return {"model_scores": scores, "pairwise": pairwise.tolist(), "active_dims": [int(mask.sum()) for mask in masks]}


def _standardize_active(
    codes: Sequence[np.ndarray], activity: Sequence[np.ndarray] | None, threshold: float
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Standardized codes with inactive columns zeroed, and the boolean active masks."""
    rows = {np.shape(c)[0] for c in codes}
    if len(rows) != 1:
        raise MetricError(f"every model must represent the same points; got row counts {sorted(rows)}")
    prepared, masks = [], []
    for index, model_codes in enumerate(codes):
        array = codes_to_numpy(model_codes, np.shape(model_codes)[0])
        scale = array.std(axis=0)
        standardized = (array - array.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
        level = np.ones(array.shape[1]) if activity is None else np.asarray(activity[index], dtype=np.float64)
        if level.shape != (array.shape[1],):
            raise MetricError(f"activity of model {index} has shape {level.shape}, expected ({array.shape[1]},)")
        mask = level > threshold
        prepared.append(standardized * mask)
        masks.append(mask)
    return prepared, masks


# ------------------------------------------------------------------ ModelCentrality on callables
@dataclass
class CodeGenerator:
    """A generative model seen as a ground-truth data set whose factors are its codes.

    Attributes:
        factor_sizes: classes of each factor (K entries).
        render: ``(factors LongTensor [n, K], generator) -> observations [n, ...]``; the
            generator draws the nuisance (noise, inactive latents).
        name: label for messages.
    """

    factor_sizes: tuple[int, ...]
    render: Callable[[torch.Tensor, torch.Generator], torch.Tensor]
    name: str = "model"


def model_centrality(
    encoders: Sequence[Encoder],
    generators: Sequence[CodeGenerator],
    protocol: str | Protocol = "fast",
    seed: int = 0,
    chunk_size: int = 256,
) -> dict[str, Any]:
    """ModelCentrality of M models from their encoders and generators (same order).

    Each generator's data is drawn once and represented by every encoder, so ``S[i, j]`` for
    all ``i`` shares one draw; per encoder it is exactly the FactorVAE metric
    (:func:`infogan_kit.metrics.factor_vae`) with the protocol's sizes.

    Args:
        encoders: M callables ``observations [n, ...] -> codes [n, D_i]``.
        generators: M :class:`CodeGenerator`.
        protocol: supplies the FactorVAE sizes (batch size, train/eval votes, variance points,
            prune threshold).
        seed: seeds every draw.
        chunk_size: observations rendered and encoded at a time (memory bound only).

    Returns:
        ``{"model_scores": [M] centralities, "pairwise": [M, M] list with entry [i][j] = FactorVAE
        eval accuracy of encoder i on generator j's data (diagonal: on its own data)}``.
    """
    if len(encoders) != len(generators):
        raise MetricError(f"got {len(encoders)} encoders but {len(generators)} generators")
    if len(encoders) < 2:
        raise MetricError(f"ModelCentrality compares models with each other: it needs at least 2, got {len(encoders)}")
    sizes = get_protocol(protocol)
    pairwise = np.zeros((len(encoders), len(generators)))
    for j, generator in enumerate(generators):
        draws, nuisance = derive_generator(seed, f"centrality-{j}"), derive_generator(seed, f"centrality-nuisance-{j}")
        pairwise[:, j] = _scores_on_generator(encoders, generator, sizes, draws, nuisance, chunk_size)
    symmetric = (pairwise + pairwise.T) / 2
    count = len(encoders)
    centrality = [float(np.delete(symmetric[i], i).mean()) for i in range(count)]
    return {"model_scores": centrality, "pairwise": pairwise.tolist()}


def _scores_on_generator(
    encoders: Sequence[Encoder], code_generator: CodeGenerator, sizes: Protocol, draws: torch.Generator,
    nuisance: torch.Generator, chunk_size: int,
) -> list[float]:
    """FactorVAE eval accuracy of every encoder on one generator's data -> M floats (factors
    drawn from ``draws`` exactly as :func:`~infogan_kit.metrics.factor_vae` draws them)."""
    widths: list[int] = []

    def joint_codes(factors: torch.Tensor) -> np.ndarray:
        chunks = []
        for start in range(0, len(factors), chunk_size):
            observations = code_generator.render(factors[start : start + chunk_size], nuisance)
            parts = [codes_to_numpy(encode(observations), len(observations)) for encode in encoders]
            widths[:] = [part.shape[1] for part in parts]
            chunks.append(np.concatenate(parts, axis=1))
        return np.concatenate(chunks, axis=0)

    factor_sizes = code_generator.factor_sizes
    batch = sizes.factor_vae_batch_size
    variances = global_variances(joint_codes, factor_sizes, draws, sizes.factor_vae_num_variance_estimate)
    train = local_variances(joint_codes, factor_sizes, draws, sizes.factor_vae_num_train, batch_size=batch)
    evaluation = local_variances(joint_codes, factor_sizes, draws, sizes.factor_vae_num_eval, batch_size=batch)
    scores, start = [], 0
    for width in widths:
        columns = slice(start, start + width)
        start += width
        active = active_dimensions(variances[columns], sizes.factor_vae_prune_threshold)
        if not active.any():
            scores.append(0.0)
            continue
        train_votes = vote_matrix(train[0][:, columns], train[1], variances[columns], active, len(factor_sizes))
        eval_votes = vote_matrix(evaluation[0][:, columns], evaluation[1], variances[columns], active, len(factor_sizes))
        scores.append(majority_vote_accuracy(eval_votes, np.argmax(train_votes, axis=0)))
    return scores


def bin_centers(num_bins: int, prior: str) -> torch.Tensor:
    """Centres ``[num_bins]`` of equal-probability bins of a ``"uniform"`` (-1, 1) or ``"normal"``
    (N(0, 1)) prior: the value a continuous code takes when its factor is bin ``b``."""
    if num_bins < 2:
        raise MetricError(f"continuous codes need at least 2 bins, got {num_bins}")
    quantiles = (np.arange(num_bins) + 0.5) / num_bins
    if prior == "uniform":
        return torch.tensor(quantiles * 2 - 1, dtype=torch.float32)
    if prior == "normal":
        return torch.tensor([NormalDist().inv_cdf(q) for q in quantiles], dtype=torch.float32)
    raise MetricError(f"unknown prior {prior!r}; expected 'uniform' or 'normal'")


# ------------------------------------------------------------------ adapters for trained runs
def run_code_generator(run: Any, num_bins: int = 20, active_latents: np.ndarray | None = None) -> CodeGenerator:
    """A run's generator as a :class:`CodeGenerator` (images ``[n, C, H, W]`` on the run's device).

    The factors are the model's codes (:meth:`~infogan_kit.recipes.base.Model.code_sizes`): a
    categorical code's classes as they are, a continuous code binned into ``num_bins``
    equal-probability bins of the model's :attr:`~infogan_kit.recipes.base.Model.code_prior`.
    Where the model says inactive codes are nuisance (VAEs), only the codes flagged in
    ``active_latents`` are factors (default, or none flagged: all); the rest keep the values of
    :meth:`~infogan_kit.recipes.base.Model.nuisance_codes`. The model draws its own noise.
    """
    model = run.model
    sizes = model.code_sizes()
    columns = np.arange(len(sizes))
    if model.inactive_codes_are_nuisance and active_latents is not None and np.asarray(active_latents, bool).any():
        columns = np.flatnonzero(np.asarray(active_latents, bool))
    centers = bin_centers(num_bins, model.code_prior)

    def render(factors: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        values = model.nuisance_codes(len(factors), rng)
        for index, column in enumerate(columns.tolist()):
            chosen = factors[:, index].cpu()
            values[:, column] = chosen.float() if sizes[column] else centers[chosen]
        return model.render_codes(values, rng)

    factor_sizes = tuple(sizes[column] or num_bins for column in columns.tolist())
    return CodeGenerator(factor_sizes, render, str(run.run_dir))


def run_activity(run: Any, images: torch.Tensor, batch_size: int = 512) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``images [N, C, H, W]`` and per-dimension activity ``[D]`` (the model's
    :meth:`~infogan_kit.recipes.base.Model.latent_activity`: a VAE's mean KL to the prior, the
    codes' variance otherwise).

    Returns:
        ``(codes float64 [N, D], activity float64 [D])``.
    """
    codes = run.represent(images, batch_size=batch_size).double().numpy()
    return codes, run.latent_activity(images, batch_size).numpy()


def select_runs(
    runs: Sequence[Any],
    methods: Sequence[str] = METHODS,
    protocol: str | Protocol = "fast",
    seed: int = 0,
    num_points: int = 1000,
    num_bins: int = 20,
) -> dict[str, Any]:
    """Rank loaded runs (:func:`infogan_kit.load_run`) with each method.

    Args:
        runs: at least two runs on the same dataset.
        methods: any of :data:`METHODS`.
        protocol: FactorVAE sizes of ModelCentrality.
        seed: seeds the data draw (UDR), the Lasso fits and the generated data (centrality).
        num_points: data images every run represents for UDR (dlib: 1000).
        num_bins: bins of each continuous code (centrality).

    Returns:
        ``{"runs": [...], "methods": {method: {"ranking": [...], "model_scores", "pairwise",
        "selected"}}, "config": {...}, "notes": [...]}`` (JSON-ready).
    """
    _check_runs(runs, methods)
    labels = [str(run.run_dir) for run in runs]
    images, _ = runs[0].dataset.sample(num_points, generator=derive_generator(seed, "udr-data"))
    representations = [run_activity(run, images) for run in runs]
    results: dict[str, Any] = {}
    for method in methods:
        if method.startswith("udr"):
            scores = udr([codes for codes, _ in representations], [level for _, level in representations],
                         correlation=method.split("-")[1], random_state=seed)
        else:
            actives = [level > ACTIVITY_THRESHOLD for _, level in representations]
            generators = [run_code_generator(run, num_bins, active) for run, active in zip(runs, actives)]
            scores = model_centrality([run.represent for run in runs], generators, protocol, seed)
        results[method] = {**scores, "ranking": rank(scores["model_scores"], labels)}
        results[method]["selected"] = results[method]["ranking"][0]["run"]
    chosen = get_protocol(protocol)
    config = {"seed": seed, "num_points": num_points, "num_bins": num_bins, "protocol": chosen.name,
              "factor_vae_sizes": chosen.sizes()["factor_vae"],
              "dataset": runs[0].config.data.name, "activity_threshold": ACTIVITY_THRESHOLD, "lasso_alpha": LASSO_ALPHA}
    described = [{"run": label, "model": run.model_name, "family": run.family, "seed": run.config.train.seed,
                  "step": run.step, "active_dims": int((level > ACTIVITY_THRESHOLD).sum())}
                 for label, run, (_, level) in zip(labels, runs, representations)]
    notes = [f"{entry['run']}: no active dimension (mean KL / variance <= {ACTIVITY_THRESHOLD}); its UDR is 0"
             for entry in described if entry["active_dims"] == 0]
    return {"runs": described, "methods": results, "config": config, "notes": notes}


def rank(scores: Sequence[float], labels: Sequence[str]) -> list[dict[str, Any]]:
    """Labels sorted by decreasing score (ties keep input order) -> ``[{"rank", "run", "score"}]``."""
    order = sorted(range(len(scores)), key=lambda index: -scores[index])
    return [{"rank": position + 1, "run": labels[index], "score": float(scores[index])} for position, index in enumerate(order)]


def _check_runs(runs: Sequence[Any], methods: Sequence[str]) -> None:
    unknown = [method for method in methods if method not in METHODS]
    if unknown:
        raise MetricError(f"unknown selection method(s) {', '.join(unknown)}; available: {', '.join(METHODS)}")
    if len(runs) < 2:
        raise MetricError(f"model selection ranks runs against each other: give at least 2 runs, got {len(runs)}")
    datasets = {(run.config.data.name, repr(sorted(run.config.data.options.items()))) for run in runs}
    if len(datasets) != 1:
        names = ", ".join(f"{Path(run.run_dir).name}: {run.config.data.name}" for run in runs)
        raise MetricError(f"runs must be trained on the same dataset to be compared without labels ({names})")
