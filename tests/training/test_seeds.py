"""``infogan train --seeds``: one run per seed, each bit-equal to a single-seed run of that seed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from infogan_kit.cli import run as cli
from infogan_kit.errors import ConfigError
from infogan_kit.training.checkpoint import load_checkpoint
from infogan_kit.training.seeds import expand_run_dirs, parse_seeds

ARGS = ["train", "--model", "infogan", "--steps", "4", "--batch-size", "8", "--precision", "fp32", "--device", "cpu",
        "--no-final-metrics", "--set", "train.log_every=2", "--set", "train.sample_every=0"]


def _tensors(state: dict) -> dict[str, torch.Tensor]:
    flat = {}
    for section in ("networks", "ema", "optimizers"):
        def walk(value, prefix):
            if isinstance(value, dict):
                for key, inner in value.items():
                    walk(inner, f"{prefix}.{key}")
            elif isinstance(value, torch.Tensor):
                flat[prefix] = value
        walk(state[section], section)
    return flat


def _stats(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()]
    return [{k: v for k, v in row.items() if not k.startswith(("Perf/", "wall", "time"))} for row in rows]


def test_each_seed_equals_its_single_seed_run(tmp_path: Path) -> None:
    assert cli([*ARGS, "--seeds", "3,5", "--out", str(tmp_path / "many")]) == 0
    for seed in (3, 5):
        assert cli([*ARGS, "--seed", str(seed), "--out", str(tmp_path / f"single-{seed}")]) == 0
        many, single = load_checkpoint(tmp_path / "many" / f"seed-{seed}"), load_checkpoint(tmp_path / f"single-{seed}")
        assert many["config"]["train"]["seed"] == seed
        expected, got = _tensors(single), _tensors(many)
        assert expected.keys() == got.keys() and all(torch.equal(expected[k], got[k]) for k in expected)
        assert _stats(tmp_path / "many" / f"seed-{seed}") == _stats(tmp_path / f"single-{seed}")
    assert expand_run_dirs([tmp_path / "many", "other"]) == [str(tmp_path / "many" / "seed-3"), str(tmp_path / "many" / "seed-5"), "other"]
    # --resume of the seeds directory continues every seed
    assert cli(["train", "--resume", str(tmp_path / "many"), "--steps", "6"]) == 0
    assert [load_checkpoint(tmp_path / "many" / f"seed-{s}")["step"] for s in (3, 5)] == [6, 6]


def test_select_ranks_the_seeds_and_select_expands_the_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "seeds"
    assert cli([*ARGS, "--seeds", "0-1", "--select", "--out", str(out)]) == 0
    selection = json.loads((out / "selection.json").read_text())
    assert sorted(entry["run"] for entry in selection["runs"]) == [str(out / "seed-0"), str(out / "seed-1")]
    assert set(selection["methods"]) == {"udr-lasso", "udr-spearman", "centrality"}
    assert cli(["select", str(out), "--method", "udr-lasso", "--num-points", "50"]) == 0
    assert "seed-0" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["", "3-1", "0,0", "a", "1-", "-2", "0-2,1"])
def test_bad_seed_lists_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_seeds(text)


@pytest.mark.parametrize("extra", [["--seeds", "0-1", "--seed", "3"], ["--seeds", "", "--out", "x"], ["--select"],
                                   ["--seeds", "0", "--select"]])
def test_bad_seed_options_give_one_error_line(extra: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([*ARGS, *extra]) != 0
    err = capsys.readouterr().err
    assert sum(line.startswith("Error:") for line in err.splitlines()) == 1 and "Traceback" not in err


def test_seeds_with_a_single_run_resume_and_under_torchrun_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert cli([*ARGS, "--out", str(tmp_path / "one")]) == 0
    assert cli(["train", "--resume", str(tmp_path / "one"), "--seeds", "0-1"]) != 0
    assert "drop --seeds" in capsys.readouterr().err
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert cli([*ARGS, "--seeds", "0-1", "--out", str(tmp_path / "ddp")]) != 0
    assert "torchrun" in capsys.readouterr().err
