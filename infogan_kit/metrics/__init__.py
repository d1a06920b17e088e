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

Every metric is registered in :data:`METRICS`. A metric is declared in its own module with the
:func:`metric` decorator (kind, keys, per-protocol sizes and estimator text); add your own the
same way, or with :func:`register_metric`. Make a custom protocol with
``FAST.replace(name="tiny", num_train=200, factor_vae_num_train=100)``.
"""

from __future__ import annotations

# The metric modules register their metrics when imported: this order is the order of
# ``names="all"`` and of every result's "metrics".
from .beta_vae import beta_vae
from .factor_vae import factor_vae
from .mig import mig
from .dci import dci
from .sap import sap
from .modularity import modularity
from .irs import irs
from .unsupervised import unsupervised
from .label_accuracy import label_accuracy
from .image_quality import ImageQualityOptions, image_quality_options, seeded_generate

from .codes_file import CodesFile, read_codes_file, write_codes_file
from .fast import fast_dci, fast_sap
from .protocol import DLIB, FAST, PROTOCOLS, Protocol, get_protocol
from .registry import (
    METRICS,
    MetricInputs,
    MetricSpec,
    metric,
    metric_names,
    register_metric,
    resolve_names,
    run_suite,
)
from .results import build_result, format_table, merge_into_metrics_file, read_metrics_file, write_json_atomic
from .sampling import RepresentFactors, lookup_representation, model_representation, sample_uniform_factors
from .suite import evaluate, evaluate_codes, evaluate_representation

__all__ = [
    "DLIB", "FAST", "METRICS", "PROTOCOLS", "CodesFile", "ImageQualityOptions", "MetricInputs", "MetricSpec",
    "Protocol", "RepresentFactors", "beta_vae", "build_result", "dci", "evaluate", "evaluate_codes",
    "evaluate_representation", "factor_vae", "fast_dci", "fast_sap", "format_table", "get_protocol",
    "image_quality_options", "irs", "label_accuracy", "lookup_representation", "merge_into_metrics_file", "metric",
    "metric_names", "mig", "model_representation", "modularity", "read_codes_file", "read_metrics_file",
    "register_metric", "resolve_names", "run_suite", "sample_uniform_factors", "sap", "seeded_generate",
    "unsupervised", "write_codes_file", "write_json_atomic",
]
