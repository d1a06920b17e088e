"""stylegan-info end to end: a few steps per injection mode, checkpoint round trip, exact resume,
lazy phases, eager regularization phases under compile, precision, sample/traverse/mixing."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from infogan_kit.cli import run as cli_run
from infogan_kit.config import RunConfig
from infogan_kit.errors import ConfigError
from infogan_kit.recipes import get_model
from infogan_kit.run import load_run
from infogan_kit.training.api import train
from infogan_kit.training.checkpoint import load_checkpoint

from ..conftest import build_model, tiny_config

INJECTIONS = ["z-concat", "w-space", "per-layer"]


def stylegan_config(injection: str = "w-space", steps: int = 4, precision: str = "fp32") -> RunConfig:
    """Tiny widths, every phase due often: R1 and Greg every 2 steps, ADA moving fast."""
    config = tiny_config("stylegan-info", steps=steps, batch_size=8, precision=precision)
    model = config.model
    model.injection = injection
    model.code_layers = "c1=4,8;c2=16-64" if injection == "per-layer" else "auto"
    model.channel_base, model.channel_max, model.w_dim, model.mapping_layers = 128, 8, 8, 2
    model.r1_interval, model.pl_interval, model.pl_weight = 2, 2, 1.0
    model.hessian_weight, model.orojar_weight, model.hessian_layers = 0.1, 0.01, "output,8"
    model.hessian_ramp_steps = 2
    model.augment, model.augment_p, model.ada_interval, model.ada_speed_images = "ada", 0.3, 2, 16.0
    return config


def _state(path: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(path)
    flat = {f"{group}.{name}.{key}": value for group in ("networks", "ema") for name, sd in state[group].items() for key, value in sd.items()}
    for name, sd in state["optimizers"].items():
        for index, param_state in sd["state"].items():
            for key, value in param_state.items():
                flat[f"opt.{name}.{index}.{key}"] = value
    return flat


@pytest.mark.parametrize("injection", INJECTIONS)
def test_train_checkpoint_and_exact_resume(tmp_path: Path, injection: str) -> None:
    straight = train(stylegan_config(injection, steps=4), out=tmp_path / "straight", final_metrics=False)
    train(stylegan_config(injection, steps=2), out=tmp_path / "resumed", final_metrics=False)
    resumed = train(stylegan_config(injection, steps=4), resume=tmp_path / "resumed", final_metrics=False)
    assert straight.step == resumed.step == 4
    a, b = _state(straight.checkpoint), _state(resumed.checkpoint)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    extra_a, extra_b = load_checkpoint(straight.checkpoint)["system"], load_checkpoint(resumed.checkpoint)["system"]
    assert extra_a == extra_b and extra_a["path_length"]["pl_mean"] > 0
    assert extra_a["augment"]["p"] != 0.3  # the controller moved p, and the resumed run agrees
    rows = [json.loads(line) for line in (straight.run_dir / "stats.jsonl").read_text().splitlines()]
    for name in ("Loss/D", "Loss/R1", "Loss/G", "Loss/Q/continuous", "Loss/PL", "Loss/Hessian", "Loss/OroJaR", "Augment/p"):
        assert math.isfinite(rows[-1][name]), name
    # round trip: a loaded run represents and samples like the trainer's system
    loaded = load_run(straight.run_dir, device="cpu")
    images = loaded.generate(6, seed=1)
    assert images.shape == (6, 1, 64, 64) and images.min() >= 0 and images.max() <= 1
    assert torch.equal(images, straight.generate(6, seed=1))
    codes = loaded.represent(images)
    assert codes.shape == (6, 5) and torch.allclose(codes, straight.represent(images), atol=1e-6)
    assert [name for name, _ in loaded.traversal(columns=3)] == ["c1", "c2", "c3", "c4", "c5"]


def test_phases_and_lazy_adam_correction() -> None:
    recipe = get_model("stylegan-info")
    quick = recipe.default_config("quick", "dsprites")
    _, parts = build_model("stylegan-info", quick, training=True)
    assert [(p.name, p.interval) for p in parts.objective.phases] == [("D", 1), ("Dreg", 16), ("G", 1)]  # no path length in quick
    d_group, g_group = parts.optimizers["D"].param_groups[0], parts.optimizers["G"].param_groups[0]
    assert math.isclose(d_group["lr"], 0.0025 * 16 / 17) and d_group["betas"] == (0.0, 0.99 ** (16 / 17))
    assert g_group["lr"] == 0.0025 and g_group["betas"] == (0.0, 0.99)
    paper = recipe.default_config("paper-64", "dsprites")
    paper.model.channel_base, paper.model.channel_max, paper.model.w_dim = 128, 8, 8
    _, parts = build_model("stylegan-info", paper, training=True)
    assert [(p.name, p.interval) for p in parts.objective.phases] == [("D", 1), ("Dreg", 16), ("G", 1), ("Greg", 4)]
    g_group = parts.optimizers["G"].param_groups[0]
    assert math.isclose(g_group["lr"], 0.0025 * 0.8) and math.isclose(g_group["betas"][1], 0.99**0.8)
    assert paper.train.precision == quick.train.precision == "auto"


def test_regularization_phases_stay_eager_under_compile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With train.compile the loop compiles every network's __call__; R1 and path length need a double
    backward, which compiled graphs do not support, so their phases must never go through it."""
    from infogan_kit.objectives.stylegan import StyleGANInfoObjective

    calls: dict[str, int] = {}
    current = {"phase": None}

    def fake_compile(function, *args, **kwargs):
        def compiled(*inner_args, **inner_kwargs):
            calls[current["phase"]] = calls.get(current["phase"], 0) + 1
            return function(*inner_args, **inner_kwargs)
        return compiled

    def tracking(phase: str, handler):
        def run(self, batch, ctx):
            current["phase"] = phase
            return handler(self, batch, ctx)
        return run

    monkeypatch.setattr(torch, "compile", fake_compile)
    handlers = {"D": "discriminator_phase", "Dreg": "r1_phase", "G": "generator_phase", "Greg": "generator_regularization_phase"}
    for phase, name in handlers.items():
        monkeypatch.setattr(StyleGANInfoObjective, name, tracking(phase, getattr(StyleGANInfoObjective, name)))
    config = stylegan_config(steps=2)
    config.train.compile = True
    train(config, out=tmp_path / "compiled", final_metrics=False)
    assert calls.get("D", 0) > 0 and calls.get("G", 0) > 0
    assert "Dreg" not in calls and "Greg" not in calls


def test_bf16_training_keeps_regularizers_finite(tmp_path: Path) -> None:
    run = train(stylegan_config(steps=2, precision="bf16"), out=tmp_path / "bf16", final_metrics=False)
    assert load_checkpoint(run.checkpoint)["precision"] == "bf16"
    row = json.loads((run.run_dir / "stats.jsonl").read_text().splitlines()[-1])
    for name in ("Loss/D", "Loss/R1", "Loss/PL", "Loss/Hessian", "Loss/G"):
        assert math.isfinite(row[name]), name


def test_truncation_and_mixing_grid_and_traverse_command(tmp_path: Path) -> None:
    config = stylegan_config(steps=1)
    config.model.truncation_psi = 0.0
    run = train(config, out=tmp_path / "run", final_metrics=False)
    system = run.model
    latents = system.codes.sample(2, torch.Generator().manual_seed(0))
    latents.codes_cont[1] = latents.codes_cont[0]  # same codes, different noise
    ema_g = system.inference_network("G")
    same = ema_g(system.codes.to_input(latents))
    assert torch.allclose(same[0], same[1], atol=1e-5)  # psi = 0: w is its average, only the codes matter
    rows = system.style_mixing_rows(3, torch.Generator().manual_seed(0))
    assert [label for label, _ in rows] == ["B", "A1", "A2", "A3", "A4"]
    assert all(images.shape == (4, 1, 64, 64) for _, images in rows)
    output = tmp_path / "mixing.png"
    assert cli_run(["traverse", str(run.run_dir), "-o", str(output), "--mixing", "--columns", "3"]) == 0
    assert output.stat().st_size > 0
    infogan = train(tiny_config("infogan", steps=1, batch_size=8), out=tmp_path / "infogan", final_metrics=False)
    assert cli_run(["traverse", str(infogan.run_dir), "-o", str(tmp_path / "no.png"), "--mixing"]) == 1
    assert not (tmp_path / "no.png").exists()


def test_sample_truncation_option_overrides_the_runs_psi(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = train(stylegan_config(steps=1), out=tmp_path / "run", final_metrics=False)  # trained with psi = 1
    untruncated = load_run(run.run_dir).generate(4, seed=3)
    truncated_run = load_run(run.run_dir)
    truncated_run.set_truncation(0.0)
    truncated = truncated_run.generate(4, seed=3)
    assert not torch.allclose(untruncated, truncated, atol=1e-4)
    spread = lambda images: images.flatten(1).std(0).mean().item()  # noqa: E731
    assert spread(truncated) < spread(untruncated)  # psi = 0: only the codes vary the samples
    for verb in ("sample", "traverse"):
        output = tmp_path / f"{verb}.png"
        assert cli_run([verb, str(run.run_dir), "-o", str(output), "--truncation", "0.5"]) == 0
        assert output.stat().st_size > 0
    assert cli_run(["sample", str(run.run_dir), "-o", str(tmp_path / "bad.png"), "--truncation", "1.5"]) == 2
    infogan = train(tiny_config("infogan", steps=1, batch_size=8), out=tmp_path / "infogan", final_metrics=False)
    capsys.readouterr()
    assert cli_run(["sample", str(infogan.run_dir), "-o", str(tmp_path / "no.png"), "--truncation", "0.7"]) == 1
    error = capsys.readouterr().err.strip().splitlines()
    assert len(error) == 1 and error[0].startswith("Error:") and "style-based" in error[0]
    assert not (tmp_path / "no.png").exists()


def test_invalid_model_settings_are_refused() -> None:
    for key, value in (("injection", "sideways"), ("latent", "cont3"), ("code_layers", "c9=4"), ("hessian_layers", "12"),
                       ("augment_ops", "rotate"), ("hessian_k", 1), ("mixing_prob", 1.5)):
        config = stylegan_config()
        setattr(config.model, key, value)
        with pytest.raises(ConfigError):
            config.model.validate()
    config = stylegan_config()
    config.model.latent = "cat3+noise4"
    with pytest.raises(ConfigError, match="continuous"):
        config.model.validate()
