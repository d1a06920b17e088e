"""Benchmark: images/s of our training step against a plain step of the same networks.

For each model, in one process, with the same threads, batch and data:

Models: ``infogan``, ``infogan-cr``, ``beta-vae`` (the VAE step) and ``stylegan-info`` (its
plain step lives in ``bench/train_stylegan.py``, which shares this protocol).

* **ours**: ``Trainer.train_step()`` of the library (precision ``auto`` = bf16 autocast on CPUs
  with AVX512-BF16 / CUDA, channels_last, fused Adam, frozen parameters outside each phase's
  optimizer, no host synchronization per step);
* **plain**: the straightforward loop a first implementation would write: fp32, contiguous
  NCHW, ``torch.optim.Adam`` with its defaults, ``zero_grad(); loss.backward(); step()`` per
  network, gradients computed for every parameter, on the same networks in textbook layers
  (``reference_layers``: PyTorch's ``nn.ConvTranspose2d`` instead of our
  ``TransposedConv2d``, out-of-place activations).

Runs are interleaved (plain, ours, plain, ours, ...) and the medians are reported with their
ratio. Target (issue 4): ours >= 2x plain on the CPU.

    python bench/train.py [--models infogan,infogan-cr,beta-vae,stylegan-info] [--threads 1,2] [--batch 64] [--seconds 8]
                          [--device cuda] [--precisions fp32,bf16]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from infogan_kit.models.infogan_nets import ContrastiveDiscriminator, Discriminator, Generator  # noqa: E402
from infogan_kit.models.transposed_conv import reference_layers  # noqa: E402
from infogan_kit.objectives.contrastive import concat_latents, sample_pairs  # noqa: E402
from infogan_kit.objectives.mutual_info import gaussian_nll  # noqa: E402
from infogan_kit.recipes import get_model  # noqa: E402
from infogan_kit.training.loop import Trainer  # noqa: E402


def check_idle() -> None:
    """Warn when other work is running (figures would be slowed)."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return
    if load > 0.7:
        print(f"WARNING: 1-minute load average {load:.2f}: the machine is not idle; figures are pessimistic", flush=True)


def plain_gan_step(model: str, batch_size: int, device: torch.device) -> Callable[[], None]:
    """A plain fp32 InfoGAN / InfoGAN-CR step on the library's networks (see module doc)."""
    config = get_model(model).default_config("quick", "dsprites")
    spec = config.model.latent_spec((1, 64, 64))
    generator = reference_layers(Generator(spec.input_dim, (1, 64, 64)).to(device))
    discriminator = reference_layers(Discriminator((1, 64, 64), spec.q_output_dim(False)).to(device))
    contrastive = reference_layers(ContrastiveDiscriminator((1, 64, 64), len(spec.regularized)).to(device)) if model == "infogan-cr" else None
    opt_g = torch.optim.Adam(list(generator.parameters()) + list(discriminator.q_head.parameters()), lr=1e-3, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(list(discriminator.trunk.parameters()) + list(discriminator.d_head.parameters()), lr=2e-3, betas=(0.5, 0.999))
    opt_h = torch.optim.Adam(contrastive.parameters(), lr=2e-3, betas=(0.5, 0.999)) if contrastive else None
    from infogan_kit.data import load_dataset

    dataset = load_dataset("dsprites")
    data_rng = torch.Generator().manual_seed(0)
    lambda_cont, alpha = config.model.lambda_cont, getattr(config.model, "alpha", 0.0)

    def step() -> None:
        real, _ = dataset.sample(batch_size, data_rng, device)
        latents = spec.sample(batch_size, device=device)
        fake = generator(spec.to_input(latents)).detach()
        d_real, _ = discriminator(real)
        d_fake, _ = discriminator(fake)
        loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        if contrastive is not None:
            first, second, shared = sample_pairs(spec, batch_size // 2, 0.0, None, device)
            with torch.no_grad():
                pair_images = generator(spec.to_input(concat_latents(first, second)))
            loss_h = alpha * F.cross_entropy(contrastive(pair_images[: batch_size // 2], pair_images[batch_size // 2 :]), shared)
            opt_h.zero_grad()
            loss_h.backward()
            opt_h.step()
            first, second, shared = sample_pairs(spec, batch_size // 2, 0.0, None, device)
            latents = concat_latents(first, second)
        else:
            latents = spec.sample(batch_size, device=device)
        fake = generator(spec.to_input(latents))
        d_fake, q_params = discriminator(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        loss_g = loss_g + lambda_cont * gaussian_nll(q_params, latents.codes_cont).mean(0).sum()
        if contrastive is not None:
            loss_g = loss_g + alpha * F.cross_entropy(contrastive(fake[: batch_size // 2], fake[batch_size // 2 :]), shared)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return step


def plain_vae_step(model: str, batch_size: int, device: torch.device) -> Callable[[], None]:
    """A plain fp32 beta-VAE step on the library's encoder/decoder (Bernoulli recon + beta KL)."""
    from infogan_kit.data import load_dataset
    from infogan_kit.models.vae_nets import ConvEncoder, DeconvDecoder

    config = get_model(model).default_config("quick", "dsprites")
    encoder = reference_layers(ConvEncoder(1, config.model.num_latents).to(device))
    decoder = reference_layers(DeconvDecoder(1, config.model.num_latents).to(device))
    optimizer = torch.optim.Adam(list(encoder.parameters()) + list(decoder.parameters()), lr=config.optim.lr_g)
    dataset, data_rng, beta = load_dataset("dsprites"), torch.Generator().manual_seed(0), config.model.beta

    def step() -> None:
        images, _ = dataset.sample(batch_size, data_rng, device)
        means, log_variances = encoder(images)
        latents = means + torch.exp(0.5 * log_variances) * torch.randn_like(means)
        logits = decoder(latents)
        reconstruction = F.binary_cross_entropy_with_logits(logits, images, reduction="sum") / batch_size
        kl = 0.5 * (means**2 + log_variances.exp() - log_variances - 1).sum(1).mean()
        loss = reconstruction + beta * kl
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return step


def our_step(model: str, batch_size: int, device: torch.device, workdir: Path, precision: str = "auto") -> Callable[[], None]:
    """The library's ``Trainer.train_step`` with the preset's settings and ``precision``."""
    config = get_model(model).default_config("quick", "dsprites")
    config.train.batch_size = batch_size
    config.train.device = str(device)
    config.train.precision = precision
    trainer = Trainer(config, workdir)
    print(f"  ours: precision {trainer.precision} ({trainer.precision_reason})", flush=True)
    return trainer.train_step


def images_per_second(step: Callable[[], None], batch_size: int, seconds: float, device: torch.device) -> float:
    """Steps for ``seconds`` (after 3 warm-up steps) -> images/s."""
    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        count += 1
    if device.type == "cuda":
        torch.cuda.synchronize()
    return count * batch_size / (time.perf_counter() - start)


def ops_per_step(step: Callable[[], None]) -> int:
    """Aten ops dispatched by one call of ``step`` (after warm-up; :class:`OpAudit`)."""
    from infogan_kit.training.audit import OpAudit

    audit = OpAudit()
    with audit:
        step()
    return audit.ops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="infogan,infogan-cr,beta-vae,stylegan-info")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--precisions", default="auto", help="our step in each of these modes, e.g. fp32,bf16 (each against the same plain step)")
    args = parser.parse_args()
    precisions = args.precisions.split(",")
    device = torch.device(args.device)
    check_idle()
    flags = " ".join(sorted({flag for flag in open("/proc/cpuinfo").read().split() if flag in ("avx2", "avx512f", "avx512_bf16", "amx_bf16")}))
    print(f"torch {torch.__version__}, device {device}, batch {args.batch}, CPU flags: {flags or 'none of avx2/avx512'}", flush=True)
    for threads in [int(t) for t in args.threads.split(",")]:
        torch.set_num_threads(threads)
        for model in args.models.split(","):
            print(f"{model}, {threads} thread(s):", flush=True)
            if model == "stylegan-info":
                from train_stylegan import measure_stylegan_step

                for precision in precisions:
                    figures = measure_stylegan_step("quick", threads=threads, batch=32, device=str(device), precision=precision)
                    print(f"  ours: precision {figures['precision']} (batch 32, the preset's)", flush=True)
                    print(f"  plain fp32 step  {figures['plain_fp32']:9.0f} img/s", flush=True)
                    print(f"  our step         {figures['ours']:9.0f} img/s   ratio {figures['ratio']:.2f}x", flush=True)
                continue
            with tempfile.TemporaryDirectory() as workdir:
                make_plain = plain_vae_step if get_model(model).family == "vae" else plain_gan_step
                plain = make_plain(model, args.batch, device)
                ours = {p: our_step(model, args.batch, device, Path(workdir) / p, p) for p in precisions}
                plain_rates: list[float] = []
                our_rates: dict[str, list[float]] = {p: [] for p in precisions}
                for _ in range(args.rounds):  # interleaved: plain, ours (each mode), plain, ...
                    plain_rates.append(images_per_second(plain, args.batch, args.seconds, device))
                    for precision, step in ours.items():
                        our_rates[precision].append(images_per_second(step, args.batch, args.seconds, device))
                plain_ops = ops_per_step(plain)
                our_ops = {precision: ops_per_step(step) for precision, step in ours.items()}
            plain_rate = statistics.median(plain_rates)
            print(f"  plain fp32 step  {plain_rate:9.0f} img/s   {plain_ops:5d} ops/step", flush=True)
            for precision, rates in our_rates.items():
                our_rate = statistics.median(rates)
                print(f"  our step ({precision:4s})  {our_rate:9.0f} img/s   {our_ops[precision]:5d} ops/step   "
                      f"ratio {our_rate / plain_rate:.2f}x", flush=True)
    check_idle()


if __name__ == "__main__":
    main()
