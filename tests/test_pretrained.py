"""The small models shipped under checkpoints/pretrained/ load and reproduce their recorded metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from infogan_kit.cli import cli
from infogan_kit.run import load_run

PRETRAINED = Path(__file__).resolve().parents[1] / "checkpoints" / "pretrained"
SHIPPED = ["infogan-cr-dsprites", "beta-vae-dsprites"]


@pytest.mark.parametrize("name", SHIPPED)
def test_pretrained_model_reproduces_recorded_fast_metrics(name: str) -> None:
    run_dir = PRETRAINED / name
    # expected values live in a file no command writes (the run directory is marked SHIPPED)
    recorded = json.loads((run_dir / "expected-metrics.json").read_text())
    run = load_run(run_dir, device="cpu")
    result = run.evaluate(names=",".join(recorded["metrics"]), protocol="fast", seed=recorded["seed"], merge=False)
    for metric, values in recorded["metrics"].items():
        for key, value in values.items():
            assert result["metrics"][metric][key] == pytest.approx(value, abs=1e-6), f"{metric}.{key}"


@pytest.mark.parametrize("name", SHIPPED)
def test_pretrained_model_samples_and_traverses(name: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["traverse", str(PRETRAINED / name), "-o", str(tmp_path / "t.png"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["sample", str(PRETRAINED / name), "-n", "16", "-o", str(tmp_path / "s.png"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    checkpoint = next((PRETRAINED / name).glob("checkpoint-*.pt"))
    assert checkpoint.stat().st_size < 8 * 2**20  # small enough to ship in the repository
