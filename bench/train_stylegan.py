"""Benchmark: img/s of the stylegan-info training step, ours vs a plain fp32 eager step.

"Ours" is the real training step of the loop (``Trainer.train_step``): every phase with its lazy
schedule (D, Dreg every 16, G, Greg when enabled), the precision the preset resolves to (``auto``:
bf16 where supported), channels_last, fused Adam, per-optimizer GradScalers, EMA. The baseline is a
plain step a first implementation would write for the *same networks and schedule*: fp32, no
autocast, contiguous tensors, the default Adam, an EMA loop over parameters. Both run in this
process with the same threads, batch and data, alternating rounds; the best round of each counts.

    python bench/train_stylegan.py [--preset quick] [--threads 1] [--batch 32] [--steps 32] [--rounds 2] [--device cpu]

On a GPU, add ``--precision fp32`` / ``bf16`` to compare modes of our step; the card is printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from infogan_kit.objectives.regularizers.path_length import PathLengthRegularizer, path_lengths
from infogan_kit.objectives.regularizers.r1 import r1_penalty
from infogan_kit.recipes import get_model
from infogan_kit.recipes.stylegan import build_networks
from infogan_kit.training.loop import Trainer


def idle_check() -> None:
    """Warn when the 1-minute load average says other work shares the CPU."""
    try:
        load1, _, _ = os.getloadavg()
    except OSError:
        return
    if load1 > 0.5:
        print(f"warning: 1-minute load average is {load1:.2f} on {os.cpu_count()} CPUs; figures may be slowed by other work")


class PlainStep:
    """The baseline: the same networks and phase schedule, written plainly in fp32."""

    def __init__(self, trainer: Trainer) -> None:
        config, model = trainer.config, trainer.config.model
        self.device, self.dataset, self.batch = trainer.device, trainer.dataset, config.train.batch_size
        self.latent = trainer.model.codes.spec
        torch.manual_seed(config.train.seed)
        self.generator, self.discriminator = (n.to(self.device) for n in build_networks(model, self.latent, self.dataset.image_shape))
        self.ema = [p.detach().clone() for p in self.generator.parameters()]
        self.opt_g = torch.optim.Adam(list(self.generator.parameters()) + self.discriminator.q_head_parameters(), lr=config.optim.lr_g, betas=(config.optim.beta1, config.optim.beta2))
        self.opt_d = torch.optim.Adam(self.discriminator.d_parameters(), lr=config.optim.lr_d, betas=(config.optim.beta1, config.optim.beta2))
        self.model, self.pl = model, PathLengthRegularizer(model.pl_decay)
        self.rng = torch.Generator(self.device).manual_seed(1)
        self.step = 0

    def _fake(self, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        latents = self.latent.sample(count, self.rng, self.device)
        images = self.generator(self.latent.to_input(latents), truncation_psi=1.0, mixing_prob=self.model.mixing_prob)
        return images, latents.codes_cont

    def _update(self, optimizer: torch.optim.Optimizer, loss: torch.Tensor) -> None:
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    def __call__(self) -> None:
        """One iteration: D, R1 every r1_interval, G (+ MI), path length every pl_interval, EMA."""
        real, _ = self.dataset.sample(self.batch, generator=torch.Generator().manual_seed(self.step), device=self.device)
        with torch.no_grad():
            fake, _ = self._fake(self.batch)
        loss_d = F.softplus(self.discriminator(fake)[0]).mean() + F.softplus(-self.discriminator(real)[0]).mean()
        self._update(self.opt_d, loss_d)
        if self.model.r1_gamma > 0 and self.step % self.model.r1_interval == 0:
            signed = (real * 2 - 1).requires_grad_(True)
            penalty = r1_penalty(signed, self.discriminator((signed + 1) / 2)[0])
            self._update(self.opt_d, penalty.mean() * self.model.r1_gamma / 2 * self.model.r1_interval)
        fake, codes = self._fake(self.batch)
        logits, q_params = self.discriminator(fake)
        loss_g = F.softplus(-logits).mean() + self.model.lambda_cont * 0.5 * (q_params - codes).square().sum(1).mean()
        self._update(self.opt_g, loss_g)
        if self.model.pl_weight > 0 and self.step % self.model.pl_interval == 0:
            latents = self.latent.sample(self.batch // self.model.pl_batch_shrink, self.rng, self.device)
            inputs = self.generator.layer_inputs(self.latent.to_input(latents), 1.0, self.model.mixing_prob)
            penalty = self.pl.penalty(path_lengths(self.generator.synthesize(inputs), inputs.ws))
            self._update(self.opt_g, penalty.mean() * self.model.pl_weight * self.model.pl_interval)
        with torch.no_grad():
            for average, param in zip(self.ema, self.generator.parameters(), strict=True):
                average.lerp_(param, 1 - 0.995)
        self.step += 1


def images_per_second(step, steps: int, batch: int, device: torch.device) -> float:
    """Run ``step`` ``steps`` times; images per second."""
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def measure_stylegan_step(preset: str = "quick", threads: int = 1, batch: int = 32, steps: int = 32, rounds: int = 2,
                          device: str = "cpu", precision: str | None = None, overrides: dict | None = None) -> dict[str, float | str]:
    """img/s of our training step and of the plain fp32 step (same networks, process, threads, batch).

    Args:
        preset: stylegan-info preset; batch: global batch; steps: steps per round (a multiple of 16
            covers the lazy phases); rounds: alternating rounds (best counts); precision: override of
            the preset's ``auto``; overrides: extra ``model`` fields.

    Returns:
        ``{"ours": img/s, "plain_fp32": img/s, "ratio": ours / plain, "precision": mode, "device": name}``.
    """
    torch.set_num_threads(threads)
    config = get_model("stylegan-info").default_config(preset, "dsprites")
    config.train.batch_size, config.train.device, config.train.threads = batch, device, threads
    if precision:
        config.train.precision = precision
    for key, value in (overrides or {}).items():
        setattr(config.model, key, value)
    with tempfile.TemporaryDirectory() as run_dir:
        trainer = Trainer(config, Path(run_dir))
        plain = PlainStep(trainer)
        for _ in range(3):  # warm-up (allocator, first lazy phases)
            trainer.train_step()
            plain()
        ours, baseline = [], []
        for _ in range(rounds):
            ours.append(images_per_second(trainer.train_step, steps, batch, trainer.device))
            baseline.append(images_per_second(plain, steps, batch, trainer.device))
    name = torch.cuda.get_device_name(trainer.device) if trainer.device.type == "cuda" else f"cpu ({threads} threads)"
    return {"ours": max(ours), "plain_fp32": max(baseline), "ratio": max(ours) / max(baseline), "precision": trainer.precision, "device": name}


def main(argv: list[str] | None = None) -> None:
    """Parse the options, measure, print both figures and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="quick", choices=("quick", "paper-64"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--steps", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precision", default=None, choices=("auto", "fp32", "bf16", "fp16"))
    args = parser.parse_args(argv)
    idle_check()
    result = measure_stylegan_step(args.preset, args.threads, args.batch, args.steps, args.rounds, args.device, args.precision)
    print(f"stylegan-info {args.preset}: device={result['device']} batch={args.batch} torch={torch.__version__}")
    print(f"ours ({result['precision']}, channels_last, fused Adam, lazy phases) {result['ours']:10.1f} img/s")
    print(f"plain fp32 eager step (same networks/schedule)   {result['plain_fp32']:10.1f} img/s")
    print(f"ratio ours / plain                                {result['ratio']:10.2f}x")
    idle_check()


if __name__ == "__main__":
    main(sys.argv[1:])
