"""Benchmark learned branching against SCIP's rules (the README's tables).

Default = the full configuration: per class (setcover, cauctions, facility, indset), 20 held-out
test instances of the small distribution and 10 transfer instances of the medium one, under the
"gasse" settings (cuts at the root only, no restarts) and SCIP's default settings, 600 s per
solve, rules relpscost (SCIP's default), pscost, vanillafullstrong, the class's GNN (gnn:CLASS),
the mixed GNN (gnn), the published imitation policy of the class (``il``: rl2branch's
``<class>/il.pkl``) and the hybrid rule (``hybrid``: the mixed GNN near the root, pseudocosts
deeper down; ``hybrid-il``: the same over ``il.pkl``), one solve at a time so that times
compare. Any other learned-rule spec (``hybrid:gnn:setcover:depth=4``, a ``.pt`` path) is a
rule too. Results go to one JSONL file per class, size and settings (resumable: a rerun skips
what is done), a JSON summary and a markdown file with one table per class, size and settings,
the optimal-value agreement across rules, and the targets (met or missed). Reduced runs use
--small/--medium/--rules/--settings/--time-limit; full strong branching, far slower per node
than the others, can run on the first few small instances only (--fsb-small N
[--fsb-time-limit S], its own JSONL file): the node ratios to it are then taken over the
instances that it and the other rule both solved.

The rl2branch policies are third-party files, looked up in ``$ORLEARN_RL2BRANCH`` (default
``../shared/benchmarks/rl2branch`` from the repository root); ``il`` rules are skipped with a
message when a class's file is absent.

    .venv/bin/python scripts/bench_branching.py                      # full (days of CPU)
    .venv/bin/python scripts/bench_branching.py --classes setcover --small 10 --medium 0 \
        --settings default gasse --rules relpscost pscost mixed hybrid --clock cpu \
        --time-limit 120                                             # what fits a short run
    .venv/bin/python scripts/bench_branching.py --small 8 --medium 0 --rules relpscost pscost \
        class mixed --time-limit 120 --fsb-small 3 --fsb-time-limit 300  # + node ratio to FSB
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import statistics
import sys
from pathlib import Path

CLASSES = ("setcover", "cauctions", "facility", "indset")
RULES = ("relpscost", "pscost", "vanillafullstrong", "class", "mixed", "il", "hybrid", "hybrid-il")
SETTINGS = ("gasse", "default")
#: rl2branch's directory per orlearn class (its facility policy is for uncapacitated facility
#: location, the nearest of its classes to orlearn's capacitated one).
RL2BRANCH_CLASS = {"setcover": "setcover", "cauctions": "cauctions", "indset": "indset",
                   "facility": "ufacilities"}  # fmt: skip
BASELINES = ("relpscost", "pscost", "vanillafullstrong")


def rl2branch_dir() -> Path:
    """Where the rl2branch policies are: ``$ORLEARN_RL2BRANCH`` or ../shared/benchmarks/rl2branch."""
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "rl2branch"
    return Path(os.environ.get("ORLEARN_RL2BRANCH", default)).resolve()


def rule_name(rule: str, cls: str) -> str:
    """``class`` -> the class's shipped GNN, ``mixed`` -> the default GNN, ``il`` -> the class's
    rl2branch il.pkl, ``hybrid`` -> the hybrid over the default GNN, ``hybrid-il`` -> the hybrid
    over il.pkl; anything else as given."""
    il = str(rl2branch_dir() / RL2BRANCH_CLASS[cls] / "il.pkl")
    return {"class": f"gnn:{cls}", "mixed": "gnn", "il": il, "hybrid": "hybrid",
            "hybrid-il": f"hybrid:{il}"}.get(rule, rule)  # fmt: skip


def label(rule: str) -> str:
    """A short name for tables: the rl2branch path becomes ``il.pkl``."""
    il = str(rl2branch_dir())
    return rule.replace(il + os.sep, "rl2branch:") if il in rule else rule


def optimum_agreement(results: list, tol: float = 1e-6) -> tuple[int, list[str]]:
    """How many instances have at least two rules that proved optimality, and those whose
    optimal values differ by more than ``tol`` (relative) between rules."""
    values: dict[str, dict[str, float]] = {}
    for r in results:
        if r.status == "optimal" and r.primal_bound is not None:
            values.setdefault(r.instance, {})[r.rule] = r.primal_bound
    compared = {inst: v for inst, v in values.items() if len(v) >= 2}
    bad = []
    for inst, v in compared.items():
        hi, lo = max(v.values()), min(v.values())
        if hi - lo > tol * max(1.0, abs(hi)):
            detail = ", ".join(f"{label(rule)} {val:.6g}" for rule, val in v.items())
            bad.append(f"{Path(inst).name} ({detail})")
    return len(compared), bad


def paired_time_interval(results: list, rule: str, base: str) -> tuple[float, float] | None:
    """95 % bootstrap interval of the time ratio (1-shifted geometric means) of ``rule`` to
    ``base`` over the instances both ran (times at the limit count as the limit)."""
    from orlearn.solver.metrics import ratio_interval

    times: dict[str, dict[str, float]] = {}
    for r in results:
        if r.rule in (rule, base) and r.solving_time is not None:
            times.setdefault(r.instance, {})[r.rule] = r.solving_time
    pairs = [(t[rule], t[base]) for t in times.values() if len(t) == 2]
    if len(pairs) < 2:
        return None
    return ratio_interval([p[0] for p in pairs], [p[1] for p in pairs], 1.0)


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
    from orlearn.solver.metrics import NODE_SHIFT, shifted_geometric_mean

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
    from orlearn.branching.plugin import solve_batch, validate_rule
    from orlearn.errors import OrlearnError
    from orlearn.milp.io import resolve_instances
    from orlearn.solver.batch import read_results

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", nargs="+", default=list(CLASSES), choices=CLASSES)
    ap.add_argument("--small", type=int, default=20, help="small test instances per class")
    ap.add_argument("--medium", type=int, default=10, help="medium transfer instances per class")
    ap.add_argument("--rules", nargs="+", default=list(RULES),
                    help="SCIP rules, 'class' (gnn:CLASS), 'mixed' (gnn), 'il' (rl2branch's "
                         "il.pkl), 'hybrid', 'hybrid-il' or learned-rule specs")  # fmt: skip
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--fsb-small", type=int, default=0,
                    help="also run vanillafullstrong on the first N small instances (own file)")
    ap.add_argument("--fsb-time-limit", type=float, default=None,
                    help="time limit of those solves (default --time-limit)")  # fmt: skip
    ap.add_argument("--settings", nargs="+", default=list(SETTINGS),
                    help="settings presets, each a separate table (gasse, default)")
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

    clock: dict = {}
    if args.clock == "cpu":
        # A solve that gets a third of a core needs ~3x its CPU limit in wall time: widen the
        # margin after which its worker is killed.
        limit = max(args.time_limit, args.fsb_time_limit or 0.0)
        clock = {"params": {"timing/clocktype": 1}, "timeout_margin": 3.0 * limit}
    args.out.mkdir(parents=True, exist_ok=True)
    sections, summary_json = [], {}
    usable: dict[str, str | None] = {}  # rule spec -> None if usable, else why not
    for size, n in (("small", args.small), ("medium", args.medium)):
        if n <= 0:
            continue
        for cls in args.classes:
            rules = []
            for rule in args.rules:
                name = rule_name(rule, cls)
                if name not in usable:
                    try:
                        validate_rule(name)
                        usable[name] = None
                    except OrlearnError as exc:
                        usable[name] = str(exc)
                        print(f"skipping {label(name)}: {exc}", file=sys.stderr)
                if usable[name] is None:
                    rules.append(name)
            dist = f"{cls}/{size}"
            for settings in args.settings:
                key = f"{dist} {settings}"
                jsonl = args.out / f"{cls}_{size}_{settings}.jsonl"
                if args.report_only:
                    if not jsonl.is_file():
                        continue
                    results = [r for r in read_results(jsonl) if r.rule in rules]
                    rules_run = [rule for rule in rules if any(r.rule == rule for r in results)]
                    instances = sorted({r.instance for r in results})
                else:
                    rules_run = rules
                    instances = resolve_instances([dist], n=n, split="test", cache_dir=args.cache_dir)
                    results = solve_batch(
                        instances, rules, settings=settings, time_limit=args.time_limit,
                        jobs=args.jobs, output=jsonl, **clock,
                    )  # fmt: skip
                if not rules_run:
                    continue
                entry, text = _section(results, rules_run, dist, settings, args)
                if size == "small" and args.fsb_small > 0 and "vanillafullstrong" not in rules_run:
                    fsb_jsonl = args.out / f"{cls}_{size}_{settings}_fsb.jsonl"
                    if args.report_only:
                        fsb = read_results(fsb_jsonl) if fsb_jsonl.is_file() else []
                    else:
                        fsb = solve_batch(
                            instances[: args.fsb_small], ["vanillafullstrong"],
                            settings=settings, output=fsb_jsonl,
                            time_limit=args.fsb_time_limit or args.time_limit, **clock,
                        )  # fmt: skip
                    text += _fsb_note(results, fsb, rules_run, entry, args)
                summary_json[key] = entry
                sections.append(text)

    targets = _targets(summary_json)
    sections.insert(0, _overview(summary_json))
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


def _section(
    results: list, rules: list[str], dist: str, settings: str, args: argparse.Namespace
) -> tuple[dict, str]:
    """The summary entry and the markdown section of one class, size and settings."""
    from orlearn.solver.metrics import summarize, summary_markdown, unsolved_gaps

    rows = summarize(results, rules)
    by_rule = {row.rule: row for row in rows}
    compared, disagreements = optimum_agreement(results)
    entry: dict = {
        "settings": settings,
        "rows": [row.__dict__ | {"rule": label(row.rule)} for row in rows],
        "per_node_ms": {label(r): per_node_ms([x for x in results if x.rule == r]) for r in rules},
        "optimum_compared": compared,
        "optimum_disagreements": disagreements,
    }
    for base in ("relpscost", "pscost"):
        ref = by_rule.get(base)
        for rule in rules:
            if rule not in BASELINES and ref is not None and ref.time > 0:
                entry.setdefault("time ratios", {}).setdefault(label(rule), {})[base] = (
                    by_rule[rule].time / ref.time
                )
                interval = paired_time_interval(results, rule, base)
                if interval is not None:
                    entry.setdefault("time ratio intervals", {}).setdefault(label(rule), {})[base] = interval
    fsb = by_rule.get("vanillafullstrong")
    for rule in rules:
        if rule not in BASELINES and fsb is not None and fsb.nodes > 0:
            entry.setdefault("nodes / vanillafullstrong", {})[label(rule)] = {
                "ratio": by_rule[rule].nodes / fsb.nodes, "instances": fsb.instances}  # fmt: skip
    table = summary_markdown(rows)
    for rule in rules:
        table = table.replace(rule, label(rule))
    agreement = (
        f"\nOptimal values: {compared} instances solved to optimality by two or more rules, "
        + (f"{len(disagreements)} disagree: {'; '.join(disagreements)}" if disagreements
           else "all agree (relative tolerance 1e-6)")  # fmt: skip
        + "\n"
    )
    gaps = unsolved_gaps(results)
    if gaps:
        agreement += "\nGap left where unsolved (%, per instance): " + "; ".join(
            f"{label(rule)} {', '.join(f'{g:.2f}' for g in gaps[rule]) or '-'}" for rule in rules if rule in gaps
        ) + "\n"  # fmt: skip
    text = (
        f"### {dist}: {rows[0].instances if rows else 0} test instances, {settings} settings, "
        f"{args.time_limit:g} s limit ({args.clock} clock)\n\n{table}{agreement}"
        f"{_per_node_note(results, entry['per_node_ms'], args.clock)}"
    )
    return entry, text


def _fsb_note(results: list, fsb: list, rules: list[str], entry: dict, args) -> str:
    """The node ratios to full strong branching run on the first instances (own file)."""
    if not fsb:
        return ""
    ratios = node_ratios(results, fsb, rules)
    entry["nodes / vanillafullstrong"] = {label(r): v for r, v in ratios.items()}
    solved = sum(r.solved for r in fsb)
    return (
        f"\nFull strong branching (vanillafullstrong) on the first {len(fsb)} "
        f"instances, {args.fsb_time_limit or args.time_limit:g} s limit: {solved} "
        "solved. Nodes / its nodes (10-shifted geometric means over the instances "
        "both solved): "
        + (", ".join(f"{label(r)} {v['ratio']:.2f} ({v['instances']})"
                     for r, v in ratios.items()) or "none in common")  # fmt: skip
        + "\n"
    )


def _per_node_note(results: list, per_node: dict[str, dict[str, float]], clock: str) -> str:
    """One line: solving milliseconds per node of each rule (all its solves' time over all
    their nodes) and, for the learned rules, the observation and inference parts of a learned
    node."""
    parts = []
    for rule in dict.fromkeys(r.rule for r in results):
        mine = [r for r in results if r.rule == rule and r.nodes > 0]
        if not mine:
            continue
        ms = 1e3 * sum(r.solving_time for r in mine) / sum(r.nodes for r in mine)
        split = per_node.get(label(rule)) or {}
        extra = (f" (observation {split['observation_ms']:.1f} + inference "
                 f"{split['inference_ms']:.1f})" if split else "")  # fmt: skip
        parts.append(f"{label(rule)} {ms:.1f}{extra}")
    head = f"\nSolving ms per node ({clock} clock; observation and inference: wall): "
    return head + ", ".join(parts) + "\n" if parts else ""


def _overview(summary: dict) -> str:
    """One table over every class, size and settings: each rule's time / nodes (1-shifted and
    10-shifted geometric means) and the best learned rule's ratios to relpscost and pscost."""
    def generic(rule: str) -> str:  # one column for every class's il.pkl
        return re.sub(r"rl2branch:[^/]+/il\.pkl", "il.pkl", rule)

    rules = list(dict.fromkeys(generic(row["rule"]) for e in summary.values() for row in e["rows"]))
    head = ["class", "settings", "n", *rules, "best learned", "x relpscost (95 % interval)", "x pscost"]
    lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
    for key, entry in summary.items():
        dist, settings = key.split(" ")
        rows = {generic(row["rule"]): row for row in entry["rows"]}
        n = max((row["instances"] for row in rows.values()), default=0)
        cells = [f"{rows[r]['time']:.2f} s / {rows[r]['nodes']:.0f}" if r in rows else "-"
                 for r in rules]  # fmt: skip
        ratios = {generic(r): v for r, v in entry.get("time ratios", {}).items()}
        best = min(ratios, key=lambda r: ratios[r].get("relpscost", math.inf)) if ratios else None
        relps = f"{ratios[best]['relpscost']:.2f}" if best and "relpscost" in ratios[best] else "-"
        intervals = {generic(r): v for r, v in entry.get("time ratio intervals", {}).items()}
        low_high = intervals.get(best, {}).get("relpscost") if best else None
        if low_high is not None and relps != "-":
            relps += f" ({low_high[0]:.2f}-{low_high[1]:.2f})"
        ps = f"{ratios[best]['pscost']:.2f}" if best and "pscost" in ratios[best] else "-"
        lines.append("| " + " | ".join([dist, settings, str(n), *cells, best or "-", relps, ps]) + " |")
    title = ("### Overview (time: 1-shifted geometric mean of solving seconds / nodes: 10-shifted; "
             "interval: bootstrap over the instances, see paired_time_interval)")  # fmt: skip
    return title + "\n\n" + "\n".join(lines) + "\n"


#: Targets per settings on the small classes: (time ratio bound to relpscost, bound to pscost or
#: None, classes needed).
TARGETS = {"default": (0.85, 1.0, 2), "gasse": (0.70, None, 3)}


def _targets(summary: dict) -> list[str]:
    """The best learned rule per class (smallest time) against relpscost and pscost, and the
    targets per settings: default, <= 0.85 x relpscost and < 1.0 x pscost on 2 of 4 classes;
    gasse, <= 0.70 x relpscost on 3 of 4; medium, faster than relpscost."""
    lines = []
    for settings, (to_relps, to_ps, needed) in TARGETS.items():
        met, classes = 0, 0
        for key, entry in summary.items():
            dist, entry_settings = key.split(" ")
            ratios = entry.get("time ratios", {})
            if entry_settings != settings or not ratios:
                continue
            best = min(ratios, key=lambda r: ratios[r].get("relpscost", math.inf))
            relps, ps = ratios[best].get("relpscost"), ratios[best].get("pscost")
            if relps is None:
                continue
            if dist.endswith("/medium"):
                ok = "met" if relps < 1.0 else "missed"
                lines.append(f"{dist}, {settings}: best learned {best} at {relps:.2f} x relpscost "
                             f"(target < 1: {ok})")  # fmt: skip
                continue
            classes += 1
            good = relps <= to_relps and (to_ps is None or (ps is not None and ps < to_ps))
            met += good
            vs_ps = f", {ps:.2f} x pscost" if ps is not None else ""
            goal = f"<= {to_relps} x relpscost" + (f" and < {to_ps} x pscost" if to_ps else "")
            lines.append(f"{dist}, {settings}: best learned {best} at {relps:.2f} x relpscost"
                         f"{vs_ps} (target {goal}: {'met' if good else 'missed'})")  # fmt: skip
        if classes:
            lines.append(f"{settings} settings: target met on {met} of {classes} small classes "
                         f"(needed: {needed} of 4)")  # fmt: skip
    for key, entry in summary.items():
        if entry.get("optimum_disagreements"):
            lines.append(f"{key}: DIFFERENT OPTIMA: {'; '.join(entry['optimum_disagreements'])}")
    return lines


if __name__ == "__main__":
    sys.exit(main())
