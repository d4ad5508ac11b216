"""Benchmark learned branching against SCIP's rules (the README's table).

Default = the full target configuration: per class (setcover,
cauctions, facility, indset), 20 held-out test instances of the small distribution and 10
transfer instances of the medium one, "gasse" settings, 600 s per solve, rules relpscost (SCIP's
default), pscost, vanillafullstrong, the class's GNN (gnn:CLASS) and the mixed GNN (gnn), one
solve at a time so that times compare. Results go to JSONL files (resumable: a rerun skips what
is done), a JSON summary and a markdown file with one table per class and size, followed by the
targets (met or missed). Reduced runs use --small/--medium/--rules/--time-limit; full
strong branching, far slower per node than the others, can run on the first few small instances
only (--fsb-small N [--fsb-time-limit S], its own JSONL file): the node ratios to it are then
taken over the instances that it and the other rule both solved.

    .venv/bin/python scripts/bench_branching.py                      # full (days of CPU)
    .venv/bin/python scripts/bench_branching.py --small 5 --medium 0 \
        --rules relpscost mixed class --time-limit 60                # what fits a short run
    .venv/bin/python scripts/bench_branching.py --small 8 --medium 0 --rules relpscost pscost \
        class mixed --time-limit 120 --fsb-small 3 --fsb-time-limit 300  # + node ratio to FSB
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path

CLASSES = ("setcover", "cauctions", "facility", "indset")
RULES = ("relpscost", "pscost", "vanillafullstrong", "class", "mixed")


def rule_name(rule: str, cls: str) -> str:
    """``class`` -> the class's shipped GNN, ``mixed`` -> the default GNN, else as given."""
    return {"class": f"gnn:{cls}", "mixed": "gnn"}.get(rule, rule)


def per_node_ms(results: list) -> dict[str, float]:
    """Mean observation and inference milliseconds per learned node over ``results``."""
    stats = [r.branching_stats for r in results if r.branching_stats.get("learned_calls")]
    if not stats:
        return {}
    return {
        "observation_ms": round(statistics.fmean(s["observation_ms"] for s in stats), 3),
        "inference_ms": round(statistics.fmean(s["inference_ms"] for s in stats), 3),
    }


def node_ratios(results: list, fsb: list, rules: list[str]) -> dict[str, dict[str, float]]:
    """Per rule: 10-shifted geometric mean of its nodes / that of full strong branching
    (``fsb``), over the instances both solved, and how many those are."""
    from orlearn.metrics import NODE_SHIFT, shifted_geometric_mean

    fsb_nodes = {r.instance: r.nodes for r in fsb if r.solved}
    out = {}
    for rule in rules:
        pairs = [(r.nodes, fsb_nodes[r.instance]) for r in results
                 if r.rule == rule and r.solved and r.instance in fsb_nodes]  # fmt: skip
        if pairs:
            mine = shifted_geometric_mean([p[0] for p in pairs], NODE_SHIFT)
            theirs = shifted_geometric_mean([p[1] for p in pairs], NODE_SHIFT)
            out[rule] = {"instances": len(pairs), "nodes": mine, "fsb_nodes": theirs,
                         "ratio": mine / theirs if theirs > 0 else math.nan}  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    from orlearn.batch import read_results, solve_batch
    from orlearn.branching.policies import shipped_policies
    from orlearn.metrics import summarize, summary_markdown
    from orlearn.milp.io import resolve_instances

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", nargs="+", default=list(CLASSES), choices=CLASSES)
    ap.add_argument("--small", type=int, default=20, help="small test instances per class")
    ap.add_argument("--medium", type=int, default=10, help="medium transfer instances per class")
    ap.add_argument("--rules", nargs="+", default=list(RULES),
                    help="SCIP rules, 'class' (gnn:CLASS), 'mixed' (gnn) or policy specs")  # fmt: skip
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--fsb-small", type=int, default=0,
                    help="also run vanillafullstrong on the first N small instances (own file)")
    ap.add_argument("--fsb-time-limit", type=float, default=None,
                    help="time limit of those solves (default --time-limit)")  # fmt: skip
    ap.add_argument("--settings", default="gasse")
    ap.add_argument("--jobs", type=int, default=1, help="parallel solves (1: times comparable)")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="SCIP's clock for times and limits; cpu: this solve's CPU seconds, "
                         "steadier on a machine shared with other jobs")  # fmt: skip
    ap.add_argument("--out", type=Path, default=Path("runs/branching/bench"))
    ap.add_argument("--cache-dir", type=Path, default=None, help="generated test instances")
    ap.add_argument("--report-only", action="store_true",
                    help="solve nothing: tabulate what the JSONL files already hold (the rules "
                         "among --rules that ran, over the instances they all finished)")  # fmt: skip
    args = ap.parse_args(argv)

    shipped = set(shipped_policies())
    clock: dict = {}
    if args.clock == "cpu":
        # A solve that gets a third of a core needs ~3x its CPU limit in wall time: widen the
        # margin after which its worker is killed.
        limit = max(args.time_limit, args.fsb_time_limit or 0.0)
        clock = {"params": {"timing/clocktype": 1}, "timeout_margin": 3.0 * limit}
    args.out.mkdir(parents=True, exist_ok=True)
    sections, summary_json = [], {}
    for size, n in (("small", args.small), ("medium", args.medium)):
        if n <= 0:
            continue
        for cls in args.classes:
            rules = []
            for rule in args.rules:
                name = rule_name(rule, cls)
                if name.startswith("gnn:") and name[4:] not in shipped:
                    print(f"skipping {name}: not shipped", file=sys.stderr)
                    continue
                rules.append(name)
            dist = f"{cls}/{size}"
            jsonl = args.out / f"{cls}_{size}.jsonl"
            if args.report_only:
                if not jsonl.is_file():
                    continue
                results = [r for r in read_results(jsonl) if r.rule in rules]
                rules = [rule for rule in rules if any(r.rule == rule for r in results)]
                instances = sorted({r.instance for r in results})
            else:
                instances = resolve_instances([dist], n=n, split="test", cache_dir=args.cache_dir)
                results = solve_batch(
                    instances, rules, settings=args.settings, time_limit=args.time_limit,
                    jobs=args.jobs, output=jsonl, **clock,
                )  # fmt: skip
            rows = summarize(results, rules)
            by_rule = {row.rule: row for row in rows}
            entry = {
                "rows": [row.__dict__ for row in rows],
                "per_node_ms": {r: per_node_ms([x for x in results if x.rule == r]) for r in rules},
            }
            base = by_rule.get("relpscost")
            fsb = by_rule.get("vanillafullstrong")
            for gnn in (r for r in rules if r.startswith("gnn")):
                if base is not None and base.time > 0:
                    entry[f"{gnn} time / relpscost"] = by_rule[gnn].time / base.time
                if fsb is not None and fsb.nodes > 0:
                    entry[f"{gnn} nodes / vanillafullstrong"] = by_rule[gnn].nodes / fsb.nodes
            fsb_note = ""
            fsb_jsonl = args.out / f"{cls}_{size}_fsb.jsonl"
            fsb_results = []
            if size == "small" and args.fsb_small > 0 and fsb is None:
                if args.report_only:
                    fsb_results = read_results(fsb_jsonl) if fsb_jsonl.is_file() else []
                else:
                    fsb_results = solve_batch(
                        instances[: args.fsb_small], ["vanillafullstrong"],
                        settings=args.settings, output=fsb_jsonl,
                        time_limit=args.fsb_time_limit or args.time_limit, **clock,
                    )  # fmt: skip
            if fsb_results:
                ratios = node_ratios(results, fsb_results, rules)
                entry["nodes / vanillafullstrong"] = ratios
                for gnn, ratio in ratios.items():
                    if gnn.startswith("gnn"):
                        entry[f"{gnn} nodes / vanillafullstrong"] = ratio["ratio"]
                solved = sum(r.solved for r in fsb_results)
                fsb_note = (
                    f"\nFull strong branching (vanillafullstrong) on the first {len(fsb_results)} "
                    f"instances, {args.fsb_time_limit or args.time_limit:g} s limit: {solved} "
                    "solved. Nodes / its nodes (10-shifted geometric means over the instances "
                    "both solved): "
                    + (", ".join(f"{r} {v['ratio']:.2f} ({v['instances']})"
                                 for r, v in ratios.items()) or "none in common")  # fmt: skip
                    + "\n"
                )
            summary_json[dist] = entry
            sections.append(
                f"### {dist}: {rows[0].instances if rows else 0} test instances, {args.settings} settings, "
                f"{args.time_limit:g} s limit ({args.clock} clock)\n\n{summary_markdown(rows)}{fsb_note}"
                f"{_per_node_note(results, entry['per_node_ms'], args.clock)}"
            )

    targets = _targets(summary_json)
    config = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    (args.out / "summary.json").write_text(
        json.dumps({"config": config, "results": summary_json, "targets": targets}, indent=2,
                   default=lambda x: None if isinstance(x, float) and math.isnan(x) else x)
        + "\n"
    )  # fmt: skip
    text = "\n".join(sections) + "\n" + "\n".join(f"- {line}" for line in targets) + "\n"
    (args.out / "tables.md").write_text(text)
    print(text)
    return 0


def _per_node_note(results: list, per_node: dict[str, dict[str, float]], clock: str) -> str:
    """One line: solving milliseconds per node of each rule (all its solves' time over all
    their nodes) and, for the GNNs, the observation and inference parts of a learned node."""
    parts = []
    for rule in dict.fromkeys(r.rule for r in results):
        mine = [r for r in results if r.rule == rule and r.nodes > 0]
        if not mine:
            continue
        ms = 1e3 * sum(r.solving_time for r in mine) / sum(r.nodes for r in mine)
        split = per_node.get(rule) or {}
        extra = (f" (observation {split['observation_ms']:.1f} + inference "
                 f"{split['inference_ms']:.1f})" if split else "")  # fmt: skip
        parts.append(f"{rule} {ms:.1f}{extra}")
    head = f"\nSolving ms per node ({clock} clock; observation and inference: wall): "
    return head + ", ".join(parts) + "\n" if parts else ""


def _targets(summary: dict) -> list[str]:
    lines = []
    for gnn in ("gnn:<class>", "gnn"):
        fast_small, classes_small = 0, 0
        for dist, entry in summary.items():
            cls, size = dist.split("/")
            name = gnn.replace("<class>", cls)
            ratio = entry.get(f"{name} time / relpscost")
            nodes = entry.get(f"{name} nodes / vanillafullstrong")
            if ratio is None:
                continue
            if size == "small":
                classes_small += 1
                fast_small += ratio <= 0.85
            verdict = "met" if (ratio <= 0.85 if size == "small" else ratio < 1.0) else "missed"
            goal = "<= 0.85" if size == "small" else "< 1"
            lines.append(f"{dist} {name}: time / relpscost = {ratio:.2f} (target {goal}: {verdict})")
            if nodes is not None and not math.isnan(nodes):
                ok = "met" if nodes <= 1.5 else "missed"
                lines.append(
                    f"{dist} {name}: nodes / vanillafullstrong = {nodes:.2f} (target <= 1.5: {ok})"
                )
        if classes_small:
            ok = "met" if fast_small >= 3 else "missed"
            lines.append(
                f"{gnn}: {fast_small} of {classes_small} small classes at <= 0.85 x relpscost time "
                f"(target: 3 of 4: {ok})"
            )
    return lines


if __name__ == "__main__":
    sys.exit(main())
