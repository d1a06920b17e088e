"""Disentanglement and image-quality metrics (see docs/metrics.md).

Array metrics take codes ``[N, D]`` and integer factors ``[N, K]``::

    from infogan_kit import metrics
    metrics.mig(codes, factors)                       # {"score": ...}
    metrics.dci(codes, factors)                       # first 2/3 of the rows train, the rest test

Sampling metrics take a representation of factors ``represent_factors(LongTensor [n, K]) ->
codes [n, D]``, the factor sizes and a ``torch.Generator``::

    metrics.beta_vae(represent_factors, ds.factor_sizes, torch.Generator().manual_seed(0))

Suites return the whole result object (protocol, config, versions, metrics, notes, timings)::

    metrics.evaluate(model.represent, ds, names="all", protocol="dlib", seed=0)
    metrics.evaluate_codes(codes, factors, names="mig,dci", protocol="fast")
    metrics.merge_into_metrics_file("checkpoints/run/metrics.json", result)

Every metric is registered in :data:`METRICS`; add your own with :func:`register_metric`.
"""

from __future__ import annotations

from typing import Any

from .beta_vae import beta_vae
from .dci import dci
from .factor_vae import factor_vae
from .fast import fast_dci, fast_sap
from .irs import irs
from .mig import mig
from .modularity import modularity
from .protocol import DLIB, FAST, PROTOCOLS, Protocol, get_protocol
from .registry import METRICS, MetricInputs, MetricSpec, metric_names, register_metric, resolve_names, run_suite
from .results import build_result, format_table, merge_into_metrics_file, read_metrics_file, write_json_atomic
from .sampling import RepresentFactors, lookup_representation, model_representation, sample_uniform_factors
from .sap import sap
from .suite import evaluate, evaluate_codes, evaluate_representation
from .unsupervised import unsupervised


# ------------------------------------------------------------------ built-in metrics
def _beta_vae(inputs: MetricInputs) -> dict[str, Any]:
    p = inputs.protocol
    return beta_vae(
        inputs.represent_factors, inputs.factor_sizes, inputs.generator("beta_vae"),
        batch_size=p.beta_vae_batch_size, num_train=p.beta_vae_num_train, num_eval=p.beta_vae_num_eval,
    )


def _factor_vae(inputs: MetricInputs) -> dict[str, Any]:
    p = inputs.protocol
    return factor_vae(
        inputs.represent_factors, inputs.factor_sizes, inputs.generator("factor_vae"),
        batch_size=p.factor_vae_batch_size, num_train=p.factor_vae_num_train, num_eval=p.factor_vae_num_eval,
        num_variance_estimate=p.factor_vae_num_variance_estimate, prune_threshold=p.factor_vae_prune_threshold,
    )


def _mig(inputs: MetricInputs) -> dict[str, Any]:
    return mig(inputs.codes_train, inputs.factors_train, num_bins=inputs.protocol.num_bins)


def _dci(inputs: MetricInputs) -> dict[str, Any]:
    return dci(
        inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
        n_jobs=inputs.n_jobs, random_state=inputs.seed,
    )


def _fast_dci(inputs: MetricInputs) -> dict[str, Any]:
    return fast_dci(
        inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
        n_jobs=inputs.n_jobs, random_state=inputs.seed,
    )


def _sap(inputs: MetricInputs) -> dict[str, Any]:
    # D x K one-feature SVM fits of ~30 ms each: worker processes cost more than they save, so
    # SAP runs serially unless the caller asks for workers explicitly.
    workers = 1 if inputs.n_jobs is None else inputs.n_jobs
    return sap(inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test, n_jobs=workers)


def _fast_sap(inputs: MetricInputs) -> dict[str, Any]:
    return fast_sap(
        inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
        num_bins=inputs.protocol.num_bins,
    )


def _modularity(inputs: MetricInputs) -> dict[str, Any]:
    return modularity(
        inputs.codes_train, inputs.factors_train, inputs.codes_test, inputs.factors_test,
        num_bins=inputs.protocol.num_bins,
    )


def _irs(inputs: MetricInputs) -> dict[str, Any]:
    return irs(
        inputs.codes_train, inputs.factors_train,
        num_bins=inputs.protocol.num_bins, diff_quantile=inputs.protocol.irs_diff_quantile,
    )


def _unsupervised(inputs: MetricInputs) -> dict[str, Any]:
    return unsupervised(inputs.codes_train, inputs.factors_train, num_bins=inputs.protocol.num_bins)


_UNSUPERVISED_KEYS = (
    "gaussian_total_correlation",
    "gaussian_wasserstein_correlation",
    "gaussian_wasserstein_correlation_norm",
    "mutual_info_score",
)
_DCI_KEYS = ("disentanglement", "completeness", "informativeness_train", "informativeness_test")

def _needs_two_factors(inputs: MetricInputs) -> str | None:
    return None if len(inputs.factor_sizes) >= 2 else "it needs at least two factors"


register_metric("beta_vae", _beta_vae, kind="sampling", keys=("train_accuracy", "eval_accuracy"),
                description="BetaVAE score (Higgins et al. 2017)", applies=_needs_two_factors)
register_metric("factor_vae", _factor_vae, kind="sampling", keys=("train_accuracy", "eval_accuracy", "num_active_dims"),
                description="FactorVAE score (Kim & Mnih 2018)", applies=_needs_two_factors)
register_metric("mig", _mig, kind="array", keys=("score",), description="Mutual Information Gap (Chen et al. 2018)")
register_metric("dci", _dci, kind="array", keys=_DCI_KEYS, fast_compute=_fast_dci, uses_test_split=True,
                description="DCI (Eastwood & Williams 2018)")
register_metric("sap", _sap, kind="array", keys=("score",), fast_compute=_fast_sap, uses_test_split=True,
                description="SAP (Kumar et al. 2018)")
register_metric("modularity", _modularity, kind="array", keys=("modularity", "explicitness_train", "explicitness_test"),
                uses_test_split=True, description="Modularity and explicitness (Ridgeway & Mozer 2018)")
register_metric("irs", _irs, kind="array", keys=("score", "num_active_dims"),
                description="Interventional Robustness Score (Suter et al. 2019)")
register_metric("unsupervised", _unsupervised, kind="array", keys=_UNSUPERVISED_KEYS,
                description="Gaussian total/Wasserstein correlation and mean pairwise MI of the codes")

__all__ = [
    "DLIB", "FAST", "METRICS", "PROTOCOLS", "MetricInputs", "MetricSpec", "Protocol", "RepresentFactors",
    "beta_vae", "build_result", "dci", "evaluate", "evaluate_codes", "evaluate_representation", "factor_vae",
    "fast_dci", "fast_sap", "format_table", "get_protocol", "irs", "lookup_representation",
    "merge_into_metrics_file", "metric_names", "mig", "model_representation", "modularity",
    "read_metrics_file", "register_metric", "resolve_names", "run_suite", "sample_uniform_factors", "sap",
    "unsupervised", "write_json_atomic",
]


# ------------------------------------------------------------------ class labels
from .label_accuracy import label_accuracy  # noqa: E402


def _label_accuracy_applies(inputs: MetricInputs) -> str | None:
    import numpy as np

    if inputs.factors_train.shape[1] != 1:
        return "it needs a single class-label factor (e.g. MNIST / Fashion-MNIST)"
    first = inputs.codes_train[:, 0]
    if not np.allclose(first, np.round(first)) or first.min() < 0:
        return "it needs a categorical code (the first code column holds class indices)"
    return None


def _label_accuracy(inputs: MetricInputs) -> dict[str, Any]:
    return label_accuracy(inputs.codes_train, inputs.factors_train)


register_metric(
    "label_accuracy", _label_accuracy, kind="array", keys=("accuracy", "error", "num_categories"),
    description="best one-to-one matching of the categorical code's classes to the labels (Hungarian)",
    applies=_label_accuracy_applies,
)


# ------------------------------------------------------------------ image quality (kind "image": need a generator)
from .image_quality import (  # noqa: E402
    ImageQualityOptions,
    compute_fd,
    compute_inception_fid,
    compute_inception_kid,
    compute_kid,
    image_quality_options,
    seeded_generate,
)

_KID_KEYS = ("kid_mean", "kid_std")
register_metric("fd", compute_fd, kind="image", keys=("fd",),
                description="Frechet distance of the shipped factor-classifier features (sha256 in config.image_quality)")
register_metric("kid", compute_kid, kind="image", keys=_KID_KEYS,
                description="KID (unbiased cubic-polynomial MMD^2 over subsets) of the shipped factor-classifier features")
register_metric("inception_fid", compute_inception_fid, kind="image", keys=("fid",),
                description="Frechet distance of a user-supplied TorchScript Inception network's features")
register_metric("inception_kid", compute_inception_kid, kind="image", keys=_KID_KEYS,
                description="KID of a user-supplied TorchScript Inception network's features")
__all__ += ["ImageQualityOptions", "image_quality_options", "seeded_generate"]
