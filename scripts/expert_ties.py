"""How informative strong branching is as an imitation target, measured on collected shards.

For each folder of shards (``orlearn branching collect`` output) it reports the samples, the mean
number of candidates, the share of samples whose candidates *all* tie at the best strong-branching
score (the expert then prefers nothing, and a cross-entropy target picks one of them arbitrarily)
and the mean share of candidates tied at the best score. docs/branching.md quotes these numbers::

    python scripts/expert_ties.py runs/branching/data/mknapsack_rl2branch runs/branching/data/setcover_small
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from orlearn.branching.dataset import find_shards, load_shard
from orlearn.errors import OrlearnError


def tie_statistics(folder: str) -> dict[str, float]:
    """Samples, mean candidates, share of all-tied samples and mean tied share in ``folder``."""
    candidates, all_tied, tied_share = [], [], []
    for path in find_shards([folder]):
        for sample in load_shard(path)["samples"]:
            scores = np.asarray(sample["scores"], dtype=float)
            best = scores.max()
            tied = scores >= best - 1e-9 * max(1.0, abs(best))
            candidates.append(len(scores))
            all_tied.append(bool(tied.all()))
            tied_share.append(tied.mean())
    if not candidates:
        raise OrlearnError(f"no samples in {folder}")
    return {
        "samples": len(candidates),
        "candidates": float(np.mean(candidates)),
        "all_tied": float(np.mean(all_tied)),
        "tied_share": float(np.mean(tied_share)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", help="shard folders, one row each")
    args = parser.parse_args(argv)
    print("| data | samples | candidates (mean) | all candidates tied | tied share (mean) |")
    print("|---|---|---|---|---|")
    for folder in args.folders:
        try:
            s = tie_statistics(folder)
        except OrlearnError as exc:
            print(f"expert_ties: error: {exc}", file=sys.stderr)
            return 2
        print(f"| {folder} | {s['samples']} | {s['candidates']:.1f} | {s['all_tied']:.3f} | {s['tied_share']:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
