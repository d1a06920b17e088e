"""Benchmark: procedural dSprites rendering speed on one CPU thread (or a chosen device).

Prints images/s of ``images(factors)`` alone and of ``sample_factors + images`` together at
batch 256, and the ratio against a straightforward per-pixel implicit-shape renderer run in
the same process (the baseline a first implementation would write). Target: >= 50,000
images/s on one thread, so data is never the training bottleneck.

    python bench/render.py [--threads 1] [--batch 256] [--seconds 3] [--device cpu]
"""

from __future__ import annotations

import argparse
import math
import os
import time

import torch

from infogan_kit.data import load_dataset


def _idle_check() -> None:
    try:
        load1, _, _ = os.getloadavg()
    except OSError:
        return
    if load1 > 0.5:
        print(f"warning: 1-minute load average is {load1:.2f}; figures may be slowed by other work")


def _rate(step, batch: int, seconds: float) -> float:
    for _ in range(3):
        step()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        step()
        count += 1
    return count * batch / (time.perf_counter() - start)


def _naive_render(factors: torch.Tensor) -> torch.Tensor:
    """Baseline: evaluate the square/ellipse/heart implicit shapes at every pixel of every image."""
    n = len(factors)
    coords = torch.arange(64.0) + 0.5
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")
    scale = 0.5 + 0.1 * factors[:, 1].float()
    angle = 2 * math.pi * (factors[:, 2] % 39).float() / 39
    cx = 16.5 + factors[:, 3].float()
    cy = 16.5 + factors[:, 4].float()
    x = cols[None] - cx[:, None, None]
    y = cy[:, None, None] - rows[None]
    cos, sin = torch.cos(angle)[:, None, None], torch.sin(angle)[:, None, None]
    u, v = cos * x + sin * y, -sin * x + cos * y
    half = (scale * 10.25)[:, None, None]
    square = (u.abs() <= half) & (v.abs() <= half)
    ellipse = (u / half) ** 2 + (v / (0.5 * half)) ** 2 <= 1
    hx, hy = u / (half / 1.139), v / (half / 1.139) + 0.118
    heart = (hx**2 + hy**2 - 1) ** 3 - hx**2 * hy**3 <= 0
    shape = factors[:, 0][:, None, None]
    mask = torch.where(shape == 0, square, torch.where(shape == 1, ellipse, heart))
    return mask.float().reshape(n, 1, 64, 64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    _idle_check()
    device = torch.device(args.device)
    dataset = load_dataset("dsprites")
    generator = torch.Generator().manual_seed(0)
    fixed = dataset.sample_factors(args.batch, generator)

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize()

    def render_only() -> None:
        dataset.images(fixed, device=device)
        sync()

    def sample_and_render() -> None:
        dataset.sample(args.batch, generator=generator, device=device)
        sync()

    def naive() -> None:
        _naive_render(fixed.to(device))
        sync()

    print(f"device={device} threads={torch.get_num_threads()} batch={args.batch} torch={torch.__version__}")
    ours_render = _rate(render_only, args.batch, args.seconds)
    ours_total = _rate(sample_and_render, args.batch, args.seconds)
    baseline = _rate(naive, args.batch, args.seconds)
    print(f"images(factors)                 {ours_render:12,.0f} images/s")
    print(f"sample_factors + images         {ours_total:12,.0f} images/s")
    print(f"baseline per-pixel renderer     {baseline:12,.0f} images/s")
    print(f"ratio sample+images / baseline  {ours_total / baseline:12.1f}x")
    print(f"target >= 50,000 images/s: {'met' if ours_total >= 50_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
