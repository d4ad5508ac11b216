"""`orlearn collect` (imitation data for learned branching) and `orlearn train branching`.

``train`` is a verb group with one sub-verb per kind of policy; other modules add theirs with
``train_kinds(subparsers).add_parser("branching-rl", ...)``.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any


def train_kinds(subparsers: Any) -> Any:
    """The sub-verbs of ``orlearn train`` (created on first use, whichever module comes first)."""
    parser = subparsers.choices.get("train")
    if parser is None:
        parser = subparsers.add_parser(
            "train", help="train a policy (train KIND ...)", description="Train a policy."
        )
        parser.set_defaults(func=lambda args: _no_kind(parser))
        parser._orlearn_kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    return parser._orlearn_kinds


def _no_kind(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "collect",
        help="collect strong-branching imitation data",
        description=(
            "Solve instances with SCIP, query strong branching at a random share of the nodes "
            "(pseudo costs branch elsewhere) and write one shard per instance; rerunning resumes."
        ),
    )
    p.add_argument("specs", nargs="+", metavar="DIST", help="registry name, file, dir or manifest")
    p.add_argument("-n", type=int, default=None, help="instances per registry name (default 20)")
    p.add_argument("-o", "--out", required=True, type=Path, help="output directory of shards")
    p.add_argument("-p", "--expert-prob", type=float, default=0.05,
                   help="probability of querying the expert at a node (Gasse: 0.05)")  # fmt: skip
    p.add_argument("--node-limit", type=int, default=None, help="nodes per episode (default none)")
    p.add_argument("--time-limit", type=float, default=None, help="seconds per episode")
    p.add_argument("--split", default="train", help="split of registry instances (default train)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="SCIP parameter on top of the gasse settings (repeatable)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="parallel workers")
    p.add_argument("--executor", choices=("local", "ray"), default="local")
    p.add_argument("--address", default=None, help="Ray cluster address (ray executor)")
    p.add_argument("--cache-dir", type=Path, default=None, help="where registry instances go")
    p.set_defaults(func=_collect)

    t = train_kinds(subparsers).add_parser(
        "branching",
        help="imitation-train a GNN branching policy on collected data",
        description="Train the bipartite GCNN to imitate strong branching; writes a policy file.",
    )
    t.add_argument("data", nargs="+", type=Path, help="shard files or directories")
    t.add_argument("-o", "--out", required=True, type=Path, help="policy file to write (.pt)")
    t.add_argument("--epochs", type=int, default=100)
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--patience", type=int, default=12, help="early-stopping patience (epochs)")
    t.add_argument("--valid-fraction", type=float, default=0.15,
                   help="share of each distribution's instances held out")  # fmt: skip
    t.add_argument("--emb", type=int, default=64, help="embedding size")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--curves", type=Path, default=None, help="learning-curve PNG")
    t.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    t.set_defaults(func=_train_branching)


def _collect(args: argparse.Namespace) -> int:
    from orlearn.branching.collect import collect, plan_episodes
    from orlearn.progress import progress_bar
    from orlearn.solver.settings import parse_params

    episodes = plan_episodes(
        args.specs, args.n, args.out, split=args.split, expert_prob=args.expert_prob,
        node_limit=args.node_limit, time_limit=args.time_limit, seed=args.seed,
        params=parse_params(args.param), cache_dir=args.cache_dir,
    )  # fmt: skip
    todo = [e for e in episodes if not Path(e.shard).is_file()]
    samples: Counter[str] = Counter()
    failed: list[str] = []
    with progress_bar("collecting", len(todo)) as advance:
        for episode, stats, error in collect(
            todo, jobs=args.jobs, executor=args.executor, address=args.address
        ):
            if error is not None:
                failed.append(f"{episode.instance}: {error}")
            else:
                samples[episode.distribution] += stats["samples"]
            advance(status=f"{sum(samples.values())} samples")
    done = len(episodes) - len(todo)
    print(f"{len(todo) - len(failed)} episodes run, {done} already done, {len(failed)} failed")
    for dist, n in sorted(samples.items()):
        print(f"  {dist}: {n} new samples")
    for line in failed:
        print(f"  failed: {line}")
    print(f"shards in {args.out}")
    return 1 if failed else 0


def _train_branching(args: argparse.Namespace) -> int:
    from orlearn.branching.train import TrainConfig, train_policy

    config = TrainConfig(
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, patience=args.patience,
        valid_fraction=args.valid_fraction, emb=args.emb, seed=args.seed,
    )  # fmt: skip
    result = train_policy(
        args.data, args.out, config, curves=args.curves, resume=not args.no_resume,
        show_progress=True,
    )  # fmt: skip
    md = result.metadata
    print(
        f"{md['n_train_samples']} training / {md['n_valid_samples']} validation samples from "
        f"{', '.join(md['distributions'])}"
    )
    v = result.valid
    print(
        f"best epoch {result.best_epoch} of {md['epochs']}: validation top-1 {v['top1']:.3f} "
        f"(random {md['random_valid_top1']:.3f}), top-3 {v['top3']:.3f}, top-5 {v['top5']:.3f}, "
        f"top-10 {v['top10']:.3f}"
    )
    print(f"policy written to {result.policy}" + (f", curves {result.curves}" if result.curves else ""))
    return 0
