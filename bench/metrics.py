"""Benchmark: the metric suite under both protocols, and the dlib protocol against a serial baseline.

On a 10-dim representation of procedural dSprites (a noisy linear map of the normalized factors,
plus pure-noise dimensions) this prints per-metric wall times of

* our ``dlib`` suite (:func:`infogan_kit.metrics.evaluate_representation`: one shared array
  draw, vectorized sampling metrics, parallel estimator fits on every core),
* our ``fast`` suite (and, end to end, on a 10-dim linear model of rendered dSprites images),
* a straightforward serial implementation of the same dlib protocol run in the same process:
  every metric draws its own points with the representation called in batches of 16, BetaVAE and
  FactorVAE loop over points in Python (one batch of 64 at a time, as disentanglement_lib does),
  and every estimator is fitted serially (``n_jobs=1``),

and the end-to-end ratio baseline / ours (target: >= 1.6x; disentanglement_lib itself needs
about 225 s here, 210 s of it in DCI). It warns when the machine is not idle.

    python bench/metrics.py [--metrics all|mig,dci,...] [--skip-baseline] [--skip-fast] [--seed 0]

On trained runs (see ``bench/metrics_runs.py``; CPU flags and load printed with every figure)::

    python bench/metrics.py --runs checkpoints/pretrained/infogan-cr-dsprites /tmp/sg   # fast suite, <= 10 s
    python bench/metrics.py --dlib-cache checkpoints/pretrained/infogan-cr-dsprites     # direct vs grid cache, >= 3x
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Callable

import numpy as np
import torch
from sklearn.linear_model import LogisticRegression

from infogan_kit import metrics
from infogan_kit.data import load_dataset

NUM_SIGNAL_DIMS, NUM_NOISE_DIMS = 5, 5


BASELINE_METRICS = ("beta_vae", "factor_vae", "mig", "dci", "sap", "modularity", "irs", "unsupervised")
"""The disentanglement_lib protocol's metrics (those the serial baseline implements)."""


def _spin(_: int) -> float:
    start, total = time.perf_counter(), 0
    for step in range(6_000_000):
        total += step
    return time.perf_counter() - start


def parallel_capacity() -> float:
    """Throughput of 2 concurrent busy processes relative to 1 (about 2.0 on an idle 2-core machine)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as pool:
        single = pool.submit(_spin, 0).result()
        pair = max(pool.map(_spin, range(2)))
    return 2.0 * single / pair


def idle_check() -> None:
    """Warn when other work competes for the cores (the figures would be slowed)."""
    load1, _, _ = os.getloadavg()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    capacity = parallel_capacity()
    print(f"cores: {cores}  1-minute load average: {load1:.2f}  parallel capacity of 2 processes: {capacity:.2f}x")
    if load1 > 0.5 or capacity < 1.7:
        print(
            f"warning: the machine is not idle (load {load1:.2f}, 2 processes run {capacity:.2f}x one); "
            "figures are slowed by other work and parallel speed-ups cannot show"
        )


def make_representation(factor_sizes: tuple[int, ...], seed: int = 0) -> Callable[[torch.Tensor], np.ndarray]:
    """A 10-dim representation: 5 noisy linear mixtures of the normalized factors + 5 noise dims."""
    rng = np.random.default_rng(seed)
    mixing = np.eye(len(factor_sizes)) + 0.3 * rng.normal(size=(len(factor_sizes), NUM_SIGNAL_DIMS))
    scale = np.array(factor_sizes, dtype=np.float64) - 1.0
    noise = np.random.default_rng(seed + 1)

    def represent(factors: torch.Tensor) -> np.ndarray:
        signal = np.asarray(factors, dtype=np.float64) / scale @ mixing + 0.05 * noise.normal(size=(len(factors), NUM_SIGNAL_DIMS))
        return np.concatenate([signal, noise.normal(size=(len(factors), NUM_NOISE_DIMS))], axis=1)

    return represent


# ------------------------------------------------------------------ the serial baseline
class SerialBaseline:
    """disentanglement_lib's protocol written the straightforward way (numpy RandomState, loops)."""

    def __init__(self, represent: Callable, factor_sizes: tuple[int, ...], seed: int) -> None:
        self.represent, self.sizes, self.seed = represent, factor_sizes, seed
        self.dci_fit_cpu_s: list[float] = []  # CPU seconds of each factor's GBT fit (last DCI run)

    def _sample(self, num: int, state: np.random.RandomState) -> np.ndarray:
        return np.stack([state.randint(size, size=num) for size in self.sizes], axis=1)

    def _codes(self, factors: np.ndarray) -> np.ndarray:
        return np.asarray(self.represent(torch.from_numpy(factors)), dtype=np.float64)

    def draw(self, num: int, state: np.random.RandomState, batch: int = 16) -> tuple[np.ndarray, np.ndarray]:
        """``num`` points, represented in batches of ``batch`` (dlib's generate_batch_factor_code)."""
        codes, factors = [], []
        for start in range(0, num, batch):
            current = self._sample(min(batch, num - start), state)
            factors.append(current)
            codes.append(self._codes(current))
        return np.concatenate(codes), np.concatenate(factors)

    def beta_vae(self, state: np.random.RandomState) -> dict[str, float]:
        def points(num: int) -> tuple[np.ndarray, np.ndarray]:
            features, labels = [], []
            for _ in range(num):
                index = state.randint(len(self.sizes))
                first, second = self._sample(64, state), self._sample(64, state)
                second[:, index] = first[:, index]
                features.append(np.mean(np.abs(self._codes(first) - self._codes(second)), axis=0))
                labels.append(index)
            return np.array(features), np.array(labels)

        train_x, train_y = points(10_000)
        model = LogisticRegression().fit(train_x, train_y)
        eval_x, eval_y = points(5_000)
        return {"train_accuracy": model.score(train_x, train_y), "eval_accuracy": model.score(eval_x, eval_y)}

    def factor_vae(self, state: np.random.RandomState) -> dict[str, float]:
        variances = np.var(self.draw(10_000, state, batch=64)[0], axis=0, ddof=1)
        active = np.sqrt(variances) >= 0.05

        def votes(num: int) -> np.ndarray:
            counts = np.zeros((len(self.sizes), len(variances)), dtype=np.int64)
            for _ in range(num):
                index = state.randint(len(self.sizes))
                factors = self._sample(64, state)
                factors[:, index] = factors[0, index]
                local = np.var(self._codes(factors), axis=0, ddof=1)
                counts[index, np.argmin(local[active] / variances[active])] += 1
            return counts

        train = votes(10_000)
        classifier = np.argmax(train, axis=0)
        columns = np.arange(train.shape[1])
        evaluation = votes(5_000)
        return {
            "train_accuracy": train[classifier, columns].sum() / train.sum(),
            "eval_accuracy": evaluation[classifier, columns].sum() / evaluation.sum(),
        }

    def dci(self, codes, factors, test_codes, test_factors) -> dict[str, float]:
        """One GradientBoostingClassifier() per factor, fitted one after the other."""
        from sklearn.ensemble import GradientBoostingClassifier

        from infogan_kit.metrics.dci import completeness_from_importance, disentanglement_from_importance

        importance, train_accuracy, test_accuracy = [], [], []
        self.dci_fit_cpu_s = []
        for factor in range(factors.shape[1]):
            start = time.process_time()
            model = GradientBoostingClassifier().fit(codes, factors[:, factor])
            importance.append(np.abs(model.feature_importances_))
            train_accuracy.append(np.mean(model.predict(codes) == factors[:, factor]))
            test_accuracy.append(np.mean(model.predict(test_codes) == test_factors[:, factor]))
            self.dci_fit_cpu_s.append(time.process_time() - start)
        matrix = np.stack(importance, axis=1)
        return {
            "disentanglement": disentanglement_from_importance(matrix),
            "completeness": completeness_from_importance(matrix),
            "informativeness_train": float(np.mean(train_accuracy)),
            "informativeness_test": float(np.mean(test_accuracy)),
        }

    def run(self, name: str) -> dict[str, float]:
        """One metric with its own fresh random state (as disentanglement_lib's evaluation does)."""
        state = np.random.RandomState(self.seed)
        if name in ("beta_vae", "factor_vae"):
            return getattr(self, name)(state)
        codes, factors = self.draw(10_000, state)
        if name in ("mig", "irs", "unsupervised"):
            return getattr(metrics, name)(codes, factors)
        test_codes, test_factors = self.draw(5_000, state)
        if name == "dci":
            return self.dci(codes, factors, test_codes, test_factors)
        if name == "sap":
            return metrics.sap(codes, factors, test_codes, test_factors, n_jobs=1)
        return metrics.modularity(codes, factors, test_codes, test_factors)


# ------------------------------------------------------------------ main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", default="all", help=f"'all' or a comma-separated subset of {','.join(BASELINE_METRICS)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-baseline", action="store_true", help="do not time the serial baseline")
    parser.add_argument("--skip-fast", action="store_true", help="do not time the fast protocol")
    parser.add_argument("--runs", nargs="+", metavar="RUN_DIR", help="time the whole fast suite of these runs and exit")
    parser.add_argument("--dlib-cache", metavar="RUN_DIR",
                        help="time the dlib suite of this run by the direct route and the grid cache, and exit")
    parser.add_argument("--fast-baseline", action="store_true",
                        help="with --runs: alternate with the fast protocol's version-1 route in the same process")
    parser.add_argument("--repeats", type=int, default=1, help="rounds of --runs / --dlib-cache (default 1)")
    args = parser.parse_args()
    if args.runs or args.dlib_cache:
        from metrics_runs import compare_dlib_routes, time_fast_runs

        if args.runs:
            time_fast_runs(args.runs, max(1, args.repeats), args.fast_baseline)
        if args.dlib_cache:
            compare_dlib_routes(args.dlib_cache, args.metrics, max(1, args.repeats))
        return
    idle_check()
    sizes = tuple(load_dataset("dsprites").factor_sizes)
    represent = make_representation(sizes, args.seed)
    names, _ = metrics.resolve_names(args.metrics)
    names = [name for name in names if name in BASELINE_METRICS]
    rows: dict[str, dict[str, float]] = {name: {} for name in names}
    totals: dict[str, float] = {}
    values: dict[str, dict] = {}
    cpu: dict[str, float] = {}
    for protocol in ("dlib",) + (() if args.skip_fast else ("fast",)):
        cpu_start = time.process_time()
        result = metrics.evaluate_representation(represent, sizes, names, protocol, args.seed)
        cpu[protocol] = time.process_time() - cpu_start  # this process only (not DCI's workers)
        totals[protocol] = result["timings_s"]["total"]
        values[protocol] = result["metrics"]
        for name in names:
            rows[name][protocol] = result["timings_s"].get(name, float("nan"))
        print(f"{protocol} suite: {totals[protocol]:.1f} s (shared array draw {result['timings_s'].get('array_codes', 0):.2f} s)")
    if not args.skip_fast:
        torch.manual_seed(args.seed)
        model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64 * 64, NUM_SIGNAL_DIMS + NUM_NOISE_DIMS))
        start = time.perf_counter()
        metrics.evaluate(model, load_dataset("dsprites"), names, "fast", args.seed)
        print(f"fast suite on a 10-dim linear model of rendered dSprites images: {time.perf_counter() - start:.1f} s")
    if not args.skip_baseline:
        baseline = SerialBaseline(represent, sizes, args.seed)
        totals["baseline"], values["baseline"] = 0.0, {}
        cpu["baseline"] = 0.0
        for name in names:
            start, cpu_start = time.perf_counter(), time.process_time()
            values["baseline"][name] = baseline.run(name)
            rows[name]["baseline"] = time.perf_counter() - start
            cpu["baseline"] += time.process_time() - cpu_start
            totals["baseline"] += rows[name]["baseline"]
            print(f"baseline {name}: {rows[name]['baseline']:.1f} s", flush=True)
    report(rows, totals, values)
    if not args.skip_baseline and "dci" in names:
        project(cpu, baseline.dci_fit_cpu_s)
    idle_check()


def longest_first_makespan(costs: list[float], workers: int) -> float:
    """Finishing time of ``costs`` dispatched longest first to the least-loaded of ``workers``."""
    loads = [0.0] * workers
    for cost in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += cost
    return max(loads)


def project(cpu: dict[str, float], dci_fit_cpu_s: list[float]) -> None:
    """Idle-machine projection from CPU times, which contention barely changes.

    Ours = this process's CPU time in the dlib suite (every metric but DCI's fits) + the 2-worker
    longest-first makespan of the per-factor GBT fits' CPU times; baseline = its CPU time.
    """
    makespan = longest_first_makespan(dci_fit_cpu_s, 2)
    ours = cpu["dlib"] + makespan
    print(
        f"\nCPU-time projection for an idle 2-core machine: DCI fits {', '.join(f'{t:.0f}' for t in dci_fit_cpu_s)} s "
        f"(sum {sum(dci_fit_cpu_s):.0f} s, 2-worker makespan {makespan:.0f} s); ours {ours:.0f} s vs baseline "
        f"{cpu['baseline']:.0f} s: {cpu['baseline'] / ours:.2f}x"
    )


def report(rows: dict[str, dict[str, float]], totals: dict[str, float], values: dict[str, dict]) -> None:
    """Print the per-metric table, the headline value of each metric, and the speed-up."""
    columns = [column for column in ("dlib", "fast", "baseline") if column in totals]
    print("\n" + f"{'metric':<14}" + "".join(f"{column + ' (s)':>16}" for column in columns))
    for name, times in rows.items():
        print(f"{name:<14}" + "".join(f"{times.get(column, float('nan')):>16.2f}" for column in columns))
    print(f"{'total':<14}" + "".join(f"{totals[column]:>16.2f}" for column in columns))
    print("\nheadline values (ours dlib / baseline; different random draws, so close but not equal):")
    for name in rows:
        key = next(iter(values["dlib"][name]))
        theirs = values.get("baseline", {}).get(name, {}).get(key)
        print(f"  {name}.{key}: {values['dlib'][name][key]:.4f}" + ("" if theirs is None else f" / {float(theirs):.4f}"))
    if "baseline" in totals:
        ratio = totals["baseline"] / totals["dlib"]
        verdict = "meets" if ratio >= 1.6 else "MISSES"
        print(f"\ndlib suite speed-up over the serial baseline: {ratio:.2f}x ({verdict} the 1.6x target)")


if __name__ == "__main__":
    main()
