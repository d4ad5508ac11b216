#!/bin/bash
# The learned-branching benchmark under both settings (docs/branching.md, "Benchmark under SCIP's
# default and the gasse settings"): setcover and cauctions small test instances, rules relpscost,
# pscost, the hybrid over the shipped GNN and over rl2branch's il.pkl, il.pkl alone and the
# shipped GNN; 60 s of SCIP process CPU per solve; one solve at a time. Each round adds two
# instances to all four tables (class x settings), so a run stopped at any time leaves balanced
# tables; a rerun resumes from the JSONL files. Then: the same command with --report-only.
#   ORLEARN_RL2BRANCH=../shared/benchmarks/rl2branch scripts/bench_branching_settings.sh [MAX_N]
set -eu
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
B="scripts/bench_branching.py --clock cpu --time-limit 60 --medium 0 --out runs/branching/bench"
R="--rules relpscost pscost hybrid hybrid-il il mixed"
for n in $(seq 2 2 "${1:-20}"); do
  for cls in setcover cauctions; do
    for s in default gasse; do
      echo "== $cls small n=$n $s: $(date -u +%H:%M) load $(cut -d' ' -f1 /proc/loadavg)"
      nice -n 5 .venv/bin/python $B --classes "$cls" --small "$n" --settings "$s" $R 2>&1 | tail -4
    done
  done
done
