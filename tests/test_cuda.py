"""CUDA: every model trains in every precision mode, checkpoints move between CUDA and CPU,
resume continues the same run, inference agrees with the CPU, and the commands take ``--device``.

Skipped where no GPU is visible. ``INFOGAN_TEST_DEVICE`` runs the same tests on another device
(``cpu`` checks the tests themselves on a machine without a GPU; ``cuda:1`` picks a card).
Two-GPU DDP (NCCL) runs when the machine has two GPUs.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

from infogan_kit.cli import cli
from infogan_kit.data import load_dataset
from infogan_kit.run import load_run
from infogan_kit.training.api import train
from infogan_kit.training.checkpoint import load_checkpoint

from .conftest import tiny_config, torchrun_train
from .training.test_stylegan_training import stylegan_config

DEVICE = os.environ.get("INFOGAN_TEST_DEVICE", "cuda")
ON_CUDA = DEVICE.startswith("cuda")
pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(ON_CUDA and not torch.cuda.is_available(), reason="no CUDA device"),
]

GAN_MODELS = ("infogan", "infogan-cr")
VAE_MODELS = ("beta-vae", "annealed-vae", "factor-vae", "beta-tcvae", "dip-vae-i", "dip-vae-ii")
STYLEGAN_MODES = ("z-concat", "w-space", "per-layer")
ALL_MODELS = GAN_MODELS + VAE_MODELS + tuple(f"stylegan-info:{mode}" for mode in STYLEGAN_MODES)


def _config(model: str, steps: int, precision: str = "fp32", device: str = DEVICE):
    """The tiny config of ``model`` (``stylegan-info:<injection>`` picks an injection mode) on ``device``."""
    if model.startswith("stylegan-info"):
        config = stylegan_config(model.split(":")[1], steps=steps, precision=precision)
    else:
        config = tiny_config(model, steps=steps, precision=precision, batch_size=8)
    config.train.device = device
    return config


def _last_stats(run_dir: Path) -> dict[str, float]:
    return json.loads((run_dir / "stats.jsonl").read_text().splitlines()[-1])


def _images(count: int = 6) -> torch.Tensor:
    return load_dataset("dsprites").sample(count, generator=torch.Generator().manual_seed(3))[0]


@pytest.mark.parametrize("precision", ["auto", "fp16"])
@pytest.mark.parametrize("model", ALL_MODELS)
def test_every_model_trains_in_each_precision_and_resumes(model: str, precision: str, tmp_path: Path) -> None:
    # fp16 starts its loss scale at 2^16 and skips overflowing steps while it backs off (a VAE's
    # summed reconstruction loss needs about 11 halvings): give it room to take real steps
    steps = 16 if precision == "fp16" else 4
    run = train(_config(model, steps=steps, precision=precision), out=tmp_path / "run", final_metrics=False)
    state = load_checkpoint(run.checkpoint)
    if ON_CUDA:
        expected = precision if precision != "auto" else ("bf16" if torch.cuda.is_bf16_supported() else "fp32")
        assert state["precision"] == expected
        assert run.model.device.type == "cuda"
    losses = {k: v for k, v in _last_stats(run.run_dir).items() if k.startswith("Loss/")}
    assert losses and all(math.isfinite(v) for v in losses.values()), losses
    if precision == "fp16":
        assert state["skipped_steps"] < steps - 2
        assert all(0 < scaler["scale"] <= 2.0**16 for scaler in state["scalers"].values())
    else:
        assert state["skipped_steps"] == 0
    resumed = train(_config(model, steps=steps + 2, precision=precision), resume=run.run_dir, final_metrics=False)
    assert resumed.step == steps + 2 and load_checkpoint(resumed.checkpoint)["step"] == steps + 2


@pytest.mark.parametrize("model", ALL_MODELS)
def test_device_checkpoint_loads_on_cpu_and_agrees(model: str, tmp_path: Path) -> None:
    """fp32 weights trained on the device give (nearly) the same codes and images on the CPU."""
    run = train(_config(model, steps=3), out=tmp_path / "run", final_metrics=False)
    on_device, on_cpu = load_run(run.run_dir, device=DEVICE), load_run(run.run_dir, device="cpu")
    images = _images()
    codes_device, codes_cpu = on_device.represent(images), on_cpu.represent(images)
    assert codes_device.device.type == "cpu" and codes_device.shape == codes_cpu.shape
    # TF32 convolutions on the GPU: agreement to about 1e-3 of the codes' scale, not bit for bit.
    scale = codes_cpu.abs().max().clamp_min(1.0)
    assert (codes_device - codes_cpu).abs().max() <= 2e-2 * scale
    generated = on_cpu.generate(4, seed=1)
    assert generated.shape[0] == 4 and generated.min() >= 0 and generated.max() <= 1


def test_network_forward_matches_cpu_in_fp32(tmp_path: Path) -> None:
    """The same generator weights and latents on the device and on the CPU, TF32 off."""
    run = train(_config("infogan-cr", steps=2), out=tmp_path / "run", final_metrics=False)
    system_cpu = load_run(run.run_dir, device="cpu").model
    generator_cpu = system_cpu.inference_network("G")
    generator_device = load_run(run.run_dir, device=DEVICE).model.inference_network("G")
    latents = system_cpu.codes.to_input(system_cpu.codes.sample(8, torch.Generator().manual_seed(0), torch.device("cpu")))
    previous = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.no_grad():
            expected = generator_cpu(latents)
            got = generator_device(latents.to(DEVICE)).cpu()
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = previous
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-4), (got - expected).abs().max()


@pytest.mark.parametrize("model", ["infogan-cr", "beta-vae", "stylegan-info:per-layer"])
def test_resume_on_the_device_continues_the_same_run(model: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Straight 8 steps vs 4 + 4 resumed: same counters and RNG streams; weights equal up to the
    GPU's non-deterministic reductions (bit-exact on the CPU, see tests/training/test_loop.py).

    Adam turns a sign flip of a near-zero gradient into a full step, so the tolerance is a few
    optimizer steps: on an H200 the StyleGAN mapping biases (lr 0.0025) differed by 0.0023 after
    the 4 resumed steps, the others by under 1e-3. Weights restarted from scratch or lost
    optimizer moments would miss it by far more.
    """
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    config = _config(model, steps=8)
    tolerance = 1e-3 if not model.startswith("stylegan") else 2 * config.optim.lr_g * 4
    straight = train(_config(model, steps=8), out=tmp_path / "straight", final_metrics=False)
    train(_config(model, steps=4), out=tmp_path / "resumed", final_metrics=False)
    resumed = train(_config(model, steps=8), resume=tmp_path / "resumed", final_metrics=False)
    a, b = load_checkpoint(straight.checkpoint), load_checkpoint(resumed.checkpoint)
    assert a["step"] == b["step"] == 8 and a["images_seen"] == b["images_seen"]
    assert torch.equal(a["rng"]["latent"], b["rng"]["latent"]) and torch.equal(a["rng"]["data"], b["rng"]["data"])
    for name, weights in a["networks"].items():
        for key, value in weights.items():
            other = b["networks"][name][key]
            if value.is_floating_point():
                assert torch.allclose(value, other, rtol=1e-3, atol=tolerance), f"{name}.{key}: {(value - other).abs().max()}"
            else:
                assert torch.equal(value, other), f"{name}.{key}"


def test_checkpoint_moves_between_device_and_cpu(tmp_path: Path) -> None:
    """Train on the device, continue on the CPU, finish on the device again."""
    out = tmp_path / "moving"
    train(_config("infogan-cr", steps=3), out=out, final_metrics=False)
    on_cpu = train(_config("infogan-cr", steps=5, device="cpu"), resume=out, final_metrics=False)
    assert on_cpu.step == 5 and on_cpu.model.device.type == "cpu"
    back = train(_config("infogan-cr", steps=7), resume=out, final_metrics=False)
    assert back.step == 7 and all(math.isfinite(v) for k, v in _last_stats(out).items() if k.startswith("Loss/"))


def test_commands_run_on_the_device(tmp_path: Path) -> None:
    out = tmp_path / "cli-run"
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "--steps", "4", "--batch-size", "16", "--device", DEVICE, "--out", str(out), "--no-final-metrics"])
    assert result.exit_code == 0, result.output
    for command in (["sample", str(out), "-n", "4", "-o", str(tmp_path / "s.png")],
                    ["traverse", str(out), "--columns", "3", "-o", str(tmp_path / "t.png")]):
        result = runner.invoke(cli, command + ["--device", DEVICE])
        assert result.exit_code == 0, result.output
        assert Path(command[command.index("-o") + 1]).stat().st_size > 0
    result = runner.invoke(cli, ["evaluate", str(out), "--protocol", "fast", "--metrics", "mig,sap", "--device", DEVICE,
                                 "--json", str(tmp_path / "scores.json")])
    assert result.exit_code == 0, result.output
    scores = json.loads((tmp_path / "scores.json").read_text())
    assert 0.0 <= scores["metrics"]["mig"]["score"] <= 1.0


@pytest.mark.skipif(not ON_CUDA or torch.cuda.device_count() < 2, reason="NCCL DDP needs two GPUs")
def test_two_gpu_ddp_under_torchrun(tmp_path: Path) -> None:
    out = tmp_path / "ddp"
    done = torchrun_train(2, ["--steps", "4", "--batch-size", "16", "--device", "cuda", "--out", str(out), "--no-final-metrics"], timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    state = load_checkpoint(out)
    assert state["world_size"] == 2 and state["images_seen"] == 4 * 16
