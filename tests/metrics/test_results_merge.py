"""metrics.json keeps one entry per protocol; scoring more metrics of the same evaluation extends it."""

from __future__ import annotations

import json
from pathlib import Path

from infogan_kit.metrics import merge_into_metrics_file


def _result(metrics: dict, seed: int = 0, step: int = 10, protocol: str = "dlib", sizes: dict | None = None) -> dict:
    return {"protocol": protocol, "config": {"seed": seed, "dataset": "dsprites", "sizes": sizes or {"array": {"num_train": 10}},
            "run": {"step": step}}, "metrics": metrics, "notes": [], "timings_s": {}}


def test_same_evaluation_is_extended_and_others_replace(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    merge_into_metrics_file(path, _result({"mig": {"score": 0.1}, "dci": {"disentanglement": 0.2}}))
    merge_into_metrics_file(path, _result({"label_accuracy": {"accuracy": 0.5}},
                                          sizes={"array": {"num_train": 10}, "image_quality": {"num_real": 5}}))
    stored = json.loads(path.read_text())["dlib"]
    assert set(stored["metrics"]) == {"mig", "dci", "label_accuracy"}
    merge_into_metrics_file(path, _result({"mig": {"score": 0.3}}, step=20))  # a newer checkpoint
    assert json.loads(path.read_text())["dlib"]["metrics"] == {"mig": {"score": 0.3}}
    merge_into_metrics_file(path, _result({"mig": {"score": 0.9}}, protocol="fast"))
    data = json.loads(path.read_text())
    assert set(data) == {"dlib", "fast"} and data["dlib"]["metrics"] == {"mig": {"score": 0.3}}
    merge_into_metrics_file(path, _result({"sap": {"score": 0.4}}, step=20, seed=1))  # another seed replaces
    assert json.loads(path.read_text())["dlib"]["metrics"] == {"sap": {"score": 0.4}}
