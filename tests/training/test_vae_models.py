"""Every VAE model in the shared loop: trains, logs, round-trips, resumes, samples and traverses."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from infogan_kit.cli import cli
from infogan_kit.config import ConfigError
from infogan_kit.data import load_dataset
from infogan_kit.recipes import get_model
from infogan_kit.recipes.vae import INACTIVE_KL
from infogan_kit.run import load_run
from infogan_kit.training.api import train
from infogan_kit.training.checkpoint import load_checkpoint

from ..conftest import build_model, tiny_config

VAE_MODELS = ("beta-vae", "annealed-vae", "factor-vae", "beta-tcvae", "dip-vae-i", "dip-vae-ii")
OWN_STATS = {
    "beta-vae": (),
    "annealed-vae": ("Annealed/capacity", "Loss/VAE/capacity_gap"),
    "factor-vae": ("Loss/TC", "Loss/D", "D/accuracy", "Grad/D_norm"),
    "beta-tcvae": ("Loss/TC",),
    "dip-vae-i": ("Loss/DIP/off_diagonal", "Loss/DIP/diagonal"),
    "dip-vae-ii": ("Loss/DIP/off_diagonal", "Loss/DIP/diagonal"),
}
SHARED_STATS = ("Loss/VAE", "Loss/VAE/reconstruction", "Loss/VAE/kl", "Loss/VAE/regularizer", "ELBO", "Grad/VAE_norm")


def _images(count: int = 5) -> torch.Tensor:
    return load_dataset("dsprites").sample(count, generator=torch.Generator().manual_seed(7))[0]


def _weights(path: Path) -> dict[str, torch.Tensor]:
    state = load_checkpoint(path)
    flat = {f"{n}.{k}": v for n, sd in state["networks"].items() for k, v in sd.items()}
    for name, sd in state["optimizers"].items():
        for index, param_state in sd["state"].items():
            flat.update({f"opt.{name}.{index}.{k}": v for k, v in param_state.items()})
    return flat


@pytest.mark.parametrize("model", VAE_MODELS)
def test_model_trains_round_trips_resumes_and_renders(model: str, tmp_path: Path) -> None:
    run = train(tiny_config(model, steps=2, batch_size=8), out=tmp_path / "run", final_metrics=False)
    assert run.family == "vae" and run.code_names() == [f"z{i}" for i in range(1, 11)]
    row = json.loads((run.run_dir / "stats.jsonl").read_text().splitlines()[-1])
    for name in SHARED_STATS + OWN_STATS[model] + tuple(f"KL/z{i}" for i in range(1, 11)):
        assert math.isfinite(row[name]), name
    assert (run.run_dir / "samples" / "reconstructions-00000002.png").is_file()
    assert (run.run_dir / "traversals" / "step-00000002.png").is_file()

    images = _images()
    loaded = load_run(run.run_dir, device="cpu")
    assert loaded.family == "vae" and loaded.config.model == run.config.model
    codes = loaded.represent(images)
    assert codes.shape == (5, 10) and torch.equal(codes, run.represent(images))

    resumed = train(tiny_config(model, steps=3, batch_size=8), resume=run.run_dir, final_metrics=False)
    assert resumed.step == 3 and load_checkpoint(resumed.checkpoint)["step"] == 3

    runner = CliRunner()
    result = runner.invoke(cli, ["sample", str(run.run_dir), "-n", "4", "-o", str(tmp_path / "s.png"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "s.png").size == (2 + 2 * 66, 2 + 2 * 66)
    result = runner.invoke(cli, ["traverse", str(run.run_dir), "-o", str(tmp_path / "t.png"), "--columns", "3", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "10 codes x 3 values" in result.output
    assert Image.open(tmp_path / "t.png").size[1] == 2 + 10 * 66  # one row per latent


@pytest.mark.parametrize("model", ["factor-vae", "annealed-vae"])
def test_resume_is_exact(model: str, tmp_path: Path) -> None:
    def config(steps: int):
        values = tiny_config(model, steps=steps, batch_size=8)
        if model == "annealed-vae":
            values.model.iteration_threshold = 3  # the capacity changes at every step of the test
        return values

    straight = train(config(4), out=tmp_path / "straight", final_metrics=False)
    train(config(2), out=tmp_path / "resumed", final_metrics=False)
    resumed = train(config(4), resume=tmp_path / "resumed", final_metrics=False)
    a, b = _weights(straight.checkpoint), _weights(resumed.checkpoint)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_ema_encoder_is_the_representation_when_ema_is_on(tmp_path: Path) -> None:
    run = train(tiny_config("beta-vae", steps=3, batch_size=8, ema_beta=0.5), out=tmp_path / "ema", final_metrics=False)
    system = run.model
    assert set(system.ema) == {"encoder", "decoder"}
    images = _images()
    live_means = system.networks["encoder"](images)[0]
    ema_means = system.ema["encoder"](images)[0]
    assert not torch.allclose(live_means, ema_means)
    assert torch.equal(system.represent(images), ema_means)
    assert torch.equal(load_run(run.run_dir, device="cpu").represent(images), ema_means)


def test_traversal_orders_latents_by_kl_and_marks_inactive_ones() -> None:
    system = build_model("beta-vae", tiny_config("beta-vae"))
    encoder = system.networks["encoder"]
    with torch.no_grad():
        encoder.means.weight.zero_()
        encoder.log_variances.weight.zero_()
        encoder.log_variances.bias.zero_()
        encoder.means.bias.copy_(torch.tensor([0.0, 0.5, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.05]))
    rows = system.traversal_rows(None, 4, (-2.0, 2.0), torch.Generator().manual_seed(0), dataset=load_dataset("dsprites"))
    labels = [label for label, _ in rows]
    assert labels[:3] == ["z3", "z2", "z10*"]  # KL 4.5, 0.125, 0.00125 (< INACTIVE_KL)
    assert sorted(labels[3:]) == sorted(f"z{i}*" for i in (1, 4, 5, 6, 7, 8, 9))
    assert 0.5 * 0.05**2 < INACTIVE_KL < 0.5 * 0.5**2
    assert all(images.shape == (4, 1, 64, 64) for _, images in rows)
    chosen = system.traversal_rows(["z5", "z3"], 3, (-2.0, 2.0), torch.Generator().manual_seed(0), dataset=load_dataset("dsprites"))
    assert [label for label, _ in chosen] == ["z5*", "z3"]
    with pytest.raises(ConfigError, match="unknown code"):
        system.traversal_rows(["c1"], 3, (-2.0, 2.0), torch.Generator().manual_seed(0), dataset=load_dataset("dsprites"))


def test_reconstructions_interleave_inputs_and_outputs() -> None:
    system = build_model("dip-vae-i", tiny_config("dip-vae-i"))
    dataset = load_dataset("dsprites")
    pairs = system.extra_images(dataset, torch.Generator().manual_seed(3))["Reconstructions"]
    assert pairs.shape == (64, 1, 64, 64)
    inputs = dataset.sample(32, generator=system.data_rng(torch.Generator().manual_seed(3)))[0]
    assert torch.equal(pairs[0::2], inputs)
    assert torch.allclose(pairs[1::2], system.decode(system.represent(inputs)))


def test_presets_follow_disentanglement_lib() -> None:
    for model in VAE_MODELS:
        recipe = get_model(model)
        assert recipe.family == "vae" and recipe.config_class().name == model
        paper = recipe.default_config("paper", "dsprites")
        assert (paper.train.batch_size, paper.train.steps, paper.train.ema_beta) == (64, 300_000, 0.0)
        assert (paper.optim.lr_g, paper.optim.beta1, paper.optim.beta2, paper.optim.eps) == (1e-4, 0.9, 0.999, 1e-8)
        assert paper.model.num_latents == 10
        quick = recipe.default_config("quick", "dsprites")
        assert quick.train.time_budget_min is not None and quick.optim.lr_g > paper.optim.lr_g
    factor = get_model("factor-vae").default_config("paper", "dsprites")
    assert (factor.optim.lr_d, factor.model.discriminator_beta1, factor.model.discriminator_beta2) == (1e-4, 0.5, 0.9)
    annealed = get_model("annealed-vae").default_config("paper", "dsprites").model
    assert (annealed.gamma, annealed.iteration_threshold) == (1000.0, 100_000)
    assert get_model("dip-vae-i").config_class().lambda_d_factor == 10.0
    assert get_model("dip-vae-ii").config_class().lambda_d_factor == 1.0
    with pytest.raises(ConfigError, match="unknown preset"):
        get_model("beta-vae").default_config("huge", "dsprites")


def test_factor_vae_discriminator_has_its_own_adam() -> None:
    config = get_model("factor-vae").default_config("paper", "dsprites")
    system, parts = build_model("factor-vae", config, (3, 64, 64), training=True)
    assert [(p.name, p.optimizer) for p in parts.objective.phases] == [("VAE", "VAE"), ("D", "D")]
    group = parts.optimizers["D"].param_groups[0]
    assert (group["lr"], group["betas"]) == (1e-4, (0.5, 0.9))
    assert {id(p) for p in group["params"]} == {id(p) for p in system.networks["discriminator"].parameters()}
    assert system.generate(2, torch.Generator().manual_seed(0)).shape == (2, 3, 64, 64)  # channels follow the data


def test_cli_sets_model_fields_and_rejects_bad_values() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "--model", "beta-vae", "--set", "model.beta=16", "--dry-run"])
    assert result.exit_code == 0, result.output
    resolved = json.loads(result.output)
    assert resolved["model"] == {"name": "beta-vae", "num_latents": 10, "beta": 16.0}
    result = runner.invoke(cli, ["train", "--model", "dip-vae-ii", "--set", "model.lambda_od=-1", "--dry-run"])
    assert result.exit_code != 0 and isinstance(result.exception, ConfigError)
    assert "model.lambda_od must be >= 0" in str(result.exception)


def test_non_64x64_images_are_refused() -> None:
    with pytest.raises(ConfigError, match="64x64"):
        build_model("beta-vae", tiny_config("beta-vae"), (1, 28, 28))


def test_factor_vae_trains_in_bf16_and_fp16(tmp_path: Path) -> None:
    run = train(tiny_config("factor-vae", steps=2, batch_size=8, precision="bf16"), out=tmp_path / "bf16", final_metrics=False)
    state = load_checkpoint(run.checkpoint)
    assert state["precision"] == "bf16" and state["scalers"] == {}  # no GradScaler outside fp16
    row = json.loads((run.run_dir / "stats.jsonl").read_text().splitlines()[-1])
    assert row["Steps/skipped"] == 0 and math.isfinite(row["Loss/VAE"]) and math.isfinite(row["Loss/D"])
    # fp16: the summed-pixel loss overflows the initial scale 2^16; the scaler backs off
    # (about 11 skipped steps at the start), then every step is applied.
    run = train(tiny_config("factor-vae", steps=16, batch_size=8, precision="fp16"), out=tmp_path / "fp16", final_metrics=False)
    rows = [json.loads(line) for line in (run.run_dir / "stats.jsonl").read_text().splitlines()]
    assert rows[-1]["Steps/skipped"] == rows[-2]["Steps/skipped"] < 16
    assert load_checkpoint(run.checkpoint)["scalers"]["VAE"]["scale"] < 2.0**16
    assert math.isfinite(rows[-1]["Loss/VAE"]) and math.isfinite(rows[-1]["Loss/D"])
