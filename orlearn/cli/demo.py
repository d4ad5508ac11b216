"""`orlearn demo` (what `make demo` runs): compare branching rules on the shipped test instances.

The demo solves the first few instances of every small shipped MILP test set
(instances/milp/*_small_test/) under the rules in :data:`DEMO_RULES` with the `gasse` settings, two solves at a time, and prints the
side-by-side table. When the shipped learned policy exists, the learned rule is compared with
SCIP's default instead.
"""

from __future__ import annotations

import argparse
from pathlib import Path

#: The rules the demo compares (first one is the reference of the ratio column).
DEMO_RULES = ["relpscost", "pscost"]
#: With the shipped learned policy present, the demo compares it with SCIP's default rule.
LEARNED_DEMO_RULES = ["gnn", "relpscost"]
LEARNED_POLICY = Path("policies/branching/mixed.pt")
INSTANCE_DIR = Path("instances/milp")
#: The sets the demo draws from (the small test splits: a few minutes on 2 cores).
DEMO_SETS = "*_small_test"


def demo_instances(root: Path, per_set: int, sets: str = DEMO_SETS) -> list[Path]:
    """The first ``per_set`` instance files (sorted) of every folder under ``root`` named ``sets``."""
    from orlearn.errors import OrlearnError
    from orlearn.milp.io import is_instance_file

    folders: dict[Path, list[Path]] = {}
    for folder in sorted(root.glob(sets)):
        for path in sorted(folder.iterdir()):
            if path.is_file() and is_instance_file(path):
                folders.setdefault(folder, []).append(path)
    if not folders:
        raise OrlearnError(f"no shipped MILP instances in {root}/{sets}")
    return [path for folder in sorted(folders) for path in folders[folder][:per_set]]


def demo_rules(root: Path) -> list[str]:
    """The rules to compare: the learned one when its policy is shipped, else two SCIP rules."""
    return list(LEARNED_DEMO_RULES if (root / LEARNED_POLICY).is_file() else DEMO_RULES)


def register(subparsers: argparse._SubParsersAction) -> None:
    from orlearn.cli.solve import add_solve_arguments

    p = subparsers.add_parser(
        "demo",
        help="compare branching rules on the shipped test instances (make demo)",
        description="Solve the first instances of every shipped MILP test set under two "
        "branching rules (gasse settings) and print the comparison table.",
    )
    add_solve_arguments(p)
    p.add_argument("--per-set", type=int, default=3, metavar="N", help="instances per test set (default 3)")
    p.set_defaults(
        func=run_demo, settings="gasse", jobs=2, time_limit=60.0,
        output="runs/demo/results.jsonl",
    )


def run_demo(args: argparse.Namespace) -> int:
    from orlearn.cli.solve import run_batch, validate_arguments
    from orlearn.errors import OrlearnError
    from orlearn.shipped import shipped_root

    root = shipped_root()
    if args.per_set < 1:
        raise OrlearnError(f"--per-set must be at least 1, got {args.per_set}")
    args.branching = args.branching or demo_rules(root)
    validate_arguments(args)
    instances = demo_instances(root / INSTANCE_DIR, args.per_set)
    sets = len({path.parent for path in instances})
    return run_batch(args, instances, title=f"demo: {len(instances)} instances from {sets} sets")
