"""The fast protocol: labelled not comparable, fast on a 10-dim dSprites representation, and in
ranking agreement with the dlib protocol's estimators on representations of different quality."""

from __future__ import annotations

import numpy as np
import torch

from infogan_kit import metrics
from infogan_kit.metrics import DLIB, FAST

GRID = (3, 4, 6)
RANKED = [
    ("beta_vae", "eval_accuracy"),
    ("factor_vae", "eval_accuracy"),
    ("mig", "score"),
    ("dci", "disentanglement"),
    ("dci", "completeness"),
    ("dci", "informativeness_test"),
    ("sap", "score"),
    ("modularity", "explicitness_test"),
    ("irs", "score"),
]
# the dlib estimators at small sizes, so the comparison stays cheap
SMALL_DLIB = DLIB.replace(
    name="dlib_small", num_train=300, num_test=150, beta_vae_num_train=300, beta_vae_num_eval=300,
    factor_vae_num_train=300, factor_vae_num_eval=300, factor_vae_num_variance_estimate=1000,
)


def representation(quality: str):
    """Codes of factors: 'good' = each factor alone in one code; 'medium' = mixed; 'bad' = dense mixing + noise."""
    rng = np.random.default_rng(0)
    k = len(GRID)
    mixing = {"good": np.eye(k), "medium": np.eye(k) + 0.5 * rng.normal(size=(k, k)), "bad": rng.normal(size=(k, k))}[quality]
    noise = {"good": 0.02, "medium": 0.1, "bad": 0.5}[quality]
    scale = np.array(GRID) - 1.0

    def represent(factors: torch.Tensor) -> np.ndarray:
        codes = np.concatenate([factors.numpy() / scale @ mixing, np.zeros((len(factors), 2))], axis=1)
        return codes + noise * rng.normal(size=codes.shape)

    return represent


def scores(protocol) -> dict[str, dict[tuple[str, str], float]]:
    table = {}
    for quality in ("good", "medium", "bad"):
        result = metrics.evaluate_representation(representation(quality), GRID, "all", protocol, seed=0, n_jobs=1)
        table[quality] = {(name, key): result["metrics"][name][key] for name, key in RANKED}
    return table


def test_fast_agrees_in_ranking_with_dlib() -> None:
    reference, fast = scores(SMALL_DLIB), scores(FAST)
    checked = 0
    for metric in RANKED:
        for better, worse in (("good", "medium"), ("medium", "bad"), ("good", "bad")):
            gap = reference[better][metric] - reference[worse][metric]
            if abs(gap) < 0.05:  # the reference itself does not separate these two
                continue
            checked += 1
            assert np.sign(fast[better][metric] - fast[worse][metric]) == np.sign(gap), (metric, better, worse)
    assert checked >= 2 * len(RANKED)  # most pairs are separated: the test has teeth


def test_fast_result_is_labelled_not_comparable_everywhere() -> None:
    result = metrics.evaluate_representation(representation("good"), GRID, "mig", "fast")
    assert result["protocol"] == "fast" and result["comparable"] is False
    assert "NOT comparable" in result["notes"][0]
    assert "NOT comparable" in metrics.format_table(result).splitlines()[0]
    assert result["config"]["estimators"]["mig"] == dict(FAST.estimators)["mig"]
    assert result["config"]["sizes"]["array"] == {"num_train": FAST.num_train, "num_test": FAST.num_test}
    assert "RandomForest" in dict(FAST.estimators)["dci"] and "Gradient" in dict(DLIB.estimators)["dci"]


def test_fast_suite_runs_every_metric_on_a_10_dim_dsprites_model() -> None:
    """The whole fast suite on a 10-dim linear representation of procedural dSprites images
    (its speed is measured by bench/metrics.py, not asserted here)."""
    from infogan_kit.data import load_dataset

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64, 10))
    result = metrics.evaluate(model, load_dataset("dsprites"), "all", "fast", seed=0)
    core = {"beta_vae", "factor_vae", "mig", "dci", "sap", "modularity", "irs", "unsupervised"}
    assert core <= set(result["metrics"])
    assert "label_accuracy" not in result["metrics"]  # no class-label factor here
    assert result["comparable"] is False