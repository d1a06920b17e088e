#!/usr/bin/env bash
# One GPU session's checks, in one command (a lent GPU machine is short-lived: plan ~9 minutes).
#
#   OUT=/some/dir bash bench/gpu_check.sh [MINUTES]
#
# Narrower reruns: QUALITY=stylegan (or infogan-cr, or none), TESTS_K=<pytest -k expression>,
# BENCH_MODELS=<bench/train.py --models>, PAPER64_BENCH=0.
#
# 1. Installs the package (kornia from wheels in .whl/ when the machine cannot reach an index).
# 2. In parallel: the paper-64 StyleGAN preset for each injection mode, with and without the
#    Hessian penalty (weight 0.1), and the InfoGAN-CR `paper` preset, MINUTES each (default 3.5),
#    all sharing the one GPU, each ending with its fast metrics; and the CUDA tests
#    (tests/test_cuda.py).
# 3. Alone on the GPU afterwards: bench/train.py (our step in fp32 and bf16 against the plain fp32
#    step) for InfoGAN-CR, beta-VAE and the StyleGAN quick preset, and bench/train_stylegan.py for
#    paper-64 in fp32 and bf16.
# Everything lands in $OUT: log.txt, tests.txt, bench.txt, quality.json (each run's metrics and
# counters) and quality.tar.gz (each run's metrics.json, stats.jsonl and final images).
set -uo pipefail
OUT=${OUT:-/tmp/gpu-check}
MINUTES=${1:-3.5}
QUALITY=${QUALITY:-stylegan,infogan-cr}
TESTS_K=${TESTS_K:-}
BENCH_MODELS=${BENCH_MODELS:-infogan-cr,beta-vae,stylegan-info}
PAPER64_BENCH=${PAPER64_BENCH:-1}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 INFOGAN_CACHE=/tmp/infogan-cache
RUNS=/tmp/gpu-runs
rm -rf "$RUNS" && mkdir -p "$RUNS"
source "$(dirname "$0")/gpu_setup.sh"  # log(), the GPU, the install
python3 -c "import torch, kornia, infogan_kit.cli; print('torch', torch.__version__, 'kornia', kornia.__version__, torch.cuda.get_device_name())" 2>&1 | tee -a "$OUT/log.txt"

log "quality runs: ${MINUTES} min each, all at once on the one GPU"
TRAIN="python3 -m infogan_kit train --device cuda --steps 10000000 --time-budget $MINUTES"
pids=()
for mode in z-concat w-space per-layer; do
    [[ $QUALITY == *stylegan* ]] || break
    for hessian in 0 0.1; do
        name="stylegan-paper64-${mode}-hp${hessian}"
        $TRAIN --model stylegan-info --preset paper-64 --set "model.injection=$mode" --set "model.hessian_weight=$hessian" \
            --out "$RUNS/$name" > "$RUNS/$name.log" 2>&1 &
        pids+=($!)
    done
done
if [[ $QUALITY == *infogan-cr* ]]; then
    $TRAIN --model infogan-cr --preset paper --out "$RUNS/infogan-cr-paper" > "$RUNS/infogan-cr-paper.log" 2>&1 &
    pids+=($!)
fi

log "CUDA tests (beside the quality runs)"
timeout 420 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py -rfEs ${TESTS_K:+-k "$TESTS_K"} > "$OUT/tests.txt" 2>&1
log "tests: $(tail -1 "$OUT/tests.txt")"
[ ${#pids[@]} -gt 0 ] && wait "${pids[@]}"
log "quality runs done"
python3 - "$RUNS" "$OUT/quality.json" <<'EOF' 2>&1 | tee -a "$OUT/log.txt"
import json, sys
from pathlib import Path
runs, summary = Path(sys.argv[1]), {}
for run in sorted(p for p in runs.iterdir() if p.is_dir()):
    entry = {}
    metrics = run / "metrics.json"
    if metrics.exists():
        fast = json.loads(metrics.read_text()).get("fast", {})
        entry["config"] = fast.get("config", {})
        entry["metrics"] = {k: v for k, v in fast.get("metrics", {}).items()}
    stats = run / "stats.jsonl"
    lines = stats.read_text().splitlines() if stats.exists() else []
    if lines:
        entry["last_stats"] = json.loads(lines[-1])
    log = runs / f"{run.name}.log"
    entry["log_tail"] = log.read_text()[-600:] if log.exists() else ""
    summary[run.name] = entry
    m = entry.get("metrics", {})
    head = {k: (m[k].get("score") if isinstance(m.get(k), dict) else None) for k in ("mig", "sap")}
    print(run.name, "step", entry.get("config", {}).get("step"), head, flush=True)
Path(sys.argv[2]).write_text(json.dumps(summary, indent=1, default=str))
EOF
tar -czf "$OUT/quality.tar.gz" -C "$RUNS" --exclude='*.pt' --exclude='events.out.*' --exclude='hparams' . 2>&1 | tail -2

log "benchmarks (alone on the GPU)"
{
    python3 bench/train.py --device cuda --models "$BENCH_MODELS" --threads 1 --precisions fp32,bf16 --seconds 2 --rounds 2 --batch 64
    if [ -n "${BIG_BATCH:-}" ]; then  # the small networks at a batch that fills more of the GPU
        python3 bench/train.py --device cuda --models infogan-cr,beta-vae --threads 1 --precisions fp32,bf16 --seconds 2 --rounds 2 --batch "$BIG_BATCH"
    fi
    for precision in fp32 bf16; do
        [ "$PAPER64_BENCH" = 1 ] || break
        python3 bench/train_stylegan.py --preset paper-64 --device cuda --precision "$precision" --steps 32 --rounds 2
    done
} > "$OUT/bench.txt" 2>&1
cat "$OUT/bench.txt" | grep -v "^WARNING" | tee -a "$OUT/log.txt"
log "done"
