"""Size and SCIP hardness of every registered MILP distribution (the table in docs/milp.md).

For each distribution: generate the first N test instances (into data/instances), record model
size, file size and generation time, solve each with SCIP defaults under a time limit (one worker
process per solve, results appended to runs/milp_benchmark/<name>.jsonl so a rerun resumes), and
label the hardness (Distributional MIPLIB thresholds). Writes runs/milp_benchmark/table.md.

    nice -n 10 .venv/bin/python scripts/milp_benchmark.py -n 3 --time-limit 120 [NAME ...]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from orlearn.milp.hardness import distribution_level, hardness_level, level_counts
from orlearn.milp.io import generate, read_model
from orlearn.milp.registry import list_distributions
from orlearn.solver.batch import solve_batch

OUT = Path("runs/milp_benchmark")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="distributions (default: all)")
    parser.add_argument("-n", type=int, default=3, help="test instances per distribution")
    parser.add_argument("--time-limit", type=float, default=120.0, help="seconds per solve")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in args.names or list_distributions():
        start = time.perf_counter()
        paths = generate(name, "test", args.n, Path("data/instances") / name / "test")
        gen_s = (time.perf_counter() - start) / len(paths)
        model = read_model(paths[0])
        kb = statistics.mean(p.stat().st_size for p in paths) / 1e3
        results = solve_batch(
            paths, ("relpscost",), time_limit=args.time_limit, jobs=args.jobs,
            output=OUT / f"{name.replace('/', '_')}.jsonl", progress=False,
        )  # fmt: skip
        levels = [
            hardness_level(r.status, r.solving_time, r.gap, time_limit=r.time_limit)
            for r in results
        ]
        solved = sum(r.solved for r in results)
        mean_t = statistics.mean(r.solving_time for r in results)
        overall = distribution_level((r.status, r.solving_time, r.time_limit) for r in results)
        counts = ", ".join(f"{k} {v}" for k, v in level_counts(levels).items())
        rows.append(
            f"| {name} | {model.getNVars()} | {model.getNConss()} | {kb:.0f} | {gen_s:.2f} "
            f"| {solved}/{len(results)} | {mean_t:.1f} | {counts} | {overall} |"
        )
        print(rows[-1], flush=True)
    header = (
        "| distribution | vars | conss | .mps.gz kB | generate s | solved | mean SCIP s "
        "| instance levels | set level |\n|---|---|---|---|---|---|---|---|---|\n"
    )
    (OUT / "table.md").write_text(header + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
