"""Inventory benchmark (HDPO): trains every case, tests it, writes a Markdown table.

Usage:
    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/bench_inventory.py --budget quick \
        [--only one_store_lost] [--results runs/inventory/bench.jsonl] [--table runs/inventory/bench.md]

``--budget full`` follows the published settings' sizes (hours; a GPU-sized job). Results are
appended one JSON line per case, so a stopped run resumes where it was.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import torch

from orlearn.inventory.bench import run, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", choices=["quick", "full"], default="quick")
    parser.add_argument("--only", action="append", default=[], help="cases whose name contains this; repeatable")
    parser.add_argument("--results", default="runs/inventory/bench.jsonl")
    parser.add_argument("--table", default="runs/inventory/bench.md")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--save-policies", help="folder for every trained policy (.pt + model card)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    started = time.time()
    results = Path(args.results)
    rows = run(results, budget=args.budget, seed=args.seed, checkpoint_dir=results.parent / "checkpoints",
               only=(lambda c: any(s in c.key for s in args.only)) if args.only else None,
               policy_dir=Path(args.save_policies) if args.save_policies else None)
    text = table(rows)
    Path(args.table).parent.mkdir(parents=True, exist_ok=True)
    Path(args.table).write_text(text + "\n")
    print(text)
    print(f"\n{len(rows)} cases, this run took {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
