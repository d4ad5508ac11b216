"""`orlearn milp generate|hardness|convert|solve`: MILP instance sets, and solving them with SCIP
under any branching rule."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from orlearn.cli.common import verb_group

if TYPE_CHECKING:
    from orlearn.solver.tasks import Comparison

GENERATE_EPILOG = """\
Writes <OUT>/<domain>_<size>_<split>_<index>.mps.gz plus <OUT>/manifest.json (file, distribution,
split, seed, generator version, sha256). The same NAME, split and index always give the same
bytes; files already present and matching the manifest are kept. Seeds: train [0, 1e9),
valid [1e9, 2e9), test [2e9, 3e9), so no test instance can appear in training.
Exit codes: 0 done; 2 bad input."""

HARDNESS_EPILOG = """\
Levels (Distributional MIPLIB, Huang et al. 2024; SCIP default settings here): easy < 100 s,
medium 100-1000 s, hard solved after >= 1000 s, very-hard not solved within 3600 s. --time-scale
multiplies all thresholds. A run stopped by a shorter limit is labelled >=medium / >=hard, or
unknown when stopped before the easy threshold. Solves run in worker processes; with -o, finished
solves are appended to a JSONL file and a rerun resumes.
Exit codes: 0 done; 1 some solves crashed or timed out; 2 bad input, an unreadable instance
file included; 130 interrupted."""

SOLVE_EPILOG = """\
PATH is an MPS/LP file (plain or .gz), a directory of them, a manifest.json, or a registry name
such as setcover/small (the first -n instances of --split, generated on demand).
With several -b, every instance is solved under each rule and the summary compares them.
Results are appended to -o as JSON lines; rerunning the same command skips finished solves.
Exit codes: 0 all solves finished; 1 some solves crashed or timed out (status error);
2 bad input, an unreadable instance file included (the other instances are still solved);
130 interrupted (results written so far are kept)."""


def register(subparsers: argparse._SubParsersAction) -> None:
    verbs = verb_group(subparsers, "milp", "MILP instance sets: generate, label hardness, convert, "
                       "and solve them with SCIP under any branching rule")  # fmt: skip
    _register_generate(verbs)
    _register_hardness(verbs)
    _register_convert(verbs)
    _register_solve(verbs)


def _register_generate(verbs: argparse._SubParsersAction) -> None:
    g = verbs.add_parser(
        "generate",
        help="generate a seeded MILP instance set (setcover/small, ...)",
        description="Generate instances of a registered distribution as .mps.gz + manifest.",
        epilog=GENERATE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    g.add_argument("name", nargs="?", help="distribution DOMAIN/SIZE, e.g. setcover/small")
    g.add_argument("--split", default="test", choices=["train", "valid", "test"])
    g.add_argument("-n", type=int, default=20, help="number of instances (default 20)")
    g.add_argument("--start", type=int, default=0, help="index of the first instance")
    g.add_argument(
        "-o", "--out", default=None, help="output directory (default data/instances/NAME/SPLIT)"
    )
    g.add_argument("--list", action="store_true", help="list the distributions and exit")
    g.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=run_generate)


def _register_hardness(verbs: argparse._SubParsersAction) -> None:
    h = verbs.add_parser(
        "hardness",
        help="label instances easy / medium / hard / very-hard by SCIP solve time",
        description="Solve instances with SCIP defaults and label their hardness.",
        epilog=HARDNESS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    h.add_argument(
        "paths", nargs="+", metavar="PATH", help="file, directory, manifest or registry name"
    )
    h.add_argument("-n", type=int, default=None, help="instances per registry name (default 20)")
    h.add_argument("--split", default="test", help="split for registry names (default test)")
    h.add_argument(
        "--time-limit", type=float, default=3600.0, help="seconds per solve (default 3600)"
    )
    h.add_argument("--time-scale", type=float, default=1.0, help="multiply the level thresholds")
    h.add_argument("-j", "--jobs", type=int, default=1, help="solves at a time (default 1)")
    h.add_argument("-o", "--output", default=None, help="JSONL file of the solves (resumable)")
    h.add_argument("--csv", default=None, help="also write instance,status,time,gap,level here")
    h.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    h.set_defaults(func=run_hardness)


def _register_convert(verbs: argparse._SubParsersAction) -> None:
    c = verbs.add_parser(
        "convert",
        help="turn Distributional MIPLIB CSV files into instance files",
        description="Write each row of Distributional MIPLIB CSV files (MPS/LP text in column "
        "MILP, its format in column format) as an instance file, with a manifest.",
    )
    c.add_argument("csv_files", nargs="+", metavar="CSV")
    c.add_argument("-o", "--out", required=True, help="output directory")
    c.add_argument("--limit", type=int, default=None, help="only the first N rows of each file")
    c.add_argument("--plain", action="store_true", help="write uncompressed files")
    c.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    c.set_defaults(func=run_convert)


def _register_solve(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser(
        "solve",
        help="batch-solve MILPs with SCIP and compare branching rules",
        description="Solve MILP instances with SCIP, each solve in its own worker process.",
        epilog=SOLVE_EPILOG,
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
    """Options shared by `milp solve` and `demo`: rules, settings, limits, executor, output."""
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


def check_solve_arguments(args: argparse.Namespace) -> None:
    """Check rules, settings, params and limits before any instance is generated or solved."""
    from orlearn.branching.plugin import plugin_for
    from orlearn.solver.tasks import check_solve_options

    check_solve_options(
        args.branching, settings=args.settings, params=args.param, time_limit=args.time_limit,
        jobs=args.jobs, threads=args.threads, n=getattr(args, "n", None), resolve=plugin_for,
    )  # fmt: skip


def run_generate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from orlearn.errors import OrlearnError
    from orlearn.milp.io import generate
    from orlearn.milp.registry import get_distribution, list_distributions
    from orlearn.milp.tasks import generate_dir

    console = Console()
    if args.list:
        table = Table("name", "description", "generator")
        for name in list_distributions():
            d = get_distribution(name)
            table.add_row(name, d.description, d.version)
        console.print(table)
        return 0
    if not args.name:
        raise OrlearnError("give a distribution name (orlearn milp generate --list shows them)")
    out = Path(args.out) if args.out else generate_dir(args.name, args.split)
    paths = generate(args.name, args.split, args.n, out, start=args.start, progress=not args.quiet)
    console.print(f"{len(paths)} instances of {args.name} ({args.split}) in {out}")
    return 0


def run_hardness(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from orlearn.milp.hardness import Thresholds
    from orlearn.milp.io import resolve_instances
    from orlearn.solver.tasks import check_hardness_options, label_hardness, write_hardness_csv

    thresholds = Thresholds(args.time_scale)
    check_hardness_options(args.time_limit, args.n)
    instances = resolve_instances(args.paths, n=args.n, split=args.split, progress=not args.quiet)
    report = label_hardness(
        instances, thresholds, time_limit=args.time_limit, jobs=args.jobs, output=args.output,
        progress=not args.quiet,
    )  # fmt: skip
    table = Table("instance", "status", "time (s)", "gap", "level", title="hardness")
    for row in report.rows:
        gap_text = "-" if row.gap is None else f"{row.gap:.2%}"
        table.add_row(Path(row.instance).name, row.status, f"{row.solving_time:.1f}", gap_text, row.level)
    console = Console()
    console.print(table)
    counts = ", ".join(f"{k}: {v}" for k, v in report.counts.items())
    console.print(f"levels: {counts}; by mean solve time the set is {report.overall}")
    if args.csv:
        write_hardness_csv(report.rows, args.csv)
    return report_errors(report.results)


def run_convert(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.milp.tasks import convert_csv_files

    paths = convert_csv_files(
        args.csv_files, args.out, compress=not args.plain, limit=args.limit, progress=not args.quiet
    )
    Console().print(f"{len(paths)} instances written to {args.out}")
    return 0


def run_solve(args: argparse.Namespace) -> int:
    from orlearn.milp.io import resolve_instances

    check_solve_arguments(args)
    instances = resolve_instances(args.paths, n=args.n, split=args.split, cache_dir=args.cache_dir)
    return run_comparison(args, instances, title=f"{len(instances)} instances")


def run_comparison(args: argparse.Namespace, instances: list[Path], title: str) -> int:
    """Solve, print the comparison table, return the exit code (shared with `demo`)."""
    from orlearn.branching.plugin import plugin_for
    from orlearn.solver.tasks import compare_rules

    comparison = compare_rules(
        instances, args.branching, settings=args.settings, params=args.param,
        seeds=args.seed or [0], time_limit=args.time_limit, jobs=args.jobs,
        executor=args.executor, address=args.address, output=args.output,
        retry_errors=args.retry_errors, threads=args.threads, progress=not args.quiet,
        markdown=args.markdown, profile=args.profile, resolve=plugin_for,
    )  # fmt: skip
    print_comparison(args, comparison, title)
    if args.profile and comparison.profile is None:
        print("orlearn: no profile drawn: matplotlib is not installed", file=sys.stderr)
    return report_errors(comparison.results)


def print_comparison(args: argparse.Namespace, comparison: Comparison, title: str) -> None:
    from rich.console import Console

    from orlearn.solver.metrics import summary_table

    console = Console()
    limit = "none" if args.time_limit is None else f"{args.time_limit:g} s"
    console.print(
        summary_table(comparison.summary, title=f"{title}, settings {args.settings}, time limit {limit}")
    )
    console.print(
        "time: 1-shifted geometric mean of solving seconds; nodes: 10-shifted geometric mean "
        f"over instances all rules solved; results in {args.output}"
    )


def report_errors(results: list) -> int:
    """Print the first errors on stderr; return the exit code of :func:`orlearn.solver.tasks.exit_code`."""
    from orlearn.solver.tasks import error_lines, exit_code

    for line in error_lines(results):
        print(f"orlearn: {line}", file=sys.stderr)
    return exit_code(results)
