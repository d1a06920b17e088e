"""Print a markdown table of the metrics stored in run directories (for docs/results.md).

    python bench/collect_results.py [--protocol dlib] RUN [RUN ...]

One row per run: model, seed, steps, images seen, wall time, and every metric of the chosen
protocol found in the run's ``metrics.json`` (headline keys), plus the mean of runs that share
a model and differ only in seed.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

HEADLINES = [
    ("mig", "score", "MIG"),
    ("factor_vae", "eval_accuracy", "FactorVAE"),
    ("beta_vae", "eval_accuracy", "BetaVAE"),
    ("dci", "disentanglement", "DCI-D"),
    ("dci", "completeness", "DCI-C"),
    ("dci", "informativeness_test", "DCI-I"),
    ("sap", "score", "SAP"),
    ("modularity", "modularity", "Modularity"),
    ("modularity", "explicitness_test", "Explicitness"),
    ("irs", "score", "IRS"),
    ("unsupervised", "gaussian_total_correlation", "GaussTC"),
    ("label_accuracy", "accuracy", "LabelAcc"),
    ("fd", "fd", "FD"),
]


def _row(run_dir: Path, protocol: str) -> dict[str, object] | None:
    metrics_file = run_dir / "metrics.json"
    if not metrics_file.exists():
        return None
    result = json.loads(metrics_file.read_text()).get(protocol)
    if result is None:
        return None
    config = json.loads((run_dir / "config.json").read_text())
    stats = [json.loads(line) for line in (run_dir / "stats.jsonl").read_text().splitlines()] if (run_dir / "stats.jsonl").exists() else []
    last = stats[-1] if stats else {}
    row: dict[str, object] = {
        "run": run_dir.name,
        "model": config["model"]["name"],
        "group": json.dumps({k: v for k, v in config["model"].items()}, sort_keys=True),
        "seed": config["train"]["seed"],
        "step": result["config"].get("run", {}).get("step", last.get("step", "?")),
        "images": last.get("images", "?"),
        "wall_min": round(last.get("wall_s", 0) / 60, 1) if last else "?",
    }
    for metric, key, label in HEADLINES:
        value = result["metrics"].get(metric, {}).get(key)
        row[label] = value
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--protocol", default="dlib")
    parser.add_argument("runs", nargs="+", type=Path)
    args = parser.parse_args()
    rows = [row for run in args.runs if (row := _row(run, args.protocol)) is not None]
    labels = [label for _, _, label in HEADLINES if any(row.get(label) is not None for row in rows)]
    header = ["run", "model", "seed", "step", "images", "wall_min"] + labels
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        cells = [f"{row[h]:.3f}" if isinstance(row.get(h), float) and h in labels else str(row.get(h, "")) for h in header]
        print("| " + " | ".join(cells) + " |")
    groups: dict[str, list[dict[str, object]]] = {}
    for row in rows:  # runs of one model and model config, differing in seed
        groups.setdefault(str(row["group"]), []).append(row)
    for members in groups.values():
        model = members[0]["model"]
        if len(members) < 2:
            continue
        summary = []
        for label in labels:
            values = [m[label] for m in members if isinstance(m.get(label), (int, float))]
            if len(values) >= 2:
                summary.append(f"{label} {statistics.mean(values):.3f} +- {statistics.stdev(values):.3f}")
        print(f"\nmean over {len(members)} seeds of {model}: " + ", ".join(summary))


if __name__ == "__main__":
    main()
