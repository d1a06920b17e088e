#!/usr/bin/env bash
# The published InfoGAN-CR schedule on a lent GPU, in one command (issue 15, item 8):
#
#   OUT=/some/dir bash bench/gpu_paper.sh [MINUTES]
#
# 1. Installs the package (kornia from wheels in .whl/ when the machine cannot reach an index).
# 2. The CUDA tests (tests/test_cuda.py, at most 2 minutes).
# 3. The benchmark table (bench/train.py, InfoGAN-CR and beta-VAE, fp32 and bf16, at most 2 minutes).
# 4. The `paper` preset of InfoGAN-CR (322,560 iterations, two G steps) in fp32 for MINUTES
#    (default 5) over SEEDS (default 0; e.g. SEEDS=0-1: one after the other, MINUTES each; an
#    export is about 5 MB, so two seeds fit the 16 MiB a returned file may have),
#    checkpointing every 25,000 iterations, ending with its fast metrics.
# Everything lands in $OUT (at most 8 files): log.txt, tests.txt, bench.txt and paper.tar.gz (per
# seed: an inference export of the newest checkpoint, config.json, metrics.json, stats.jsonl and
# the final sample and traversal grids). Score the exports afterwards on the CPU:
#   infogan evaluate EXPORT --protocol dlib --metrics mig,factor_vae
set -uo pipefail
OUT=${OUT:-/tmp/gpu-paper}
MINUTES=${1:-5}
SEEDS=${SEEDS:-0}
DEVICE=${DEVICE:-cuda}  # DEVICE=cpu smoke-tests the script without a GPU
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 INFOGAN_CACHE=/tmp/infogan-cache
RUNS=/tmp/gpu-paper-runs
rm -rf "$RUNS" && mkdir -p "$RUNS"
source "$(dirname "$0")/gpu_setup.sh"  # log(), the GPU, the install

log "CUDA tests"
timeout 120 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py -rfEs > "$OUT/tests.txt" 2>&1
log "tests: $(tail -1 "$OUT/tests.txt")"

log "benchmarks"
timeout 150 python3 bench/train.py --device "$DEVICE" --models infogan-cr,beta-vae --threads 1 --precisions fp32,bf16 \
    --seconds 2 --rounds 2 --batch 64 > "$OUT/bench.txt" 2>&1
grep -v "^WARNING" "$OUT/bench.txt" | tee -a "$OUT/log.txt"

log "paper preset: seeds $SEEDS, $MINUTES min each"
python3 -m infogan_kit train --model infogan-cr --preset paper --device "$DEVICE" --precision fp32 --seeds "$SEEDS" \
    --time-budget "$MINUTES" --set train.checkpoint_every=25000 --out "$RUNS/paper" > "$RUNS/paper.log" 2>&1
tail -5 "$RUNS/paper.log" | tee -a "$OUT/log.txt"
mkdir -p "$RUNS/pack"
for run in "$RUNS"/paper/seed-*; do
    name=$(basename "$run")
    python3 -c "import sys; from infogan_kit.training.checkpoint import export_for_inference as e; print(e(sys.argv[1], sys.argv[2]))" \
        "$run" "$RUNS/pack/$name" 2>&1 | tee -a "$OUT/log.txt"
    cp "$run"/stats.jsonl "$RUNS/pack/$name/" 2>/dev/null
    cp "$(ls "$run"/samples/step-*.png | tail -1)" "$RUNS/pack/$name/samples.png" 2>/dev/null
    cp "$(ls "$run"/traversals/step-*.png | tail -1)" "$RUNS/pack/$name/traversal.png" 2>/dev/null
    log "$name: step $(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['fast']['config'].get('step'))" "$run/metrics.json" 2>/dev/null)"
done
cp "$RUNS/paper.log" "$RUNS/pack/"
tar -czf "$OUT/paper.tar.gz" -C "$RUNS/pack" . 2>&1 | tail -2
log "done"
