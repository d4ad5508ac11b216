"""Compare SCIP's built-in branching rules on the shipped MILP test sets (docs/solving.md table).

Solves the first ``--per-set`` instances of each set under each rule (gasse settings by default),
one table per set plus one over all, written as markdown. Results go to a JSONL file, so an
interrupted run resumes where it stopped.

    python scripts/bench_builtin_rules.py --per-set 5 --rules relpscost pscost mostinf \\
        --time-limit 60 --jobs 1 -o runs/bench_builtin/results.jsonl \\
        --markdown runs/bench_builtin/table.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from orlearn.milp.io import is_instance_file
from orlearn.solver.batch import solve_batch
from orlearn.solver.metrics import summarize, summary_markdown

DEFAULT_SETS = [
    "instances/milp/setcover_small_test",
    "instances/milp/cauctions_small_test",
    "instances/milp/facility_small_test",
    "instances/milp/indset_small_test",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=DEFAULT_SETS, help="instance folders")
    parser.add_argument("--per-set", type=int, default=5)
    parser.add_argument("--rules", nargs="+", default=["relpscost", "pscost", "mostinf"])
    parser.add_argument("--settings", default="gasse")
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("-o", "--output", default="runs/bench_builtin/results.jsonl")
    parser.add_argument("--markdown", default="runs/bench_builtin/table.md")
    args = parser.parse_args(argv)

    sections = []
    everything = []
    for folder in map(Path, args.sets):
        files = sorted(p for p in folder.iterdir() if p.is_file() and is_instance_file(p))
        files = files[: args.per_set]
        if not files:
            print(f"no instances in {folder}", file=sys.stderr)
            return 2
        results = solve_batch(
            files, args.rules, settings=args.settings, seeds=[args.seed],
            time_limit=args.time_limit, jobs=args.jobs, output=args.output,
        )
        everything += results
        table = summary_markdown(summarize(results, args.rules))
        sections.append(f"### {folder.name} ({len(files)} instances)\n\n{table}")
        print(sections[-1])
    sections.append(f"### all sets\n\n{summary_markdown(summarize(everything, args.rules))}")
    print(sections[-1])
    Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
    Path(args.markdown).write_text("\n".join(sections))
    return 0


if __name__ == "__main__":
    sys.exit(main())
