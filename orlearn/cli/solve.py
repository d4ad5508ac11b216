"""`orlearn solve`: batch-solve MILP instances with SCIP under one or more branching rules."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orlearn.solver.result import SolveResult

EPILOG = """\
PATH is an MPS/LP file (plain or .gz), a directory of them, a manifest.json, or a registry name
such as setcover/small (the first -n instances of --split, generated on demand).
With several -b, every instance is solved under each rule and the summary compares them.
Results are appended to -o as JSON lines; rerunning the same command skips finished solves.
Exit codes: 0 all solves finished; 1 some solves crashed or timed out (status error);
2 bad input, an unreadable instance file included (the other instances are still solved);
130 interrupted (results written so far are kept)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "solve",
        help="batch-solve MILPs with SCIP and compare branching rules",
        description="Solve MILP instances with SCIP, each solve in its own worker process.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="instances (see below)")
    add_solve_arguments(p)
    p.add_argument("-n", type=int, default=None, help="instances per registry name (default 20)")
    p.add_argument("--split", default="test", help="split for registry names (default test)")
    p.add_argument(
        "--cache-dir", default=None, metavar="DIR",
        help="where registry instances are generated (default data/instances)",
    )
    p.set_defaults(func=run_solve)


def add_solve_arguments(p: argparse.ArgumentParser) -> None:
    """Options shared by `solve` and `demo`: rules, settings, limits, executor, output."""
    p.add_argument(
        "-b", "--branching", action="append", default=None, metavar="RULE",
        help="branching rule (repeatable): a SCIP rule such as relpscost (SCIP's default), "
        "pscost, fullstrong, mostinf, random; or a learned one: gnn, gnn:NAME, PATH.pt, PATH.pkl (rl2branch il.pkl), "
        "or hybrid[:POLICY][:depth=D][:below=RULE] (the network down to depth D, RULE deeper)",
    )
    p.add_argument(
        "--settings", default="default", metavar="NAME", help="SCIP preset: default or gasse"
    )
    p.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUE",
        help="extra SCIP parameter, e.g. limits/nodes=1000 (repeatable)",
    )
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N", help="solves at a time (default %(default)s)")
    p.add_argument("--time-limit", type=float, default=None, metavar="S", help="seconds per solve")
    p.add_argument(
        "--seed", type=int, action="append", default=None, metavar="S",
        help="SCIP random seed shift (repeatable; default 0)",
    )
    p.add_argument(
        "-o", "--output", default="results.jsonl", metavar="FILE",
        help="JSONL result file (default %(default)s)",
    )
    p.add_argument("--executor", default="local", choices=["local", "ray"])
    p.add_argument("--address", default=None, metavar="ADDR", help="Ray cluster address")
    p.add_argument(
        "--threads", type=int, default=None, metavar="T",
        help="torch threads per learned-rule solve (default: $ORLEARN_THREADS, else 1)",
    )
    p.add_argument("--retry-errors", action="store_true", help="re-run solves that ended in error")
    p.add_argument("--markdown", default=None, metavar="FILE", help="also write the table here")
    p.add_argument("--profile", default=None, metavar="PNG", help="draw a performance profile")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def validate_arguments(args: argparse.Namespace) -> None:
    """Check rules, settings, params and limits before any instance is generated or solved."""
    from orlearn.branching.plugin import validate_rule
    from orlearn.errors import OrlearnError
    from orlearn.solver.settings import parse_params, validate_settings, validate_time_limit
    from orlearn.threads import resolve_threads

    for rule in args.branching or ["relpscost"]:
        validate_rule(rule)
    validate_settings(args.settings)
    parse_params(args.param)
    validate_time_limit(args.time_limit)
    if args.jobs < 1:
        raise OrlearnError(f"--jobs must be at least 1, got {args.jobs}")
    resolve_threads(args.threads, "small")  # a bad --threads or ORLEARN_THREADS fails here
    if getattr(args, "n", None) is not None and args.n < 1:
        raise OrlearnError(f"-n must be at least 1, got {args.n}")


def run_solve(args: argparse.Namespace) -> int:
    from orlearn.milp.io import resolve_instances

    validate_arguments(args)
    instances = resolve_instances(args.paths, n=args.n, split=args.split, cache_dir=args.cache_dir)
    return run_batch(args, instances, title=f"{len(instances)} instances")


def run_batch(args: argparse.Namespace, instances: Sequence[Path], title: str) -> int:
    """Solve, print the comparison table, return the exit code (shared with `demo`)."""
    from rich.console import Console

    from orlearn.branching.plugin import solve_batch
    from orlearn.solver.metrics import (
        performance_profile,
        summarize,
        summary_markdown,
        summary_table,
    )
    from orlearn.threads import resolve_threads

    rules = args.branching or ["relpscost"]
    threads = resolve_threads(args.threads, "small")  # one solve per worker: several run at once
    results = solve_batch(
        instances,
        rules,
        settings=args.settings,
        params=args.param,
        seeds=args.seed or [0],
        time_limit=args.time_limit,
        jobs=args.jobs,
        executor=args.executor,
        address=args.address,
        output=args.output,
        retry_errors=args.retry_errors,
        threads=threads,
        progress=not args.quiet,
    )
    summary = summarize(results, rules)
    console = Console()
    limit = "none" if args.time_limit is None else f"{args.time_limit:g} s"
    console.print(
        summary_table(summary, title=f"{title}, settings {args.settings}, time limit {limit}")
    )
    console.print(
        "time: 1-shifted geometric mean of solving seconds; nodes: 10-shifted geometric mean "
        f"over instances all rules solved; results in {args.output}"
    )
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(summary_markdown(summary))
    if args.profile:
        if performance_profile(results, args.profile, rules) is None:
            print("orlearn: no profile drawn: matplotlib is not installed", file=sys.stderr)
    return report_errors(results)


def report_errors(results: Sequence[SolveResult]) -> int:
    """Print the first errors on stderr; return the exit code: 2 when an error came from the
    input (an unreadable instance file, an unusable policy), 1 for other errors, else 0."""
    failed = [r for r in results if r.status == "error"]
    for result in failed[:5]:
        kind = "error" if result.bad_input else "solve failed"
        print(f"orlearn: {kind}: {result.instance} [{result.rule}]: {result.message}", file=sys.stderr)
    if len(failed) > 5:
        print(f"orlearn: ... and {len(failed) - 5} more errors", file=sys.stderr)
    if any(r.bad_input for r in failed):
        return 2
    return 1 if failed else 0
