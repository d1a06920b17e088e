"""Evaluation protocols: every sample size, bin count and estimator a metric suite uses.

* ``dlib`` (the default, :data:`DLIB`): disentanglement_lib's ``unsupervised_study_v1``
  metric configs. Numbers are comparable with published tables (given the same library
  versions, which every result records).
* ``fast`` (:data:`FAST`): the same definitions with far fewer samples and cheaper estimators
  for DCI and SAP (see :mod:`infogan_kit.metrics.fast`); whole suite in seconds. For
  in-training logging and quick looks only: **not comparable with published numbers**, and
  every result says so.

Add your own with ``dataclasses.replace(DLIB, name="big", num_train=50_000, ...)`` and pass the
object wherever a protocol name is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import MetricError

DLIB_ESTIMATORS: tuple[tuple[str, str], ...] = (
    ("beta_vae", "sklearn LogisticRegression() on mean |z1 - z2| of pairs sharing one factor"),
    ("factor_vae", "majority vote over argmin of normalized per-dimension variance"),
    ("mig", "20-bin histogram discretizer + sklearn mutual_info_score (nats)"),
    ("dci", "sklearn GradientBoostingClassifier() per factor (random_state=seed: breaks exact ties only), impurity importances"),
    ("sap", "sklearn LinearSVC(C=0.01, class_weight='balanced') per (code, factor)"),
    ("modularity", "20-bin histogram MI; explicitness: LogisticRegression() on standardized codes, one-vs-rest ROC-AUC"),
    ("irs", "20-bin histogram discretizer on the factors, diff quantile 0.99"),
    ("unsupervised", "Gaussian total correlation / Wasserstein correlation of the code covariance; 20-bin histogram MI"),
)
"""Metric name -> estimator, as disentanglement_lib constructs them."""

FAST_ESTIMATORS: tuple[tuple[str, str], ...] = tuple(
    (name, text)
    for name, text in DLIB_ESTIMATORS
    if name not in ("dci", "sap")
) + (
    ("dci", "sklearn RandomForestClassifier(n_estimators=20, max_features=None, min_samples_leaf=10) per factor, impurity importances"),
    ("sap", "1-D histogram classifier (20 train bins, majority class per bin) per (code, factor)"),
)


@dataclass(frozen=True)
class Protocol:
    """Every choice that changes a metric's value, besides the metric definitions themselves.

    Attributes:
        name: protocol name recorded in results (``"dlib"``, ``"fast"``, ...).
        comparable: whether numbers are comparable with published (disentanglement_lib) tables.
        description: one line for tables and docs.
        num_train: train rows of the array metrics (MIG, DCI, SAP, modularity, IRS, unsupervised).
        num_test: test rows of the array metrics that fit estimators (DCI, SAP, modularity).
        num_bins: histogram bins of the discretizer (MIG, modularity, IRS, unsupervised).
        beta_vae_batch_size: points per BetaVAE pair batch.
        beta_vae_num_train: BetaVAE training points (one per batch pair).
        beta_vae_num_eval: BetaVAE evaluation points.
        factor_vae_batch_size: points per FactorVAE vote batch.
        factor_vae_num_train: FactorVAE training votes.
        factor_vae_num_eval: FactorVAE evaluation votes.
        factor_vae_num_variance_estimate: points for the global variances (ddof=1).
        factor_vae_prune_threshold: dimensions with global std below this are pruned.
        irs_diff_quantile: IRS quantile of the interventional differences.
        fast_estimators: use the cheap estimators of :mod:`infogan_kit.metrics.fast` where a
            metric has one (DCI, SAP).
        estimators: ``(metric, estimator description)`` pairs recorded in every result.
    """

    name: str
    comparable: bool
    description: str
    num_train: int = 10_000
    num_test: int = 5_000
    num_bins: int = 20
    beta_vae_batch_size: int = 64
    beta_vae_num_train: int = 10_000
    beta_vae_num_eval: int = 5_000
    factor_vae_batch_size: int = 64
    factor_vae_num_train: int = 10_000
    factor_vae_num_eval: int = 5_000
    factor_vae_num_variance_estimate: int = 10_000
    factor_vae_prune_threshold: float = 0.05
    irs_diff_quantile: float = 0.99
    fast_estimators: bool = False
    estimators: tuple[tuple[str, str], ...] = DLIB_ESTIMATORS

    def sizes(self) -> dict[str, dict[str, Any]]:
        """Every sample size, grouped by the metrics that use it (recorded in results)."""
        return {
            "array": {"num_train": self.num_train, "num_test": self.num_test},
            "beta_vae": {
                "batch_size": self.beta_vae_batch_size,
                "num_train": self.beta_vae_num_train,
                "num_eval": self.beta_vae_num_eval,
            },
            "factor_vae": {
                "batch_size": self.factor_vae_batch_size,
                "num_train": self.factor_vae_num_train,
                "num_eval": self.factor_vae_num_eval,
                "num_variance_estimate": self.factor_vae_num_variance_estimate,
                "prune_threshold": self.factor_vae_prune_threshold,
            },
            "irs": {"diff_quantile": self.irs_diff_quantile},
        }

    def estimator_names(self) -> dict[str, str]:
        """``{metric name: estimator description}`` for the built-in metrics."""
        return dict(self.estimators)


DLIB = Protocol(
    name="dlib",
    comparable=True,
    description="disentanglement_lib unsupervised_study_v1 sizes and estimators (comparable with published numbers)",
)
"""disentanglement_lib's protocol (the default)."""

FAST = Protocol(
    name="fast",
    comparable=False,
    description="few samples and cheap estimators for quick looks; NOT comparable with published numbers",
    num_train=2_000,
    num_test=1_000,
    # Sampling metrics represent batch_size * (num_train + num_eval) images (x2 for BetaVAE's
    # pairs): ~15,000 + ~9,000 images here, a few seconds for a real network on 2 CPU cores.
    beta_vae_batch_size=16,
    beta_vae_num_train=300,
    beta_vae_num_eval=150,
    factor_vae_batch_size=16,
    factor_vae_num_train=300,
    factor_vae_num_eval=150,
    factor_vae_num_variance_estimate=2_000,
    fast_estimators=True,
    estimators=FAST_ESTIMATORS,
)
"""The fast protocol: the whole suite in seconds; labelled not comparable in every output."""

PROTOCOLS: dict[str, Protocol] = {DLIB.name: DLIB, FAST.name: FAST}


def get_protocol(protocol: str | Protocol) -> Protocol:
    """The protocol named ``protocol`` (a :class:`Protocol` is returned as is).

    Raises:
        MetricError: unknown name (the message lists the known ones).
    """
    if isinstance(protocol, Protocol):
        return protocol
    try:
        return PROTOCOLS[protocol]
    except (KeyError, TypeError):
        raise MetricError(f"unknown protocol {protocol!r}; available: {', '.join(PROTOCOLS)}") from None
