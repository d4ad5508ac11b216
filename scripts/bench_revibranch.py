"""ReviBranch ablation (docs/revibranch.md table): relpscost, the imitation policy, RL without
revival, RL without redistribution and full ReviBranch, on held-out test and transfer sets.

For every class it trains (or resumes, or reuses when done) one RL policy per variant from the
class's imitation policy with the same budget, then solves the first ``--test`` instances of
``instances/milp/<class>_small_test`` and the first ``--transfer`` of
``instances/milp/<class>_medium_test`` under every rule, sequentially by default (for timing),
and writes per set: solved, shifted geometric means of time (shift 1 s), nodes (shift 10) and LP
iterations (shift 100) over the instances every rule solved, and their ratios to the imitation
policy. Results go to JSONL files, so an interrupted run resumes. The full target configuration::

    python scripts/bench_revibranch.py --classes setcover cauctions --test 20 --transfer 10 \\
        --rounds 20 --episodes 8 --train-instances 100 --time-limit 600 --work runs/revibranch

The reduced ablation docs/revibranch.md reports (runs/revibranch/drive5.sh, then
drive5_eval.sh; the full variant was trained by the same command in an earlier run)::

    python scripts/bench_revibranch.py --classes cauctions \\
        --variants no_revival no_redistribution full --init runs/revibranch/init/cauctions.pt \\
        --train-instances 30 --rounds 24 --episodes 6 --updates 200 --lr 1e-3 \\
        --episode-time-limit 60 --eval-every 3 --eval-instances 8 --test 0 --transfer 0 \\
        --work runs/revibranch/run5
    python scripts/bench_revibranch.py --classes cauctions \\
        --variants no_revival no_redistribution full --init runs/revibranch/init/cauctions.pt \\
        --no-train --test 20 --transfer-pick 0,2,3,6,5 --time-limit 300 --work runs/revibranch/run5
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from orlearn.branching.plugin import solve_batch
from orlearn.branching.revibranch import MAX_ADVANTAGE, PRIOR_WEIGHT
from orlearn.errors import OrlearnError
from orlearn.milp.io import is_instance_file
from orlearn.solver.metrics import shifted_geometric_mean
from orlearn.solver.result import SolveResult

#: variant -> (RLConfig switches, table label)
VARIANTS = {
    "no_revival": ({"revival": False}, "RL without revival"),
    "no_redistribution": ({"redistribution": False}, "RL without redistribution"),
    "full": ({}, "ReviBranch"),
    # An extra ablation beyond the three: full ReviBranch with Q errors relative to the subtree.
    "relative": ({"relative_loss": True}, "ReviBranch, relative loss"),
}
#: The three RL ablation rows (the default).
ABLATION = ("no_revival", "no_redistribution", "full")
SHIFTS = {"time": 1.0, "nodes": 10.0, "lp_iterations": 100.0}


def custom_set(name: str, params: str, split: str, n: int, root: Path) -> Path:
    """Write the first ``n`` instances of ``split`` of registry distribution ``name`` with some
    parameters replaced (``params`` like "n_rows=250,n_cols=500") under ``root``; returns the
    folder (existing files are kept)."""
    from orlearn.milp.io import write_model
    from orlearn.milp.registry import get_distribution

    base = get_distribution(name)
    changes = {}
    for item in filter(None, params.split(",")):
        key, _, value = item.partition("=")
        if key not in base.params:
            raise OrlearnError(f"{name} has no parameter {key!r} (has {', '.join(base.params)})")
        changes[key] = type(base.params[key])(value)
    dist = base.with_params(**changes)
    folder = root / f"{name.replace('/', '_')}_{params.replace(',', '_').replace('=', '')}" / split
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        path = folder / f"{split}_{i:04d}.mps.gz"
        if not path.is_file():
            write_model(dist.sample(dist.seed_for(split, i)), path)
    return folder


def _files(folder: Path, n: int, pick: list[int] | None = None) -> list[Path]:
    """The first ``n`` instances of ``folder`` (sorted by name), or those at positions ``pick``."""
    if not folder.is_dir():
        raise OrlearnError(f"{folder}: no such instance folder (see instances/milp/README.md)")
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_instance_file(p))
    if pick:
        bad = [i for i in pick if not 0 <= i < len(files)]
        if bad:
            raise OrlearnError(f"{folder}: {len(files)} instances, no position {bad[0]}")
        return [files[i] for i in pick]
    if len(files) < n:
        raise OrlearnError(f"{folder}: {len(files)} instances, {n} asked for")
    return files[:n]


def _positions(text: str) -> list[int]:
    """'0,2,3' -> [0, 2, 3]; OrlearnError for anything else."""
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise OrlearnError(f"--transfer-pick wants positions like 0,2,3, got {text!r}") from None


def decision_ms(results: list[SolveResult]) -> float | None:
    """Mean wall ms per learned decision (observation + network) over ``results``, weighted by
    their decisions; None for a rule without a learned policy."""
    total = calls = 0.0
    for res in results:
        stats = res.branching_stats or {}
        n = stats.get("learned_calls", 0)
        if "decision_ms" in stats:  # ReviBranch rule: the whole decision
            per = stats["decision_ms"]
        elif "inference_ms" in stats:  # imitation rule: observation + inference
            per = stats["observation_ms"] + stats["inference_ms"]
        else:
            continue
        total, calls = total + per * n, calls + n
    return total / calls if calls else None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def table(results: list[SolveResult], rules: list[str], labels: dict[str, str], base: str) -> tuple[
    str, list[dict]
]:  # fmt: skip
    """Markdown rows and JSON records: means over the instances every rule solved."""
    by_rule: dict[str, dict[str, SolveResult]] = {r: {} for r in rules}
    for res in results:
        if res.rule in by_rule:
            by_rule[res.rule][res.instance] = res
    common = set.intersection(*(set(v) for v in by_rule.values()))
    all_solved = sorted(i for i in common if all(by_rule[r][i].solved for r in rules))
    rows = []
    for rule in rules:
        means = {
            key: shifted_geometric_mean(
                [getattr(by_rule[rule][i], "solving_time" if key == "time" else key) for i in all_solved],
                shift,
            )
            for key, shift in SHIFTS.items()
        }  # fmt: skip
        rows.append(
            {
                "rule": labels[rule], "spec": rule, "instances": len(common),
                "solved": sum(by_rule[rule][i].solved for i in common), "common": len(all_solved),
                **means, "decision_ms": decision_ms([by_rule[rule][i] for i in all_solved]),
            }
        )  # fmt: skip
    ref = next(r for r in rows if r["spec"] == base)
    lines = [
        "| rule | solved | time (s) | nodes | LP iterations | nodes / imitation | LP / imitation "
        "| time / imitation | ms / decision |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = {k: r[k] / ref[k] if ref[k] else float("nan") for k in SHIFTS}
        r.update({f"{k}_ratio": v for k, v in ratio.items()})
        lines.append(
            f"| {r['rule']} | {r['solved']}/{r['instances']} | {r['time']:.2f} | {r['nodes']:.0f} | "
            f"{r['lp_iterations']:.0f} | {ratio['nodes']:.3f} | {ratio['lp_iterations']:.3f} | "
            f"{ratio['time']:.3f} | {_ms(r['decision_ms'])} |"
        )
    return "\n".join(lines), rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", nargs="+", default=["setcover", "cauctions"])
    parser.add_argument("--variants", nargs="*", choices=list(VARIANTS), default=list(ABLATION),
                        help="RL variants (none: only relpscost and the imitation policy)")
    parser.add_argument("--init", default="gnn:{cls}",
                        help="imitation policy per class ({cls} is replaced)")
    parser.add_argument("--train-dist", default="{cls}/small",
                        help="training distribution or instance folder per class ({cls} replaced)")
    parser.add_argument("--train-params", default="",
                        help="train on {cls}/small with these parameters replaced, e.g. "
                             "n_rows=250,n_cols=500 (generated under WORK/instances)")
    parser.add_argument("--test-params", default="",
                        help="test on such instances (test split) instead of --test-dir")
    parser.add_argument("--test-dir", default="instances/milp/{cls}_small_test",
                        help="test instance folder per class ({cls} replaced)")
    parser.add_argument("--transfer-dir", default="instances/milp/{cls}_medium_test",
                        help="transfer instance folder per class ({cls} replaced)")
    parser.add_argument("--transfer-params", default="",
                        help="transfer to {cls}/small with these parameters replaced (test split, "
                             "generated under WORK/instances) instead of --transfer-dir")
    parser.add_argument("--test", type=int, default=20, help="small test instances per class")
    parser.add_argument("--transfer", type=int, default=10, help="medium transfer instances")
    parser.add_argument("--transfer-pick", default="",
                        help="transfer instances at these positions of the sorted folder "
                             "(e.g. 0,2,3) instead of the first --transfer")
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--train-instances", type=int, default=100)
    parser.add_argument("--episode-time-limit", type=float, default=300.0)
    parser.add_argument("--reward", choices=("nodes", "lp"), default="nodes")
    parser.add_argument("--prior-weight", type=float, default=PRIOR_WEIGHT,
                        help="KL weight lambda towards the imitation policy (reference trees/nat)")
    parser.add_argument("--max-advantage", type=float, default=MAX_ADVANTAGE,
                        help="bound b of the learned advantage (fraction of the node's subtree)")
    parser.add_argument("--eval-every", type=int, default=0,
                        help="greedy evaluation on --eval-instances valid instances every K rounds")
    parser.add_argument("--eval-instances", type=int, default=8,
                        help="{cls}/small valid-split instances for --eval-every (8)")
    parser.add_argument("--time-limit", type=float, default=600.0, help="seconds per test solve")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="cpu",
                        help="SCIP's clock for times and limits (cpu: the solve's own CPU "
                             "seconds, which move far less with the machine's load)")
    parser.add_argument("--jobs", type=int, default=1, help="training episode workers")
    parser.add_argument("--solve-jobs", type=int, default=1, help="test solves at a time (1 for timing)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default="runs/revibranch")
    parser.add_argument("--no-train", action="store_true", help="only evaluate existing policies")
    parser.add_argument("--markdown", default=None, help="default: WORK/table.md")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

    from orlearn.branching.loader import resolve_policy_path
    from orlearn.branching.revibranch.learner import RLConfig, train_revibranch

    work = Path(args.work)
    sections, records = [], []
    # CPU clock: limits and times are the solve's own CPU seconds; the worker's kill timer is
    # wall-clock, so it gets room for a loaded machine.
    clock = (
        {"params": {"timing/clocktype": 1}, "timeout_margin": 3.0 * args.time_limit}
        if args.clock == "cpu" else {}
    )  # fmt: skip
    try:
        for cls in args.classes:
            init = str(resolve_policy_path(args.init.format(cls=cls)))
            rules = ["relpscost", init]
            labels = {"relpscost": "relpscost", init: "imitation"}
            for variant in args.variants:
                switches, label = VARIANTS[variant]
                out = work / cls / f"{variant}.pt"
                if not args.no_train:
                    config = RLConfig(
                        rounds=args.rounds, episodes_per_round=args.episodes,
                        updates_per_round=args.updates, lr=args.lr, n_instances=args.train_instances,
                        time_limit=args.episode_time_limit, reward=args.reward, seed=args.seed,
                        prior_weight=args.prior_weight, max_advantage=args.max_advantage,
                        **switches,
                    )  # fmt: skip
                    train_spec = args.train_dist.format(cls=cls)
                    if args.train_params:
                        train_spec = str(custom_set(
                            f"{cls}/small", args.train_params, "train", args.train_instances,
                            work / "instances",
                        ))  # fmt: skip
                    valid = None
                    if args.eval_every:
                        from orlearn.milp.io import resolve_instances

                        valid = [str(p) for p in resolve_instances(
                            [f"{cls}/small"], args.eval_instances, "valid", work / "instances"
                        )]  # fmt: skip
                    result = train_revibranch(
                        [train_spec], init, out, config, jobs=args.jobs,
                        cache_dir=work / "instances", show_progress=True, evaluate=valid,
                        eval_every=args.eval_every,
                    )  # fmt: skip
                    h = result.history
                    for k, r in enumerate(h.get("eval_round", [])):
                        print(f"{cls} {variant}: valid after round {int(r)}: nodes / imitation "
                              f"{h['eval_nodes_ratio'][k]:.3f}, LP / imitation "
                              f"{h['eval_lp_ratio'][k]:.3f}")
                rules.append(str(out))
                labels[str(out)] = label
            test_dir = args.test_dir
            if args.test_params:
                test_dir = str(custom_set(
                    f"{cls}/small", args.test_params, "test", args.test, work / "instances"
                ))  # fmt: skip
            transfer_dir = args.transfer_dir
            if args.transfer_params:
                transfer_dir = str(custom_set(
                    f"{cls}/small", args.transfer_params, "test", args.transfer, work / "instances"
                ))  # fmt: skip
            pick = _positions(args.transfer_pick)
            for split, folder, n, positions in (
                ("test", test_dir, args.test, None),
                ("transfer", transfer_dir, len(pick) or args.transfer, pick),
            ):
                if n == 0:
                    continue
                files = _files(Path(folder.format(cls=cls)), n, positions)
                results = solve_batch(
                    files, rules, settings="gasse", seeds=[args.seed], time_limit=args.time_limit,
                    jobs=args.solve_jobs, output=work / cls / f"{split}.jsonl", **clock,
                )  # fmt: skip
                text, rows = table(results, rules, labels, init)
                where = Path(folder.format(cls=cls)).name
                sections.append(f"### {cls}, {split}: {where} ({len(files)} instances)\n\n{text}")
                records.append({"class": cls, "split": split, "rows": rows})
                print(sections[-1] + "\n")
    except OrlearnError as exc:
        print(f"bench_revibranch: error: {exc}", file=sys.stderr)
        return 2
    md = Path(args.markdown) if args.markdown else work / "table.md"
    md.parent.mkdir(parents=True, exist_ok=True)
    md.write_text("\n\n".join(sections) + "\n")
    (work / "summary.json").write_text(json.dumps({"args": vars(args), "tables": records}, indent=2))
    print(f"wrote {md} and {work / 'summary.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
