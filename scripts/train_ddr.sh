#!/usr/bin/env bash
# Reproduces the shipped TS-DDR policies and the benchmark tables of docs/decision_rules.md.
# One job at a time on a shared 2-core machine: nice, one torch thread. Resumable: rerun after an
# interruption and each training continues from its checkpoint under runs/ddr/.
# Usage: scripts/train_ddr.sh [case3|bolivia|bench-case3|bench-bolivia] ... (default: all, in order)
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
ORL="nice -n 10 .venv/bin/orlearn"
BENCH="nice -n 10 .venv/bin/python scripts/bench_tsddr.py"
mkdir -p runs/ddr policies/ddr

case3() {
    $ORL decision-rules train case3 -o policies/ddr/case3_lstm.pt --arch lstm --hidden 64 --iterations 1500 \
        --batch 16 --lr 0.01 --lr-end 0.0005 --seed 0 --checkpoint runs/ddr/case3_lstm_v2.ckpt
    $ORL decision-rules train case3 -o policies/ddr/case3_linear.pt --arch linear --iterations 300 --batch 8 \
        --lr 0.01 --seed 0 --checkpoint runs/ddr/case3_linear.ckpt
}
bolivia() {
    $ORL decision-rules train bolivia --stages 48 -o policies/ddr/bolivia_lstm.pt --arch lstm --hidden 64 \
        --iterations 400 --batch 16 --lr 0.01 --lr-end 0.001 --seed 0 \
        --checkpoint runs/ddr/bolivia_lstm_v2.ckpt
    $ORL decision-rules train bolivia --stages 48 -o policies/ddr/bolivia_linear.pt --arch linear \
        --iterations 200 --batch 8 --lr 0.01 --seed 0 --checkpoint runs/ddr/bolivia_linear.ckpt
}
bench-case3() {
    $BENCH --case case3 --scenarios 500 --policy policies/ddr/case3_lstm.pt \
        --ldr-policy policies/ddr/case3_linear.pt --sddp-iterations 100
}
bench-bolivia() {
    # reduced configuration (shared 2-core machine); the target configuration is --scenarios 500 and SDDP to
    # convergence
    $BENCH --case bolivia --stages 48 --scenarios 200 --policy policies/ddr/bolivia_lstm.pt \
        --ldr-policy policies/ddr/bolivia_linear.pt --sddp-iterations 300 --sddp-time-limit 900
}

steps=("$@")
[ ${#steps[@]} -eq 0 ] && steps=(case3 bolivia bench-case3 bench-bolivia)
for step in "${steps[@]}"; do
    "$step"
done
