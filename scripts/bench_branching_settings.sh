#!/bin/bash
# The learned-branching benchmark under both settings (docs/branching.md, "Benchmark under SCIP's
# default and the gasse settings"): rules relpscost, pscost, the hybrid over the shipped GNN and
# over rl2branch's il.pkl, il.pkl alone and the shipped GNN; 60 s of SCIP process CPU per solve;
# one solve at a time. Each round adds STEP instances to every table (class x settings), so a run
# stopped at any time leaves balanced tables; a rerun resumes from the JSONL files. Then: the
# same bench_branching.py arguments with --report-only.
#   ORLEARN_RL2BRANCH=../shared/benchmarks/rl2branch scripts/bench_branching_settings.sh [MAX_N]
# Environment: CLASSES (default "setcover cauctions"), SIZE (small, or medium for the transfer
# set), STEP (default 2), TIME_LIMIT (default 60), RULES (default the six above).
set -eu
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
SIZE=${SIZE:-small}
STEP=${STEP:-2}
B="scripts/bench_branching.py --clock cpu --time-limit ${TIME_LIMIT:-60} --out runs/branching/bench"
R="--rules ${RULES:-relpscost pscost hybrid hybrid-il il mixed}"
for n in $(seq "$STEP" "$STEP" "${1:-20}"); do
  if [ "$SIZE" = medium ]; then N="--small 0 --medium $n"; else N="--small $n --medium 0"; fi
  for cls in ${CLASSES:-setcover cauctions}; do
    for s in default gasse; do
      echo "== $cls $SIZE n=$n $s: $(date -u +%H:%M) load $(cut -d' ' -f1 /proc/loadavg)"
      nice -n 5 .venv/bin/python $B --classes "$cls" $N --settings "$s" $R 2>&1 | tail -4
    done
  done
done
