"""`orlearn generate`, `orlearn hardness` and `orlearn convert`: MILP instance sets."""

from __future__ import annotations

import argparse
from pathlib import Path

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


def register(subparsers: argparse._SubParsersAction) -> None:
    g = subparsers.add_parser(
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

    h = subparsers.add_parser(
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

    c = subparsers.add_parser(
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


def run_generate(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from orlearn.errors import OrlearnError
    from orlearn.milp.io import generate
    from orlearn.milp.registry import get_distribution, list_distributions

    console = Console()
    if args.list:
        table = Table("name", "description", "generator")
        for name in list_distributions():
            d = get_distribution(name)
            table.add_row(name, d.description, d.version)
        console.print(table)
        return 0
    if not args.name:
        raise OrlearnError("give a distribution name (orlearn generate --list shows them)")
    out = Path(args.out) if args.out else Path("data/instances") / args.name / args.split
    paths = generate(args.name, args.split, args.n, out, start=args.start, progress=not args.quiet)
    console.print(f"{len(paths)} instances of {args.name} ({args.split}) in {out}")
    return 0


def run_hardness(args: argparse.Namespace) -> int:
    import csv

    from rich.console import Console
    from rich.table import Table

    from orlearn.errors import OrlearnError
    from orlearn.milp.hardness import Thresholds, distribution_level, hardness_level, level_counts
    from orlearn.milp.io import resolve_instances
    from orlearn.solver.batch import solve_batch

    thresholds = Thresholds(args.time_scale)
    if args.time_limit <= 0:
        raise OrlearnError(f"--time-limit must be positive, got {args.time_limit}")
    if args.n is not None and args.n < 1:
        raise OrlearnError(f"-n must be at least 1, got {args.n}")
    instances = resolve_instances(args.paths, n=args.n, split=args.split, progress=not args.quiet)
    results = solve_batch(
        instances,
        ("relpscost",),
        settings="default",
        time_limit=args.time_limit,
        jobs=args.jobs,
        output=args.output,
        progress=not args.quiet,
    )
    rows = []
    for r in results:
        level = hardness_level(
            r.status, r.solving_time, r.gap, time_limit=r.time_limit, thresholds=thresholds
        )
        rows.append((r.instance, r.status, r.solving_time, r.gap, level))
    table = Table("instance", "status", "time (s)", "gap", "level", title="hardness")
    for inst, status, seconds, gap, level in rows:
        gap_text = "-" if gap is None else f"{gap:.2%}"
        table.add_row(Path(inst).name, status, f"{seconds:.1f}", gap_text, level)
    console = Console()
    console.print(table)
    counts = ", ".join(f"{k}: {v}" for k, v in level_counts(row[4] for row in rows).items())
    overall = distribution_level(
        ((r.status, r.solving_time, r.time_limit) for r in results), thresholds
    )
    console.print(f"levels: {counts}; by mean solve time the set is {overall}")
    if args.csv:
        with open(args.csv, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["instance", "status", "solving_time", "gap", "level"])
            writer.writerows(rows)
    from orlearn.cli.solve import report_errors

    return report_errors(results)


def run_convert(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.milp.distributional_miplib import csv_to_files

    total = 0
    for csv_file in args.csv_files:
        paths = csv_to_files(
            csv_file, args.out, compress=not args.plain, limit=args.limit, progress=not args.quiet
        )
        total += len(paths)
    Console().print(f"{total} instances written to {args.out}")
    return 0
