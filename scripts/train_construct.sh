#!/usr/bin/env bash
# Reproduces the shipped BQ-NCO policies policies/construct/{tsp,cvrp,kp}100.pt.
# Labels are cached under runs/construct/labels and training resumes from
# runs/construct/<policy>/checkpoint.pt: re-running continues where it stopped. --max-minutes is
# the TOTAL training time across resumes: raise it (and --epochs) to keep training in a later
# session. Run it niced on one thread, e.g.
#   OMP_NUM_THREADS=1 nohup nice -n 10 scripts/train_construct.sh > runs/construct/train.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
ORLEARN=${ORLEARN:-.venv/bin/orlearn}
STEP=${STEP:-all}   # tsp | cvrp | kp | all

if [[ $STEP == all || $STEP == tsp ]]; then
  $ORLEARN -v construct train --problem tsp --out policies/construct/tsp100.pt --n 100 \
    --train-instances 500 --val-instances 16 --label-time 0.5 --batch-size 64 --lr 3e-4 \
    --steps-per-epoch 50 --epochs 400 --patience 30 --max-minutes "${TSP_MINUTES:-25}"
fi
if [[ $STEP == all || $STEP == cvrp ]]; then
  $ORLEARN -v construct train --problem cvrp --out policies/construct/cvrp100.pt --n 100 \
    --train-instances 250 --val-instances 16 --label-time 0.5 --batch-size 64 --lr 3e-4 \
    --steps-per-epoch 50 --epochs 400 --patience 30 --max-minutes "${CVRP_MINUTES:-20}"
fi
if [[ $STEP == all || $STEP == kp ]]; then
  $ORLEARN -v construct train --problem kp --out policies/construct/kp100.pt --n 100 \
    --train-instances 2000 --val-instances 16 --label-time 0 --batch-size 64 --lr 3e-4 \
    --steps-per-epoch 50 --epochs 400 --patience 30 --max-minutes "${KP_MINUTES:-12}"
fi
