"""Benchmarks of the metric suite on trained runs (used by ``bench/metrics.py --runs / --dlib-cache``).

* :func:`time_fast_runs`: the whole ``fast`` suite (every metric that applies, the image metrics
  included) of each run directory, as ``Run.evaluate`` computes it (model loading excluded),
  with per-metric times; the target is <= 10 s on 2 cores. With ``--fast-baseline`` it
  alternates with the version-1 route (its sizes, batches of 256, KID kernels per subset).
* :func:`compare_dlib_routes`: the ``dlib`` suite of one run by today's direct route (every drawn
  row rendered and represented, batches of 256) and by the grid cache (each distinct grid image
  represented once, batches of 64), alternating in one process, with per-metric times, the
  largest value difference and the speed-up (target >= 3x).

Both print the CPU flags (avx2 / avx512_bf16), the torch thread count and the load average with
every figure: other work on the machine slows the figures, the ratios much less.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path
from typing import Any, Iterator

import torch

from infogan_kit import load_run, metrics
from infogan_kit.metrics import image_features, kid


def machine_line() -> str:
    """``cpu flags: avx2 avx512_bf16 | torch threads: 2 | load: 1.2 1.0 0.9`` (what every figure runs on)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    flags = sorted(set(re.findall(r"\b(avx512_bf16|avx2)\b", text))) or ["(none of avx2, avx512_bf16)"]
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return f"cpu flags: {' '.join(flags)} | torch threads: {torch.get_num_threads()} | load average: {load}"


def suite(run: Any, protocol: str | metrics.Protocol, *, grid_cache: bool = True, batch_size: int = 64, names: str = "all") -> dict[str, Any]:
    """``Run.evaluate``'s suite (same representation, generator, device) with the route's settings."""
    generate = run.model.generate if run.model.scores_generated_images else None
    return metrics.evaluate(run.represent, run.dataset, names, protocol, 0, device=run.device, batch_size=batch_size,
                            generate=generate, grid_cache=grid_cache)


FAST_V1 = metrics.FAST.replace(
    name="fast_v1", num_train=2_000, num_test=1_000, beta_vae_batch_size=16, beta_vae_num_train=300,
    beta_vae_num_eval=150, factor_vae_batch_size=16, factor_vae_num_train=300, factor_vae_num_eval=150,
    factor_vae_num_variance_estimate=2_000, image_quality_num_generated=2_000,
)
"""The ``fast`` protocol's version-1 sizes (the route before version 2, for the baseline)."""


@contextlib.contextmanager
def version_1_route() -> Iterator[None]:
    """Version 1's estimators: KID kernels per subset, feature-network forwards of 250 images."""
    saved = kid.FULL_KERNEL_ENTRIES, image_features.FORWARD_BATCH_SIZE
    kid.FULL_KERNEL_ENTRIES, image_features.FORWARD_BATCH_SIZE = 0, 250
    try:
        yield
    finally:
        kid.FULL_KERNEL_ENTRIES, image_features.FORWARD_BATCH_SIZE = saved


def time_fast_runs(directories: list[str], repeats: int = 2, baseline: bool = False) -> None:
    """Print the fast suite's wall time (and per-metric times) of each run, ``repeats`` times;
    with ``baseline``, alternating with version 1 (its sizes, batches of 256, no grid cache)."""
    for directory in directories:
        run = load_run(directory, device="cpu")
        for attempt in range(repeats):
            for route in ("v1", "v2") if baseline else ("v2",):
                start = time.perf_counter()
                if route == "v1":
                    with version_1_route():
                        result = suite(run, FAST_V1, grid_cache=False, batch_size=256)
                else:
                    result = suite(run, "fast")
                wall = time.perf_counter() - start
                verdict = "meets" if wall <= 10.0 else "MISSES"
                print(f"{directory} [{run.model_name}] fast {route} #{attempt + 1}: {wall:.2f} s ({verdict} the 10 s "
                      f"target) | {machine_line()}")
                timings = {key: value for key, value in result["timings_s"].items() if key != "total"}
                print("  " + "  ".join(f"{key} {value:.2f}" for key, value in timings.items()), flush=True)


def compare_dlib_routes(directory: str, names: str = "all", repeats: int = 1) -> None:
    """Print per-metric times of the direct and cached dlib suites of one run, and their ratio."""
    run = load_run(directory, device="cpu")
    results: dict[str, list[dict[str, Any]]] = {"direct": [], "cached": []}
    for attempt in range(repeats):
        for route in ("direct", "cached"):
            print(f"{route} #{attempt + 1} starts | {machine_line()}", flush=True)
            cached = route == "cached"
            results[route].append(suite(run, "dlib", grid_cache=cached, batch_size=64 if cached else 256, names=names))
            print(f"{route} #{attempt + 1}: {results[route][-1]['timings_s']['total']:.1f} s | {machine_line()}", flush=True)
    direct, cached = results["direct"][-1], results["cached"][-1]
    keys = [key for key in direct["timings_s"] if key != "total"] + ["total"]
    print(f"\n{'metric':<14}{'direct (s)':>12}{'cached (s)':>12}")
    for key in keys:
        print(f"{key:<14}{direct['timings_s'].get(key, float('nan')):>12.1f}{cached['timings_s'].get(key, float('nan')):>12.1f}")
    ratio = direct["timings_s"]["total"] / cached["timings_s"]["total"]
    print(f"speed-up: {ratio:.2f}x ({'meets' if ratio >= 3 else 'MISSES'} the 3x target); "
          f"grid cache: {cached['config']['representation']['grid_cache']}")
    differences = {f"{name}.{key}": abs(float(value) - float(cached["metrics"][name][key]))
                   for name, values in direct["metrics"].items() for key, value in values.items()}
    worst = max(differences, key=differences.get)
    print(f"largest value difference: {worst} {differences[worst]:.3g}")
    for name, value in differences.items():
        print(f"  {name}: direct {float(_lookup(direct, name)):.6f}  diff {value:.3g}")
    print(machine_line())


def _lookup(result: dict[str, Any], flat: str) -> Any:
    name, key = flat.split(".", 1)
    return result["metrics"][name][key]
