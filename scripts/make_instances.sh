#!/usr/bin/env bash
# Regenerate every shipped MILP instance set under instances/ (run from the repository root).
#   instances/milp/<domain>_<size>_test/  seeded test splits written by `orlearn milp generate`
#   instances/miplib/                     the MIPLIB 3 instances SCIP solves in < 10 s here, copied
#                                         from ../shared/benchmarks/miplib with optima + attribution
# The generators are deterministic: rerunning this script reproduces the same bytes (same sha256
# as in each manifest.json) with the same numpy / networkx / SCIP versions.
set -euo pipefail
ORLEARN=${ORLEARN:-.venv/bin/orlearn}
PYTHON=${PYTHON:-.venv/bin/python}
MIPLIB_SRC=${MIPLIB_SRC:-/work/shared/benchmarks/miplib}

for name in setcover/small cauctions/small facility/small indset/small; do
    "$ORLEARN" milp generate "$name" --split test -n 20 -o "instances/milp/${name/\//_}_test" -q
done
# medium sets only where the files stay small (facility/medium is ~0.6 MB per instance: left out)
for name in setcover/medium cauctions/medium indset/medium; do
    "$ORLEARN" milp generate "$name" --split test -n 10 -o "instances/milp/${name/\//_}_test" -q
done

"$PYTHON" - "$MIPLIB_SRC" instances/miplib <<'PY'
"""Copy the MIPLIB 3 instances labelled easy (< 10 s with SCIP here) with their optima."""
import csv
import shutil
import sys
from pathlib import Path

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
with open(src / "optima.csv", newline="") as fh:
    rows = [r for r in csv.DictReader(fh) if r["difficulty"] == "easy"]
columns = ["name", "optimal_value", "objective_sense", "file", "n_vars", "n_conss", "n_bin",
           "n_int", "n_cont", "scip_time_s", "scip_nodes", "source", "instance_source"]
with open(dst / "optima.csv", "w", newline="") as fh:
    writer = csv.DictWriter(fh, columns, lineterminator="\n")
    writer.writeheader()
    for r in sorted(rows, key=lambda r: r["name"]):
        shutil.copyfile(src / r["file"], dst / f"{r['name']}.mps.gz")
        writer.writerow({**{c: r[c] for c in columns}, "file": f"{r['name']}.mps.gz"})
shutil.copyfile(src / "LICENSE-SCIP", dst / "LICENSE-SCIP")
print(f"copied {len(rows)} MIPLIB 3 instances to {dst}")
PY
du -sh instances/milp instances/miplib
