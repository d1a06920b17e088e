#!/usr/bin/env bash
# Reproduce the runs of docs/results.md on a 2-core CPU: two runs at a time, one thread each,
# then the dlib-protocol scores. Usage: bash bench/results.sh [PHASE...]
# Phases: gan (2 seeds of the default run), vae (equal-wall-time comparison), stylegan, fashion, score.
set -euo pipefail
OUT=${OUT:-checkpoints/results}
mkdir -p "$OUT"
export OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE
ONE="--set train.threads=1 --no-final-metrics"

pair() {  # run two commands side by side, wait for both
    bash -c "$1" > "$OUT/log-$(date +%s%N).txt" 2>&1 &
    local first=$!
    bash -c "$2" > "$OUT/log-$(date +%s%N).txt" 2>&1 &
    wait "$first" $!
}

gan() {  # issue 5: the default run (infogan train = InfoGAN-CR quick, 15 min), seeds 0 and 1
    pair "infogan train --seed 0 --out $OUT/infogan-cr-15min-s0 $ONE" \
         "infogan train --seed 1 --out $OUT/infogan-cr-15min-s1 $ONE"
}

vae() {  # issue 6: equal wall time, 10 minutes each, seed 0
    pair "infogan train --model infogan-cr --time-budget 10 --out $OUT/cmp-infogan-cr $ONE" \
         "infogan train --model beta-vae --time-budget 10 --set model.beta=4 --out $OUT/cmp-beta-vae-b4 $ONE"
    pair "infogan train --model beta-vae --time-budget 10 --set model.beta=16 --out $OUT/cmp-beta-vae-b16 $ONE" \
         "infogan train --model factor-vae --time-budget 10 --out $OUT/cmp-factor-vae $ONE"
}

stylegan() {  # issue 7: 15 minutes next to beta-TCVAE's 10 (the last model of the comparison)
    pair "infogan train --model stylegan-info --time-budget 15 --out $OUT/stylegan-info-15min $ONE" \
         "infogan train --model beta-tcvae --time-budget 10 --out $OUT/cmp-beta-tcvae $ONE"
}

fashion() {  # issue 5: the MNIST-architecture InfoGAN on Fashion-MNIST (Debian dataset-fashion-mnist)
    infogan train --model infogan --dataset fashion_mnist --time-budget 10 --out "$OUT/infogan-fashion-mnist" \
        --set train.threads=2 --no-final-metrics
}

score() {  # dlib protocol for every run (two at a time)
    local runs=("$OUT"/*/)
    for ((i = 0; i < ${#runs[@]}; i += 2)); do
        local a="infogan evaluate ${runs[i]} --protocol dlib --json ${runs[i]%/}.dlib.json"
        local b="true"
        if ((i + 1 < ${#runs[@]})); then b="infogan evaluate ${runs[i+1]} --protocol dlib --json ${runs[i+1]%/}.dlib.json"; fi
        pair "$a" "$b"
    done
}

for phase in "${@:-gan vae stylegan fashion score}"; do
    for step in $phase; do "$step"; done
done
python bench/collect_results.py --protocol dlib "$OUT"/*/
