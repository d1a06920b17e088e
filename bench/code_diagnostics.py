"""Diagnostics of a GAN run's continuous codes on a sprite dataset (the numbers in docs/results.md).

Prints, for a trained InfoGAN / InfoGAN-CR run on one-channel sprite data (dSprites):

* the MI / H matrix of every code with every factor and its MIG, with disentanglement_lib's
  equal-width 20-bin discretizer and with equal-frequency bins (if the two MIGs differ much, the
  code distribution, not the code, is what the score sees);
* on fake images: the correlation of every code and noise dimension with the sprite's pixel
  centroid (x, y) and size (square root of its pixel mass), and the R^2 of linear fits on the
  codes, on the noise and on both: where the generator puts position and size;
* on real images: the correlation of every code (``run.represent``) with the same centroid
  and size: what Q reads on data, and whether x and y sit in single codes or a rotated basis.

    python bench/code_diagnostics.py RUN [--images 10000] [--seed 0] [--threads 2]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
import torch

from infogan_kit import load_run
from infogan_kit.errors import InfoganError
from infogan_kit.metrics.mig import mig_from_mutual_info
from infogan_kit.metrics.utils import discrete_entropy, discrete_mutual_info, histogram_discretize

SPRITE_STATISTICS = ("centroid_x", "centroid_y", "sqrt_mass")


def sprite_statistics(images: torch.Tensor) -> np.ndarray:
    """Pixel centroid (x, y, in pixels) and square root of the pixel mass of one-channel images.

    Args:
        images: ``[n, 1, H, W]`` in ``[0, 1]``.

    Returns:
        ``[n, 3]`` float64: centroid x, centroid y, sqrt(mass) (an empty image has centroid 0).
    """
    mass_map = images[:, 0].double().clamp(0, 1)
    mass = mass_map.sum((1, 2))
    rows = torch.arange(mass_map.shape[1], dtype=torch.float64).view(1, -1, 1)
    columns = torch.arange(mass_map.shape[2], dtype=torch.float64).view(1, 1, -1)
    safe = mass.clamp_min(1e-12)
    centroid_x = (mass_map * columns).sum((1, 2)) / safe
    centroid_y = (mass_map * rows).sum((1, 2)) / safe
    return torch.stack([centroid_x, centroid_y, mass.sqrt()], 1).numpy()


def r_squared(inputs: np.ndarray, target: np.ndarray) -> float:
    """R^2 of the least-squares affine fit of ``target [n]`` on ``inputs [n, d]`` (0 for d = 0)."""
    if inputs.shape[1] == 0 or target.var() == 0:
        return 0.0
    design = np.c_[inputs, np.ones(len(inputs))]
    residual = target - design @ np.linalg.lstsq(design, target, rcond=None)[0]
    return float(1 - residual.var() / target.var())


def column_correlations(inputs: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``inputs [n, d]`` with ``target [n]`` (0 where constant)."""
    centred = inputs - inputs.mean(0)
    target_centred = target - target.mean()
    scale = np.sqrt((centred ** 2).sum(0) * (target_centred ** 2).sum())
    return np.where(scale > 0, centred.T @ target_centred / np.where(scale > 0, scale, 1), 0.0)


def quantile_discretize(codes: np.ndarray, num_bins: int = 20) -> np.ndarray:
    """Equal-frequency bins: each column's ranks cut into ``num_bins`` groups of equal size."""
    ranks = codes.argsort(0).argsort(0)
    return ranks * num_bins // len(codes)


def mutual_info_report(discrete_codes: np.ndarray, factors: np.ndarray) -> tuple[float, np.ndarray]:
    """MIG and the ``[codes, factors]`` MI / H matrix of already discretized codes."""
    entropy = discrete_entropy(factors)
    mutual_info = discrete_mutual_info(discrete_codes, factors)
    return mig_from_mutual_info(mutual_info, entropy), mutual_info / entropy


def diagnose(run: Any, num_images: int, seed: int, batch_size: int = 500) -> str:
    """The report for a loaded run (see the module docstring)."""
    from infogan_kit.recipes.gan import InfoCodesModel

    model = run.model
    if not isinstance(model, InfoCodesModel):
        raise InfoganError(f"{run.run_dir}: code diagnostics need an InfoGAN-family run, got {run.model_name}")
    dataset = run.dataset
    if dataset.image_shape[0] != 1 or not getattr(dataset, "factor_names", ()):
        raise InfoganError(f"{run.run_dir}: code diagnostics need one-channel images with factors, got {dataset.name}")
    lines = [f"run {run.run_dir}: {run.model_name}, step {run.step}, {num_images} images, seed {seed}"]
    images, factors = dataset.sample(num_images, torch.Generator().manual_seed(seed))
    codes = run.represent(images, batch_size).numpy()
    factors_np = factors.numpy()
    names = list(model.code_names())
    header = "      " + " ".join(f"{name[:11]:>11}" for name in dataset.factor_names)
    for label, discrete in (("equal-width 20 bins (disentanglement_lib)", histogram_discretize(codes, 20)),
                            ("equal-frequency 20 bins", quantile_discretize(codes, 20))):
        score, ratio = mutual_info_report(discrete, factors_np)
        lines += [f"MI / H, {label}: MIG {score:.3f}", header]
        lines += [f"{name:>5} " + " ".join(f"{value:11.3f}" for value in row) for name, row in zip(names, ratio)]

    codes_spec = model.codes
    generator_latents = codes_spec.sample(num_images, torch.Generator(model.device).manual_seed(seed + 1), model.device)
    generator_inputs = codes_spec.to_input(generator_latents)
    with torch.no_grad():
        fakes = torch.cat([model.inference_network("G")(generator_inputs[i:i + batch_size]).float().cpu()
                           for i in range(0, num_images, batch_size)])
    codes_cont = generator_latents.codes_cont.cpu().numpy()
    noise = generator_latents.noise.cpu().numpy()
    codes_and_noise = np.c_[codes_cont, noise]
    fake_stats = sprite_statistics(fakes)
    lines.append("fakes: correlation with the continuous codes | with the noise | R^2 codes, noise, both")
    for index, stat in enumerate(SPRITE_STATISTICS):
        target = fake_stats[:, index]
        lines.append(
            f"  {stat:>10} {np.round(column_correlations(codes_cont, target), 2)} | "
            f"{np.round(column_correlations(noise, target), 2)} | "
            f"{r_squared(codes_cont, target):.2f} {r_squared(noise, target):.2f} {r_squared(codes_and_noise, target):.2f}"
        )
    real_stats = sprite_statistics(images)
    lines.append("reals: correlation of every represented code with the sprite's centroid and size")
    for index, stat in enumerate(SPRITE_STATISTICS):
        lines.append(f"  {stat:>10} {np.round(column_correlations(codes, real_stats[:, index]), 3)}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="run directory or checkpoint")
    parser.add_argument("--images", type=int, default=10_000, help="real and fake images (default 10,000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        if args.images < 10:
            raise InfoganError(f"--images must be at least 10, got {args.images}")
        print(diagnose(load_run(args.run, device="cpu"), args.images, args.seed))
    except InfoganError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
