"""rl2branch's published policies through orlearn's rule: relpscost, il, mdp, tmdp+DFS, tmdp+ObjLim.

For each class, solves the first ``-n`` instances of the test split of ``<class>/rl2branch`` (the
distributions the policies were trained on, generated into ``--cache-dir``) under SCIP's CPU
clock, one solve at a time by default so that times compare, with relpscost and the four files
``$ORLEARN_RL2BRANCH/<class>/{il,mdp,tmdp+DFS,tmdp+ObjLim}.pkl`` (default
``../shared/benchmarks/rl2branch`` from the repository root). Results are appended to
``<out>/<class>.jsonl`` (a rerun resumes); ``--transfer`` solves rl2branch's larger transfer
instances instead (``<class>/rl2branch-transfer``, results in ``<out>/<class>-transfer.jsonl``). Prints per class: solved, shifted geometric means of
time (shift 1 s), nodes (shift 10) and LP iterations (shift 100) over the instances every rule
solved, the ratios to ``il`` (for nodes with a paired 95 % interval), and any instance where two rules that solved it disagree on the
optimum::

    python scripts/bench_rl2branch.py mknapsack -n 5 --time-limit 60 --out runs/rl2branch

``--policies`` picks some of the four files; ``--extra LABEL=PATH`` adds rules of one class run
(e.g. ReviBranch policies trained from its ``il.pkl``) to the same solves and table; the table
then also gives nodes and LP iterations relative to ``tmdp+DFS`` when it is among the rules.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

from orlearn.branching.plugin import solve_batch
from orlearn.errors import OrlearnError
from orlearn.milp.io import resolve_instances
from orlearn.solver.metrics import ratio_interval, shifted_geometric_mean, unsolved_gaps

CLASSES = ("setcover", "cauctions", "indset", "ufacilities", "mknapsack")
POLICIES = ("il", "mdp", "tmdp+DFS", "tmdp+ObjLim")
SHIFTS = {"time": 1.0, "nodes": 10.0, "lp_iterations": 100.0}


def policy_dir() -> Path:
    default = Path(__file__).resolve().parents[1] / "../shared/benchmarks/rl2branch"
    return Path(os.environ.get("ORLEARN_RL2BRANCH", default)).resolve()


def table(results: list, labels: dict[str, str]) -> str:
    """Markdown: per rule solved, and shifted geometric means over the all-solved instances, with
    ratios to ``il`` (and to ``tmdp+DFS`` when the table has more rules than relpscost and the
    four files)."""
    by_rule: dict[str, dict[str, object]] = {}
    for r in results:
        by_rule.setdefault(r.rule, {})[r.instance] = r
    rules = list(labels)
    instances = sorted(set.intersection(*(set(by_rule.get(rule, {})) for rule in rules)))
    common = [i for i in instances if all(by_rule[rule][i].solved for rule in rules)]
    means = {
        rule: {
            "time": shifted_geometric_mean([by_rule[rule][i].solving_time for i in common], SHIFTS["time"]),
            "nodes": shifted_geometric_mean([by_rule[rule][i].nodes for i in common], SHIFTS["nodes"]),
            "lp_iterations": shifted_geometric_mean(
                [by_rule[rule][i].lp_iterations for i in common], SHIFTS["lp_iterations"]
            ),
        }
        for rule in rules
    }
    base = next((rule for rule, label in labels.items() if label.endswith("/il")), rules[0])
    rl = next((rule for rule, label in labels.items() if label.endswith("/tmdp+DFS")), None)
    extra = rl is not None and any(
        label != "relpscost" and "/" not in label for label in labels.values()
    )  # rules beyond the published ones: compare them with the best published RL policy too
    head = ("| rule | solved | time (s) | nodes | LP iterations | time / il | nodes / il "
            "| 95 % interval | LP / il |")  # fmt: skip
    rule_line = "|---|---|---|---|---|---|---|---|---|"
    if extra:
        head += " nodes / tmdp+DFS | LP / tmdp+DFS |"
        rule_line += "---|---|"
    lines = [
        f"{len(common)} of {len(instances)} instances solved by every rule (means over those)\n",
        head,
        rule_line,
    ]
    for rule in rules:
        m, b = means[rule], means[base]
        solved = sum(by_rule[rule][i].solved for i in instances)

        def ratio(key: str, m: dict = m, b: dict = b) -> str:
            return f"{m[key] / b[key]:.3f}" if common and b[key] else "-"

        low, high = ratio_interval(
            [by_rule[rule][i].nodes for i in common], [by_rule[base][i].nodes for i in common],
            SHIFTS["nodes"],
        )  # fmt: skip
        interval = f"{low:.2f}-{high:.2f}" if rule != base and math.isfinite(low) else "-"
        cells = [f"{m[k]:.2f}" if common else "-" for k in ("time",)]
        cells += [f"{m[k]:.1f}" if common else "-" for k in ("nodes", "lp_iterations")]
        row = (
            f"| {labels[rule]} | {solved}/{len(instances)} | " + " | ".join(cells)
            + f" | {ratio('time')} | {ratio('nodes')} | {interval} | {ratio('lp_iterations')} |"
        )  # fmt: skip
        if extra:
            assert rl is not None
            row += f" {ratio('nodes', b=means[rl])} | {ratio('lp_iterations', b=means[rl])} |"
        lines.append(row)
    gaps = unsolved_gaps(r for rule in rules for r in by_rule[rule].values())
    if gaps:
        lines.append("\nGap left where unsolved (%, per instance): " + "; ".join(
            f"{labels[rule]} {', '.join(f'{g:.2f}' for g in gaps[rule]) or '-'}" for rule in rules if rule in gaps
        ))  # fmt: skip
    for i in instances:
        bounds = {labels[rule]: by_rule[rule][i].primal_bound for rule in rules if by_rule[rule][i].solved}
        values = [v for v in bounds.values() if v is not None]
        if values and max(values) - min(values) > 1e-6 * max(1.0, max(abs(v) for v in values)):
            lines.append(f"\ndifferent optima on {Path(i).name}: {bounds}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("classes", nargs="+", choices=CLASSES)
    ap.add_argument("-n", "--instances", type=int, default=20, help="test instances per class (20)")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds of CPU per solve (600)")
    ap.add_argument("--settings", default="gasse", help="SCIP settings preset (gasse)")
    ap.add_argument("--jobs", type=int, default=1, help="parallel solves (1: times comparable)")
    ap.add_argument("--out", type=Path, default=Path("runs/rl2branch"))
    ap.add_argument("--cache-dir", type=Path, default=None, help="where instances are generated")
    ap.add_argument("--policies", nargs="+", choices=POLICIES, default=list(POLICIES),
                    help="which of the published files to run (all four)")
    ap.add_argument("--extra", nargs="+", default=[], metavar="LABEL=PATH",
                    help="more rules (policy files) for the same solves; one class only")
    ap.add_argument("--transfer", action="store_true",
                    help="solve rl2branch's larger transfer instances (<class>/rl2branch-transfer)")
    args = ap.parse_args(argv)  # fmt: skip
    root = policy_dir()
    extra = {}
    for item in args.extra:
        label, sep, path = item.partition("=")
        if not sep or not label or "/" in label:
            ap.error(f"--extra takes LABEL=PATH with a label without '/', got {item!r}")
        extra[path] = label
    if extra and len(args.classes) > 1:
        ap.error("--extra needs exactly one class")
    dist, suffix = ("rl2branch-transfer", "-transfer") if args.transfer else ("rl2branch", "")
    for cls in args.classes:
        labels = {"relpscost": "relpscost"}
        for stem in args.policies:
            path = root / cls / f"{stem}.pkl"
            if not path.is_file():
                print(f"bench_rl2branch: error: {path} not found (set ORLEARN_RL2BRANCH)", file=sys.stderr)
                return 2
            labels[str(path)] = f"{cls}/{stem}"
        labels.update(extra)
        try:
            files = resolve_instances([f"{cls}/{dist}"], args.instances, "test", args.cache_dir)
            results = solve_batch(
                files, list(labels), settings=args.settings, params={"timing/clocktype": 1},
                time_limit=args.time_limit, timeout_margin=3.0 * args.time_limit, jobs=args.jobs,
                output=args.out / f"{cls}{suffix}.jsonl", progress=False,
            )  # fmt: skip
        except OrlearnError as exc:
            print(f"bench_rl2branch: error: {exc}", file=sys.stderr)
            return 2
        print(f"\n{cls}/{dist}, test split, {len(files)} instances, settings {args.settings}, "
              f"CPU clock, limit {args.time_limit:g} s, {args.jobs} job(s), load {os.getloadavg()[0]:.1f}\n")  # fmt: skip
        print(table(results, labels))
    return 0


if __name__ == "__main__":
    sys.exit(main())
