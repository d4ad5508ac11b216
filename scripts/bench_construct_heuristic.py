"""Benchmark of the constructive heuristic inside SCIP (orlearn.construct.attach_heuristic): time
to the first incumbent, primal integral and solve time with and without it, on knapsack,
multiple-knapsack and TSP (MTZ) MILPs, each instance solved back to back both ways.

Times are SCIP's process CPU seconds (timing/clocktype 1, one thread, torch on one thread), so
the policy's decoding inside the heuristic counts. The primal integral is Berthold's: the
integral over the solve of the primal gap |z* - z(t)| / max(|z*|, |z(t)|) of the incumbent z(t)
(1 before the first one), against the best value z* either run found; SCIP's own primal-dual
integral is reported beside it. The policy's model is loaded when the heuristic is attached,
before the clock starts (a bad policy file fails there); its decoding runs inside the solve.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python scripts/bench_construct_heuristic.py \\
        --out runs/construct/bench_heuristic.md
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch

from orlearn.construct import attach_heuristic, milp
from orlearn.construct import multiknapsack as mk
from orlearn.construct.problems import get_problem


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kp", type=int, default=200, help="items of the knapsack instances")
    ap.add_argument("--kp-count", type=int, default=5)
    ap.add_argument("--mkp", type=int, nargs=2, default=[200, 3], metavar=("ITEMS", "KNAPSACKS"))
    ap.add_argument("--mkp-count", type=int, default=3)
    ap.add_argument("--tsp", type=int, default=35, help="nodes of the TSP instances")
    ap.add_argument("--tsp-count", type=int, default=4)
    ap.add_argument("--time-limit", type=float, default=60.0, help="SCIP CPU seconds per solve")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--out", help="markdown table (a .json with per-instance rows beside it)")
    return ap.parse_args(argv)


def solve_once(build, problem: str, instance, use_heuristic: bool, time_limit: float) -> dict:
    model, variables = build()
    model.hideOutput()
    model.setParam("timing/clocktype", 1)  # CPU seconds: the shared machine's load moves wall time
    model.setParam("limits/time", time_limit)
    model.setParam("limits/maxsol", 100000)  # keep every incumbent for the trace
    model.setParam("randomization/randomseedshift", 0)
    heur = attach_heuristic(model, problem, instance, variables, threads=1) if use_heuristic else None
    model.optimize()
    trace, best = [], None
    maximize = model.getObjectiveSense() == "maximize"
    # At equal times (SCIP's clock ticks in 0.01 s) the better solution is the incumbent.
    sols = sorted((model.getSolTime(s), -z if maximize else z) for s in model.getSols()
                  for z in [model.getSolObjVal(s)])
    for t, signed in sols:
        z = -signed if maximize else signed
        if best is None or (z > best if maximize else z < best):
            best = z
            trace.append((t, z))
    return {
        "status": model.getStatus(), "seconds": model.getSolvingTime(), "nodes": model.getNNodes(),
        "objective": model.getObjVal() if model.getNSols() else None, "trace": trace,
        "primal_dual_integral": model.getPrimalDualIntegral(),
        "heuristic": heur.stats() if heur else None,
    }


def primal_integral(trace: list[tuple[float, float]], best: float, end: float) -> float:
    """Integral over [0, end] of the primal gap of the incumbent (1 before the first one)."""
    total, t_prev, gap = 0.0, 0.0, 1.0
    for t, z in trace:
        total += gap * (min(t, end) - t_prev)
        t_prev = min(t, end)
        denom = max(abs(best), abs(z))
        gap = 0.0 if denom == 0 else abs(best - z) / denom
    return total + gap * max(0.0, end - t_prev)


def first_gap(trace: list[tuple[float, float]], best: float) -> float:
    z = trace[0][1]
    return abs(best - z) / max(abs(best), abs(z), 1e-12)


def sgm(values: list[float], shift: float = 1.0) -> float:
    return float(math.exp(np.mean([math.log(v + shift) for v in values])) - shift)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(1)
    families = []
    for inst in get_problem("kp").generate(args.kp, args.kp_count, args.seed):
        families.append((f"KP{args.kp}", "kp", inst, lambda inst=inst: milp.knapsack(inst)))
    n, m = args.mkp
    for inst in mk.generate(n, m, args.mkp_count, args.seed):
        families.append((f"MKP{n}x{m}", "mkp", inst, lambda inst=inst: milp.multi_knapsack(inst)))
    for inst in get_problem("tsp").generate(args.tsp, args.tsp_count, args.seed):
        families.append((f"TSP{args.tsp} (MTZ)", "tsp", inst, lambda inst=inst: milp.tsp_mtz(inst.distances())))

    rows = []
    start = time.perf_counter()
    for group, problem, inst, build in families:
        runs = {key: solve_once(build, problem, inst, key == "with", args.time_limit)
                for key in ("without", "with")}
        objs = [r["objective"] for r in runs.values() if r["objective"] is not None]
        best = max(objs) if problem in ("kp", "mkp") else min(objs)
        end = max(r["seconds"] for r in runs.values())
        row = {"set": group, "instance": inst.name if hasattr(inst, "name") else "", "best": best}
        for key, r in runs.items():
            row[key] = {
                **{k: v for k, v in r.items() if k != "trace"},
                "first_incumbent_seconds": r["trace"][0][0] if r["trace"] else None,
                "first_incumbent_gap": first_gap(r["trace"], best) if r["trace"] else None,
                "primal_integral": primal_integral(r["trace"], best, end),
                "trace": r["trace"],
            }
        rows.append(row)
        h = row["with"]["heuristic"]
        print(f"{group:>14} {row['instance']:<16} first {row['without']['first_incumbent_seconds']:.2f} -> "
              f"{row['with']['first_incumbent_seconds']:.2f} s, PI {row['without']['primal_integral']:.3f} -> "
              f"{row['with']['primal_integral']:.3f}, time {row['without']['seconds']:.2f} -> "
              f"{row['with']['seconds']:.2f} s; heuristic {h['status']} ({h['policy_seconds'] or 0:.2f} s)",
              flush=True)
    text = table(rows, args, time.perf_counter() - start, argv)
    print(text)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        out.with_suffix(".json").write_text(json.dumps({"config": vars(args), "rows": rows}, indent=1))
    return 0


def table(rows: list[dict], args: argparse.Namespace, wall: float, argv: list[str] | None) -> str:
    lines = [
        "| set | n | run | solved | time to 1st incumbent (s) | 1st incumbent gap % | "
        "primal integral (s) | SCIP primal-dual integral (% s) | solve time (s, sgm) | heuristic | "
        "policy wall s | max abs(policy obj - SCIP obj) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for group in dict.fromkeys(r["set"] for r in rows):
        sub = [r for r in rows if r["set"] == group]
        for key in ("without", "with"):
            rs = [r[key] for r in sub]
            solved = sum(r["status"] == "optimal" for r in rs)
            first = np.mean([r["first_incumbent_seconds"] for r in rs])
            gap = np.mean([r["first_incumbent_gap"] for r in rs]) * 100
            pi = np.mean([r["primal_integral"] for r in rs])
            pdi = np.mean([r["primal_dual_integral"] for r in rs])
            secs = sgm([r["seconds"] for r in rs])
            if key == "with":
                hs = [r["heuristic"] for r in rs]
                counts: dict[str, int] = {}
                for h in hs:
                    counts[h["status"]] = counts.get(h["status"], 0) + 1
                status = ", ".join(f"{v} {k}" for k, v in counts.items())
                pol = np.mean([h["policy_seconds"] or 0.0 for h in hs])
                diffs = [abs(h["policy_objective"] - h["scip_objective"]) for h in hs
                         if h["scip_objective"] is not None]
                cons = f"{max(diffs):.1e}" if diffs else "-"
                extra = f"{status} | {pol:.2f} | {cons}"
            else:
                extra = "- | - | -"
            lines.append(f"| {group} | {len(sub)} | {key} heuristic | {solved} | {first:.3f} | "
                         f"{gap:.2f} | {pi:.3f} | {pdi:.3f} | {secs:.2f} | {extra} |")
    cmd = "python scripts/bench_construct_heuristic.py " + " ".join(sys.argv[1:] if argv is None else argv)
    lines.append("")
    lines.append(f"Command: `{cmd}`; SCIP CPU limit {args.time_limit:g} s per solve; wall time "
                 f"{wall:.0f} s; torch threads {torch.get_num_threads()}.")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
