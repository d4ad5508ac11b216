#!/usr/bin/env bash
# Reproduces the shipped TS-DDR policies and the benchmark tables of docs/decision_rules.md.
# One job at a time on a shared 2-core machine: nice, one torch thread. Resumable: rerun after an
# interruption and each training continues from its checkpoint under runs/ddr/.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
ORL="nice -n 10 .venv/bin/orlearn"
mkdir -p runs/ddr policies/ddr

$ORL ddr train case3 -o policies/ddr/case3_lstm.pt --arch lstm --hidden 32 --iterations 300 --batch 8 \
    --lr 0.01 --seed 0 --checkpoint runs/ddr/case3_lstm.ckpt
$ORL ddr train case3 -o policies/ddr/case3_linear.pt --arch linear --iterations 300 --batch 8 \
    --lr 0.01 --seed 0 --checkpoint runs/ddr/case3_linear.ckpt
$ORL ddr train bolivia --stages 48 -o policies/ddr/bolivia_lstm.pt --arch lstm --hidden 64 \
    --iterations 200 --batch 8 --lr 0.01 --seed 0 --checkpoint runs/ddr/bolivia_lstm.ckpt
$ORL ddr train bolivia --stages 48 -o policies/ddr/bolivia_linear.pt --arch linear \
    --iterations 200 --batch 8 --lr 0.01 --seed 0 --checkpoint runs/ddr/bolivia_linear.ckpt

nice -n 10 .venv/bin/python scripts/bench_tsddr.py --case case3 --scenarios 500 \
    --policy policies/ddr/case3_lstm.pt --ldr-policy policies/ddr/case3_linear.pt --sddp-iterations 100
nice -n 10 .venv/bin/python scripts/bench_tsddr.py --case bolivia --stages 48 --scenarios 200 \
    --policy policies/ddr/bolivia_lstm.pt --ldr-policy policies/ddr/bolivia_linear.pt \
    --sddp-iterations 60 --sddp-time-limit 900
