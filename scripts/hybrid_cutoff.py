"""Choose the hybrid rule's depth cut-off by measurement (validation instances, SCIP defaults).

    .venv/bin/python scripts/hybrid_cutoff.py [--classes setcover cauctions:4] [-n 5]
        [--depths 2 4 6 8 12] [--below pscost] [--policy gnn] [--settings default]
        [--time-limit 120] [--out runs/branching/hybrid_cutoff]

Solves ``n`` instances (``CLASS:N``: N for that class) of each class's small distribution from
the registry's *valid* split (never the test split the benchmark reports on) with
``hybrid:POLICY:depth=D:below=RULE`` for every D and RULE, plus relpscost and
(``--anchors``) pscost and the plain network, one solve at a time on SCIP's CPU clock
(resumable JSONL per class: a rerun only reports). Prints a markdown table (also written to
``OUT/cutoff_SETTINGS.md``): per class, each rule's 1-shifted geometric mean of solving CPU
seconds, 10-shifted geometric mean of nodes and time ratio to relpscost, and over all classes
the geometric mean of per-instance (time + 1) / (relpscost time + 1); then the hybrid with the
smallest such mean (the rule's default, ``orlearn.branching.rules.hybrid.DEFAULT_DEPTH``).
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    from orlearn.branching.plugin import solve_batch
    from orlearn.milp.io import resolve_instances
    from orlearn.solver.metrics import TIME_SHIFT, summarize

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", nargs="+", default=["setcover", "cauctions"])
    ap.add_argument("-n", type=int, default=5, help="validation instances per class")
    ap.add_argument("--depths", nargs="+", type=int, default=[2, 4, 6, 8, 12])
    ap.add_argument("--below", nargs="+", default=["pscost"], help="SCIP rules below the cut-off")
    ap.add_argument("--policy", default="gnn", help="the network (a learned-rule spec)")
    ap.add_argument("--anchors", nargs="+", default=["relpscost", "pscost", "network"],
                    help="rules run beside the hybrids ('network': the policy on its own); "
                         "relpscost is always run (the ratios' base)")  # fmt: skip
    ap.add_argument("--settings", default="default")
    ap.add_argument("--time-limit", type=float, default=120.0, help="SCIP CPU seconds per solve")
    ap.add_argument("--out", type=Path, default=Path("runs/branching/hybrid_cutoff"))
    args = ap.parse_args(argv)

    hybrids = [f"hybrid:{args.policy}:depth={d}:below={b}" for b in args.below for d in args.depths]
    anchors = [args.policy if a == "network" else a for a in args.anchors if a != "relpscost"]
    rules = ["relpscost", *anchors, *hybrids]
    clock = {"params": {"timing/clocktype": 1}, "timeout_margin": 3.0 * args.time_limit}
    logs: dict[str, list[float]] = {rule: [] for rule in rules}  # log ratio to relpscost
    columns: list[str] = []
    cells: dict[str, list[str]] = {rule: [] for rule in rules}
    notes = []
    for spec in args.classes:
        cls, _, count = spec.partition(":")
        instances = resolve_instances([f"{cls}/small"], n=int(count or args.n), split="valid")
        results = solve_batch(
            instances, rules, settings=args.settings, time_limit=args.time_limit,
            output=args.out / f"{cls}_small_{args.settings}.jsonl", progress=False, **clock,
        )  # fmt: skip
        optima = _optimum_disagreements(results)
        if optima:
            notes.append(f"{cls}/small: different optimal values on {', '.join(optima)}")
        rows = {row.rule: row for row in summarize(results, rules)}
        base = rows["relpscost"]
        columns.append(f"{cls}/small ({base.instances}): time / nodes (x relpscost)")
        for rule in rules:
            row = rows[rule]
            cells[rule].append(f"{row.time:.2f} s / {row.nodes:.0f} ({row.time / base.time:.2f})")
        ref = {r.instance: _time(r) for r in results if r.rule == "relpscost"}
        for r in results:
            # Ratio to relpscost per instance, so that the classes weigh alike in the overall mean.
            logs[r.rule].append(math.log((_time(r) + TIME_SHIFT) / (ref[r.instance] + TIME_SHIFT)))
    overall = {rule: math.exp(sum(v) / len(v)) for rule, v in logs.items() if v}
    lines = [
        "| rule | " + " | ".join(columns) + " | all: geometric mean of (time + 1) / (relpscost + 1) |",
        "|---" * (len(columns) + 2) + "|",
    ]
    for rule in rules:
        lines.append(f"| `{rule}` | " + " | ".join(cells[rule]) + f" | {overall[rule]:.3f} |")
    best = min(hybrids, key=lambda rule: overall[rule])
    lines += ["", f"Best cut-off: `{best}`.", *notes]
    print("\n".join(lines))
    (args.out / f"cutoff_{args.settings}.md").write_text("\n".join(lines) + "\n")
    return 0


def _time(result) -> float:
    """Solving CPU seconds; a solve that did not finish counts with its time limit."""
    return result.solving_time if result.solved else (result.time_limit or result.solving_time)


def _optimum_disagreements(results: list, tol: float = 1e-6) -> list[str]:
    """Instances where two solved rules report optimal values further apart than ``tol``
    (relative): a wrong branching rule would show here."""
    by_instance: dict[str, list[float]] = {}
    for r in results:
        if r.status == "optimal" and r.primal_bound is not None:
            by_instance.setdefault(r.instance, []).append(r.primal_bound)
    return [
        Path(inst).name for inst, values in by_instance.items()
        if max(values) - min(values) > tol * max(1.0, abs(max(values)))
    ]  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
