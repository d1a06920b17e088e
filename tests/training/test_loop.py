"""The loop: precision modes, exact resume, skipped steps, time budget, run directory."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from infogan_kit.errors import ConfigError
from infogan_kit.training.api import train
from infogan_kit.training.checkpoint import list_checkpoints, load_checkpoint
from infogan_kit.training.loop import TrainingStopped

from ..conftest import tiny_config


def _weights(path: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(path)
    flat = {}
    for group in ("networks", "ema"):
        for name, sd in state[group].items():
            for key, value in sd.items():
                flat[f"{group}.{name}.{key}"] = value
    for name, sd in state["optimizers"].items():
        for index, param_state in sd["state"].items():
            for key, value in param_state.items():
                flat[f"opt.{name}.{index}.{key}"] = value
    return flat


def _cr_config(steps: int):
    config = tiny_config(model="infogan-cr", steps=steps)
    config.model.alpha_start = 6  # H is re-initialized mid-run, before the resume point
    config.model.gap_schedule = [[14, 0.2]]  # and again after it
    config.model.g_steps = 2
    return config


@pytest.mark.parametrize("model", ["infogan", "infogan-cr"])
def test_exact_resume_matches_straight_run(tmp_path: Path, model: str) -> None:
    make = (lambda steps: tiny_config(steps=steps)) if model == "infogan" else _cr_config
    straight = train(make(20), out=tmp_path / "straight", final_metrics=False)
    first = train(make(10), out=tmp_path / "resumed", final_metrics=False)
    assert first.step == 10
    resumed = train(make(20), resume=tmp_path / "resumed", final_metrics=False)
    assert resumed.step == 20 and resumed.images_seen == straight.images_seen
    a, b = _weights(straight.checkpoint), _weights(resumed.checkpoint)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("precision", ["fp32", "bf16", "fp16"])
def test_precision_modes_train_and_keep_scaler_state(tmp_path: Path, precision: str) -> None:
    run = train(tiny_config(steps=4, precision=precision), out=tmp_path / precision, final_metrics=False)
    state = load_checkpoint(run.checkpoint)
    assert state["precision"] == precision
    # only fp16 scales losses; fp32/bf16 run no GradScaler (the fused Adam skips non-finite steps itself)
    assert set(state["scalers"]) == ({"G", "D"} if precision == "fp16" else set())
    if precision == "fp16":
        assert state["scalers"]["G"]["scale"] > 0
        assert state["scalers"]["D"]["_growth_tracker"] >= 0 and state["scalers"]["D"]["growth_interval"] == 2000
        resumed = train(tiny_config(steps=6, precision=precision), resume=tmp_path / precision, final_metrics=False)
        assert resumed.step == 6
    rows = [json.loads(line) for line in (run.run_dir / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == ([2, 4, 6] if precision == "fp16" else [2, 4])
    for name in ("Loss/D", "Loss/G", "Loss/Q/continuous", "D/real", "D/fake", "Grad/G_norm", "AMP/scale", "Perf/img_per_s", "Steps/skipped"):
        assert math.isfinite(rows[-1][name]), name


def test_fp16_scaler_state_round_trips(tmp_path: Path) -> None:
    from infogan_kit.training.loop import Trainer

    config = tiny_config(steps=3, precision="fp16")
    run = train(config, out=tmp_path / "fp16", final_metrics=False)
    state = load_checkpoint(run.checkpoint)
    trainer = Trainer(config, run.run_dir, resume_state=state)
    assert trainer.scalers["G"].state_dict() == state["scalers"]["G"]
    assert trainer.scalers["D"].state_dict() == state["scalers"]["D"]


def test_non_finite_steps_are_skipped_then_training_stops(tmp_path: Path) -> None:
    config = tiny_config(steps=50, max_consecutive_skips=3)
    config.optim.lr_d = 1e30  # overflows to inf/nan within a step or two
    config.optim.lr_g = 1e30
    with pytest.raises(TrainingStopped, match="consecutive steps"):
        train(config, out=tmp_path / "nan", final_metrics=False)
    checkpoints = list_checkpoints(tmp_path / "nan")
    assert checkpoints, "a checkpoint must be saved before stopping"
    assert load_checkpoint(checkpoints[-1])["skipped_steps"] >= 3


def test_time_budget_stops_and_saves(tmp_path: Path) -> None:
    run = train(tiny_config(steps=100_000, time_budget_min=0.02), out=tmp_path / "budget", final_metrics=False)
    assert run.stop_reason == "time_budget"
    assert 0 < run.step < 100_000
    assert load_checkpoint(run.checkpoint)["step"] == run.step
    assert not (run.run_dir / "metrics.json").exists()


def test_time_budgeted_run_still_writes_its_final_images_and_fast_metrics(tmp_path: Path) -> None:
    """The default ``infogan train`` always ends on its time budget: its samples, traversal and
    fast metrics must still be written."""
    run = train(tiny_config(steps=100_000, time_budget_min=0.01), out=tmp_path / "budget")
    assert run.stop_reason == "time_budget"
    scores = json.loads((run.run_dir / "metrics.json").read_text())
    assert scores["fast"]["config"]["step"] == run.step and "mig" in scores["fast"]["metrics"]
    assert any(run.run_dir.glob("samples/*.png")) and any(run.run_dir.glob("traversals/*.png"))


def test_resume_from_another_device_type_starts_a_new_latent_stream(tmp_path: Path) -> None:
    """A CUDA checkpoint holds a Philox latent-generator state (16 bytes), which a CPU generator
    cannot take: the resumed run seeds a new latent stream from the step instead of failing."""
    first = train(tiny_config(steps=2), out=tmp_path / "moved", final_metrics=False)
    state = torch.load(first.checkpoint, weights_only=True)
    for rng in state["rng_per_rank"] + [state["rng"]]:
        rng["latent"] = torch.zeros(16, dtype=torch.uint8)  # the size of a CUDA generator's state
    torch.save(state, first.checkpoint)
    resumed = train(tiny_config(steps=4), resume=tmp_path / "moved", final_metrics=False)
    assert resumed.step == 4
    again = train(tiny_config(steps=2), out=tmp_path / "again", final_metrics=False)
    torch.save(state, again.checkpoint)
    repeat = train(tiny_config(steps=4), resume=tmp_path / "again", final_metrics=False)
    a, b = _weights(resumed.checkpoint), _weights(repeat.checkpoint)
    assert all(torch.equal(a[key], b[key]) for key in a)  # the new stream is seeded, not random


def test_existing_out_is_refused(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file.txt").write_text("x")
    with pytest.raises(ConfigError, match="already exists"):
        train(tiny_config(steps=1), out=tmp_path / "taken")
    assert sorted(p.name for p in (tmp_path / "taken").iterdir()) == ["file.txt"]


def test_resume_refuses_changed_model_settings(tmp_path: Path) -> None:
    train(tiny_config(steps=2), out=tmp_path / "r", final_metrics=False)
    changed = tiny_config(steps=4)
    changed.optim.lr_g = 5e-4
    with pytest.raises(ConfigError, match="optim.lr_g"):
        train(changed, resume=tmp_path / "r")


def test_run_directory_layout(tiny_run_dir: Path) -> None:
    names = {p.name for p in tiny_run_dir.iterdir()}
    assert {"config.json", "stats.jsonl", "samples", "traversals", "checkpoint-00000004.pt"} <= names
    assert any(n.startswith("events.out.tfevents") for n in names)
    config = json.loads((tiny_run_dir / "config.json").read_text())
    assert config["model"]["name"] == "infogan" and config["train"]["steps"] == 4
    state = load_checkpoint(tiny_run_dir)
    for key in ("networks", "ema", "optimizers", "scalers", "rng", "step", "images_seen", "wall_s", "config", "versions"):
        assert key in state
    assert state["versions"]["torch"] == torch.__version__.split("+")[0] or state["versions"]["torch"].startswith(torch.__version__.split("+")[0])
