"""The demo (what `make demo` and `orlearn demo` run): branching rules compared on the shipped
MILP test instances.

The demo solves the first few instances of every small shipped MILP test set
(instances/milp/*_small_test/) under the rules of :func:`demo_rules` with the settings in
:data:`DEMO_OPTIONS`, two solves at a time. When the shipped learned policy exists, the learned
rule is compared with SCIP's default; otherwise two SCIP rules are.
"""

from __future__ import annotations

from pathlib import Path

from orlearn.errors import OrlearnError

#: The rules the demo compares (first one is the reference of the ratio column).
DEMO_RULES = ["relpscost", "pscost"]
#: With the shipped learned policy present, the demo compares it with SCIP's default rule.
LEARNED_DEMO_RULES = ["gnn", "relpscost"]
LEARNED_POLICY = Path("policies/branching/mixed.pt")
INSTANCE_DIR = Path("instances/milp")
#: The sets the demo draws from (the small test splits: a few minutes on 2 cores).
DEMO_SETS = "*_small_test"
#: Instances per set unless told otherwise.
PER_SET = 3
#: The solve options of the demo: the gasse presets (Gasse et al. 2019), two solves at a time,
#: a minute per solve at most, results kept under runs/ so that a rerun resumes.
DEMO_OPTIONS = {
    "settings": "gasse",
    "jobs": 2,
    "time_limit": 60.0,
    "output": "runs/demo/results.jsonl",
}


def demo_instances(root: Path, per_set: int = PER_SET, sets: str = DEMO_SETS) -> list[Path]:
    """The first ``per_set`` instance files (sorted) of every folder under ``root`` named ``sets``."""
    from orlearn.milp.io import is_instance_file

    if per_set < 1:
        raise OrlearnError(f"--per-set must be at least 1, got {per_set}")
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


def demo_title(instances: list[Path]) -> str:
    """The table title: how many instances from how many sets."""
    sets = len({path.parent for path in instances})
    return f"demo: {len(instances)} instances from {sets} sets"
