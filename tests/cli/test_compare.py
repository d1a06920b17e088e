"""``infogan compare``: every report file, the HTML parses and is self-contained, seeds aggregate
to mean +- std, stored results are reused only under the same protocol, mixed protocols refused.

One comparison of three tiny runs (an InfoGAN and two seeds of a beta-VAE) under the fast
protocol with two cheap metrics is shared by the tests that only read its output.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import csv
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from infogan_kit.cli import run as cli_run
from infogan_kit.compare.scores import (
    RunScores,
    check_same_protocol,
    choose_protocol,
    config_key,
    group_runs,
    unusable_reason,
)
from infogan_kit.errors import MetricError
from infogan_kit.metrics import DLIB, FAST

from ..conftest import tiny_config, train

METRICS = "mig,factor_vae"
EXPECTED_FILES = ("report.md", "report.html", "scores.csv", "scores.json", "traversals.png",
                  "bars-mig-score.png", "bars-factor_vae-eval_accuracy.png")


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three finished tiny runs without stored metrics: gan, vae (seed 0), vae-seed1."""
    root = tmp_path_factory.mktemp("compare-runs")
    paths = {"gan": root / "gan", "vae": root / "vae", "vae-seed1": root / "vae-seed1"}
    train(tiny_config("infogan", steps=2), out=paths["gan"], final_metrics=False)
    train(tiny_config("beta-vae", steps=2, seed=0), out=paths["vae"], final_metrics=False)
    train(tiny_config("beta-vae", steps=2, seed=1), out=paths["vae-seed1"], final_metrics=False)
    return paths


@pytest.fixture(scope="module")
def compared(runs: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``infogan compare`` of the three runs (fast protocol): exit status, output, folder."""
    out = tmp_path_factory.mktemp("compare-out") / "report"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = cli_run(["compare", *map(str, runs.values()), "--protocol", "fast", "--metrics", METRICS, "--out", str(out)])
    return {"status": status, "printed": printed.getvalue(), "out": out,
            "scores": json.loads((out / "scores.json").read_text()) if status == 0 else None}


def test_compare_writes_every_file_and_prints_the_table(compared: dict, runs: dict[str, Path]) -> None:
    assert compared["status"] == 0, compared["printed"]
    out = compared["out"]
    for name in EXPECTED_FILES:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    for png in out.glob("*.png"):
        with Image.open(png) as image:
            assert image.format == "PNG" and min(image.size) > 50
    printed = compared["printed"]
    for text in ("model", "family", "steps", "wall time", "mig.score", "factor_vae.eval_accuracy", "infogan", "beta-vae", "NOT comparable"):
        assert text in printed
    with open(out / "scores.csv", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [row["label"] for row in rows] == ["gan", "vae", "vae-seed1"]
    assert {row["protocol"] for row in rows} == {"fast"} and all(row["mig.score"] for row in rows)
    for path in runs.values():  # evaluated results were merged into each run's metrics.json
        stored = json.loads((path / "metrics.json").read_text())["fast"]
        assert stored["protocol"] == "fast" and {"mig", "factor_vae"} <= set(stored["metrics"])
        assert stored["config"]["sizes"] == FAST.sizes()
    report = (out / "report.md").read_text()
    assert "NOT comparable with published ones" in report and "| infogan | gan |" in report


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.headers: list[str] = []
        self.text: list[str] = []
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append(tag)
        attributes = dict(attrs)
        if tag == "img":
            self.images.append(attributes.get("src", ""))
        self._in_th = tag == "th"

    def handle_endtag(self, tag: str) -> None:
        self._in_th = False if tag == "th" else self._in_th

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_th:
            self.headers.append(data)


def test_html_report_parses_and_is_self_contained(compared: dict) -> None:
    assert compared["status"] == 0
    parser = _Collector()
    parser.feed((compared["out"] / "report.html").read_text(encoding="utf-8"))
    parser.close()
    assert parser.tags[0] == "html" and "body" in parser.tags
    assert parser.tags.count("table") >= 3
    for header in ("model", "family", "steps", "wall time", "mig.score", "factor_vae.eval_accuracy"):
        assert header in parser.headers
    pngs = list(compared["out"].glob("*.png"))
    assert len(parser.images) == len(pngs)
    for source in parser.images:
        assert source.startswith("data:image/png;base64,")
        assert base64.b64decode(source.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(parser.text)
    assert "Protocol fast" in text and "NOT comparable" in text and "torch" in text  # protocol and versions


def test_seeds_of_one_model_aggregate_to_mean_and_std(compared: dict) -> None:
    assert compared["status"] == 0
    scores = compared["scores"]
    groups = {group["model"]: group for group in scores["groups"]}
    assert set(groups) == {"infogan", "beta-vae"}
    vae = groups["beta-vae"]
    assert vae["num_runs"] == 2 and sorted(vae["seeds"]) == [0, 1]
    members = [run for run in scores["runs"] if run["model"] == "beta-vae"]
    column = "factor_vae.train_accuracy"
    values = [run["values"][column] for run in members]
    assert vae["mean"][column] == pytest.approx(np.mean(values))
    assert vae["std"][column] == pytest.approx(np.std(values, ddof=1))
    assert groups["infogan"]["std"]["mig.score"] is None  # one run: no spread
    mean, std = vae["mean"]["mig.score"], vae["std"]["mig.score"]
    assert f"{mean:.3f} ± {std:.3f}" in (compared["out"] / "report.md").read_text(encoding="utf-8")
    assert f"{mean:.3f} +- {std:.3f}" in compared["printed"]


def test_a_second_compare_reuses_the_stored_results(compared: dict, runs: dict[str, Path], tmp_path: Path) -> None:
    assert compared["status"] == 0
    out = tmp_path / "again"
    assert cli_run(["compare", str(runs["gan"]), str(runs["vae"]), "--metrics", METRICS, "--out", str(out)]) == 0
    again = json.loads((out / "scores.json").read_text())
    assert again["protocol"] == "fast"  # no --protocol: the one every run has results for
    assert [run["source"] for run in again["runs"]] == ["metrics.json", "metrics.json"]
    first = {run["label"]: run["values"] for run in compared["scores"]["runs"]}
    assert all(run["values"] == first[run["label"]] for run in again["runs"])


def _stored_fast(path: Path) -> dict:
    return json.loads((path / "metrics.json").read_text())["fast"]


def test_compare_refuses_runs_with_results_of_different_protocols(compared: dict, runs: dict[str, Path], tmp_path: Path, capsys) -> None:
    assert compared["status"] == 0
    gan, vae = tmp_path / "gan", tmp_path / "vae"
    for source, target in ((runs["gan"], gan), (runs["vae"], vae)):
        shutil.copytree(source, target)
    labelled_dlib = copy.deepcopy(_stored_fast(vae))  # pretend it is a dlib result: sizes included
    labelled_dlib["protocol"], labelled_dlib["config"]["sizes"] = "dlib", DLIB.sizes()
    labelled_dlib["config"]["protocol_version"] = DLIB.version
    (vae / "metrics.json").write_text(json.dumps({"dlib": labelled_dlib}))
    capsys.readouterr()
    assert cli_run(["compare", str(gan), str(vae), "--metrics", METRICS, "--out", str(tmp_path / "out")]) == 1
    error = capsys.readouterr().err
    assert "different protocols" in error and "--protocol" in error
    assert not (tmp_path / "out").exists()
    with pytest.raises(MetricError, match="different protocols"):
        check_same_protocol([("gan", _stored_fast(gan)), ("vae", labelled_dlib)])


def test_a_result_with_another_protocols_sizes_is_never_shown_as_dlib(compared: dict, runs: dict[str, Path]) -> None:
    assert compared["status"] == 0
    fast = _stored_fast(runs["gan"])
    step = fast["config"]["step"]
    mislabelled = dict(copy.deepcopy(fast), protocol="dlib")  # named dlib, fast sizes
    assert "other sample sizes" in unusable_reason(mislabelled, DLIB, seed=0, step=step)
    assert unusable_reason(fast, FAST, seed=0, step=step) is None
    assert "seed" in unusable_reason(fast, FAST, seed=3, step=step)
    assert "step" in unusable_reason(fast, FAST, seed=0, step=step + 10)
    older = copy.deepcopy(fast)
    older["config"]["protocol_version"] = FAST.version - 1  # same sizes, an earlier revision of the protocol
    assert f"protocol version {FAST.version - 1}" in unusable_reason(older, FAST, seed=0, step=step)
    stored = [("gan", {"dlib": mislabelled, "fast": fast}, step), ("vae", {"fast": fast}, step)]
    assert choose_protocol(stored, seed=0) == "fast"
    assert choose_protocol([("new", {}, 0)], seed=0) == "dlib"


def test_runs_differing_only_by_seed_share_a_group_other_settings_do_not() -> None:
    base, reseeded, other = tiny_config("beta-vae", seed=0), tiny_config("beta-vae", seed=7, log_every=5), tiny_config("beta-vae")
    other.model.beta = 16.0
    assert config_key(base) == config_key(reseeded) != config_key(other)
    result = {"protocol": "fast", "metrics": {"mig": {"score": 0.5}}}
    entries = [RunScores(None, name, "beta-vae", "vae", json.dumps(config_key(config), sort_keys=True), 0, 1, 1, 1.0, result, "x")
               for name, config in (("a", base), ("b", reseeded), ("c", other))]
    groups = group_runs(entries, ["mig.score"])
    assert [len(group.runs) for group in groups] == [2, 1]
    assert groups[0].label == "beta-vae [beta=4.0]" and groups[1].label == "beta-vae [beta=16.0]"
    assert groups[0].mean["mig.score"] == 0.5 and groups[0].std["mig.score"] == 0.0


def test_compare_usage_errors(runs: dict[str, Path]) -> None:
    assert cli_run(["compare"]) == 2
    assert cli_run(["compare", str(runs["gan"]), str(runs["gan"])]) == 2
    assert cli_run(["compare", str(runs["gan"]), "--protocol", "nope"]) == 2
    assert cli_run(["compare", str(runs["gan"]), "--metrics", "nope"]) == 2


def test_results_with_and_without_image_quality_sizes_compare() -> None:
    from infogan_kit.compare.scores import check_same_protocol

    base = {"array": {"num_train": 10000, "num_test": 5000}}
    gan = {"protocol": "dlib", "config": {"sizes": {**base, "image_quality": {"num_real": 10000}}}}
    vae = {"protocol": "dlib", "config": {"sizes": dict(base)}}
    assert check_same_protocol([("gan", gan), ("vae", vae)]) == "dlib"
    other = {"protocol": "dlib", "config": {"sizes": {"array": {"num_train": 2000, "num_test": 1000}}}}
    with pytest.raises(Exception, match="different protocols or sample sizes"):
        check_same_protocol([("gan", gan), ("other", other)])
