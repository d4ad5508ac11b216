"""`orlearn demo` (what `make demo` runs): compare branching rules on the shipped test instances
(see :mod:`orlearn.demo` for what it solves and why)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    from orlearn.cli.milp import add_solve_arguments
    from orlearn.demo import DEMO_OPTIONS, PER_SET

    p = subparsers.add_parser(
        "demo",
        help="compare branching rules on the shipped test instances (make demo)",
        description="Solve the first instances of every shipped MILP test set under two "
        "branching rules (gasse settings) and print the comparison table.",
    )
    add_solve_arguments(p)
    p.add_argument("--per-set", type=int, default=PER_SET, metavar="N",
                   help="instances per test set (default %(default)s)")  # fmt: skip
    p.set_defaults(func=run_demo, **DEMO_OPTIONS)


def run_demo(args: argparse.Namespace) -> int:
    from orlearn.cli.milp import check_solve_arguments, run_comparison
    from orlearn.demo import INSTANCE_DIR, demo_instances, demo_rules, demo_title
    from orlearn.shipped import shipped_root

    root = shipped_root()
    args.branching = args.branching or demo_rules(root)
    check_solve_arguments(args)
    instances = demo_instances(root / INSTANCE_DIR, args.per_set)
    return run_comparison(args, instances, title=demo_title(instances))
