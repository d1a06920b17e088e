"""A metric declared in one place (``@metric``: kind, keys, per-protocol sizes, estimator text)
and protocols that keep only shared settings plus overrides of those sizes."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from infogan_kit import metrics
from infogan_kit.errors import MetricError
from infogan_kit.metrics import DLIB, FAST, METRICS

# (dlib, fast) of every recorded size, as in the protocols' table of docs/metrics.md
SIZES = {
    "array": {"num_train": (10_000, 1_000), "num_test": (5_000, 500)},
    "beta_vae": {"batch_size": (64, 8), "num_train": (10_000, 150), "num_eval": (5_000, 75)},
    "factor_vae": {"batch_size": (64, 8), "num_train": (10_000, 150), "num_eval": (5_000, 75),
                   "num_variance_estimate": (10_000, 1_000), "prune_threshold": (0.05, 0.05)},
    "irs": {"diff_quantile": (0.99, 0.99)},
}
DLIB_SIZES, FAST_SIZES = ({key: {size: pair[column] for size, pair in sizes.items()} for key, sizes in SIZES.items()}
                          for column in (0, 1))


def test_built_in_protocol_sizes_and_legacy_attribute_names() -> None:
    assert DLIB.sizes() == DLIB_SIZES and FAST.sizes() == FAST_SIZES
    assert list(FAST.sizes()) == ["array", "beta_vae", "factor_vae", "irs"]
    assert (FAST.factor_vae_batch_size, FAST.factor_vae_num_variance_estimate, FAST.factor_vae_prune_threshold) == (8, 1000, 0.05)
    assert DLIB.image_quality_num_real == 10_000 and FAST.metric_sizes("image_quality") == {"num_real": 2000, "num_generated": 1000}
    assert (DLIB.version, FAST.version, FAST.replace(name="mine").version) == (1, 2, 2)
    with pytest.raises(AttributeError, match="no attribute"):
        FAST.factor_vae_votes  # noqa: B018


def test_a_custom_protocol_is_one_call() -> None:
    tiny = FAST.replace(name="tiny", num_train=200, factor_vae_num_train=100, image_quality_num_real=50)
    assert (tiny.name, tiny.num_train, tiny.num_test, tiny.base, tiny.fast_estimators) == ("tiny", 200, 500, "fast", True)
    assert tiny.sizes()["factor_vae"] == {**FAST_SIZES["factor_vae"], "num_train": 100}
    assert tiny.metric_sizes("image_quality") == {"num_real": 50, "num_generated": 1000}
    # dataclasses.replace takes the same arguments, and keeps earlier overrides
    again = dataclasses.replace(tiny, factor_vae_num_eval=7)
    assert (again.factor_vae_num_train, again.factor_vae_num_eval, again.num_train) == (100, 7, 200)
    assert again == tiny.replace(factor_vae_num_eval=7) and hash(again) == hash(tiny.replace(factor_vae_num_eval=7))
    assert tiny.estimator_names() == FAST.estimator_names()
    with pytest.raises(MetricError, match="factor_vae_num_train"):
        FAST.replace(factorvae_num_train=3)


def test_estimator_text_follows_the_protocol_base() -> None:
    assert "Gradient" in DLIB.estimator_names()["dci"] and "RandomForest" in FAST.estimator_names()["dci"]
    assert DLIB.estimator_names()["mig"] == FAST.estimator_names()["mig"]
    assert "label_accuracy" not in DLIB.estimator_names()  # no estimator declared: results record the description
    assert METRICS.get("label_accuracy").estimator_for(DLIB) == METRICS.get("label_accuracy").description


def test_a_metric_declares_kind_keys_sizes_and_estimator_in_one_place(scratch_metric) -> None:
    seen = {}
    scratch_metric.append("sized_rows")

    @metrics.metric("sized_rows", kind="array", keys=("rows",), estimator={"dlib": "count", "fast": "quick count"},
                    sizes={"dlib": {"limit": 40, "scale": 2.0}, "fast": {"limit": 20}})
    def compute_sized_rows(inputs: metrics.MetricInputs) -> dict[str, float]:
        seen.update(inputs.protocol.metric_sizes("sized_rows"))
        return {"rows": float(min(len(inputs.codes_train), seen["limit"]))}

    assert compute_sized_rows.__name__ == "compute_sized_rows"  # the decorator returns the function
    rng = np.random.default_rng(0)
    factors = rng.integers(0, 3, size=(90, 2))
    codes = factors + 0.1 * rng.normal(size=(90, 2))
    fast = metrics.evaluate_codes(codes, factors, names="sized_rows", protocol="fast", num_train=60, num_test=30)
    assert fast["metrics"]["sized_rows"] == {"rows": 20.0} and seen == {"limit": 20, "scale": 2.0}
    assert fast["config"]["sizes"]["sized_rows"] == {"limit": 20, "scale": 2.0}
    assert fast["config"]["estimators"]["sized_rows"] == "quick count"
    custom = DLIB.replace(name="big", sized_rows_limit=50)
    result = metrics.evaluate_codes(codes, factors, names="sized_rows", protocol=custom, num_train=60, num_test=30)
    assert result["metrics"]["sized_rows"] == {"rows": 50.0} and result["config"]["estimators"]["sized_rows"] == "count"


def test_register_metric_is_the_function_form(scratch_metric) -> None:
    scratch_metric.append("plain")
    spec = metrics.register_metric("plain", lambda inputs: {"score": 1.0}, kind="array", keys=("score",),
                                   estimator="constant", sizes={"dlib": {"n": 1}})
    assert spec is METRICS.get("plain") and spec.kind == "array" and spec.sizes_key == "plain"
    assert spec.estimator_for(FAST) == "constant" and FAST.metric_sizes("plain") == {"n": 1}


def test_invalid_sizes_declarations(scratch_metric) -> None:
    scratch_metric.extend(["no_dlib", "extra", "image_clash"])
    with pytest.raises(MetricError, match="'dlib' entry"):
        metrics.register_metric("no_dlib", lambda inputs: {"score": 1.0}, sizes={"fast": {"n": 1}})
    with pytest.raises(MetricError, match="'dlib' entry"):
        metrics.register_metric("extra", lambda inputs: {"score": 1.0}, sizes={"dlib": {"n": 1}, "fast": {"m": 2}})
    with pytest.raises(MetricError, match="other sizes"):
        metrics.register_metric("image_clash", lambda inputs: {"fd": 0.0}, kind="image", keys=("fd",),
                                sizes={"dlib": {"num_real": 1, "num_generated": 1}}, sizes_key="image_quality")
    assert not {"no_dlib", "extra", "image_clash"} & set(metrics.metric_names())
