"""`orlearn branching collect|train|train-rl`: strong-branching imitation data, imitation
training of the GNN branching policy, and ReviBranch reinforcement learning."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from orlearn.branching.revibranch import MAX_ADVANTAGE, PRIOR_WEIGHT, RAY_EPISODES_PER_WORKER
from orlearn.cli.common import verb_group


def register(subparsers: Any) -> None:
    verbs = verb_group(subparsers, "branching", "learned branching for SCIP: collect imitation "
                       "data, train a GNN policy, train it further by RL (ReviBranch)")  # fmt: skip
    _register_collect(verbs)
    _register_train(verbs)
    _register_train_rl(verbs)


def _register_collect(verbs: Any) -> None:
    p = verbs.add_parser(
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


def _register_train(verbs: Any) -> None:
    t = verbs.add_parser(
        "train",
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


def _register_train_rl(verbs: Any) -> None:
    p = verbs.add_parser(
        "train-rl",
        help="ReviBranch: RL for branching from an imitation policy",
        description=(
            "Train a branching policy by reinforcement learning (ReviBranch: DQN over the "
            "candidate set, revived trajectories, importance-weighted reward redistribution), "
            "starting from an imitation policy. The result plugs into `orlearn milp solve -b PATH.pt`."
        ),
    )
    p.add_argument("distributions", nargs="+", metavar="DIST",
                   help="registry name (e.g. setcover/small), instance file or directory")
    p.add_argument("--init", default="gnn",
                   help="imitation policy to start from: gnn, gnn:NAME, PATH.pt or a published "
                        "rl2branch PATH/il.pkl (the RL policy then reads Ecole's observation; "
                        "default gnn); a branching-rl file continues its training")
    p.add_argument("-o", "--out", required=True, help="policy file to write (.pt)")
    p.add_argument("--rounds", type=int, default=20, help="collect-and-update rounds (20)")
    p.add_argument("--episodes", type=int, default=8, help="episodes (solves) per round (8)")
    p.add_argument("--updates", type=int, default=50, help="gradient steps per round (50)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-4, help="Adam learning rate (3e-4)")
    p.add_argument("--epsilon", type=float, nargs=2, default=(0.2, 0.02), metavar=("START", "END"),
                   help="exploration rate, linear from START to END over the rounds")
    p.add_argument("--reward", choices=("nodes", "lp"), default="nodes",
                   help="terminal reward: -nodes or -LP iterations (nodes)")
    p.add_argument("--beta", type=float, default=1.0,
                   help="weight of a weak dual-bound gain in a step's importance (1.0)")
    p.add_argument("--no-revival", action="store_true",
                   help="ablation: no ancestor path, the current state only")
    p.add_argument("--no-redistribution", action="store_true",
                   help="ablation: sparse terminal reward for every step")
    p.add_argument("--max-path", type=int, default=16, help="ancestors read per decision (16)")
    p.add_argument("--prior-weight", type=float, default=PRIOR_WEIGHT, metavar="LAMBDA",
                   help="KL weight towards the imitation policy: the rule branches on "
                        "argmax LAMBDA log pi_prior + Q, in reference trees per nat "
                        f"({PRIOR_WEIGHT})")
    p.add_argument("--max-advantage", type=float, default=MAX_ADVANTAGE, metavar="B",
                   help="bound on the learned advantage, as a fraction of the node's expected "
                        f"subtree ({MAX_ADVANTAGE}); 0 keeps the imitation policy's choices")
    p.add_argument("--relative-loss", action="store_true",
                   help="divide each decision's Q error by its subtree, so that deep decisions "
                        "teach the advantage as much as the few near the root")
    p.add_argument("--eval", nargs="+", default=None, metavar="DIST",
                   help="held-out instances (folder, files, or a registry name: its first 20 "
                        "valid-split instances) for a greedy evaluation against the --init policy")
    p.add_argument("--eval-every", type=int, default=0, metavar="K",
                   help="evaluate after every K-th round and the last (0: never); the best "
                        "evaluated network goes to OUT's stem + .best.pt")
    p.add_argument("--eval-instances", type=int, default=20, metavar="N",
                   help="valid-split instances per registry name in --eval (20)")
    p.add_argument("-n", "--instances", type=int, default=100,
                   help="training instances per registry name (100)")
    p.add_argument("--time-limit", type=float, default=300.0, help="seconds per episode (300)")
    p.add_argument("--settings", default="gasse", help="SCIP settings preset (gasse)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel episode workers (1)")
    p.add_argument("--executor", choices=("local", "ray"), default="local")
    p.add_argument("--address", default=None, help="Ray cluster address (ray executor)")
    p.add_argument("--episodes-per-worker", type=int, default=RAY_EPISODES_PER_WORKER, metavar="K",
                   help="episodes a Ray worker process runs before it is replaced "
                        f"({RAY_EPISODES_PER_WORKER}; 1: a fresh process per episode)")
    p.add_argument("--cache-dir", default=None, help="where registry instances are generated")
    p.add_argument("--no-resume", action="store_true", help="ignore an existing checkpoint")
    p.set_defaults(func=_train_rl)  # fmt: skip


def _collect(args: argparse.Namespace) -> int:
    from orlearn.branching.collect import plan_episodes
    from orlearn.branching.tasks import run_collection
    from orlearn.solver.settings import parse_params

    episodes = plan_episodes(
        args.specs, args.n, args.out, split=args.split, expert_prob=args.expert_prob,
        node_limit=args.node_limit, time_limit=args.time_limit, seed=args.seed,
        params=parse_params(args.param), cache_dir=args.cache_dir,
    )  # fmt: skip
    report = run_collection(episodes, jobs=args.jobs, executor=args.executor, address=args.address)
    print(f"{report.run} episodes run, {report.already_done} already done, {len(report.failed)} failed")
    for dist, n in report.samples.items():
        print(f"  {dist}: {n} new samples")
    for line in report.failed:
        print(f"  failed: {line}")
    print(f"shards in {args.out}")
    return 1 if report.failed else 0


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


def _train_rl(args: argparse.Namespace) -> int:
    from orlearn.branching.revibranch.learner import RLConfig, train_revibranch

    config = RLConfig(
        rounds=args.rounds, episodes_per_round=args.episodes, updates_per_round=args.updates,
        batch_size=args.batch_size, lr=args.lr, epsilon_start=args.epsilon[0],
        epsilon_end=args.epsilon[1], reward=args.reward, beta=args.beta,
        revival=not args.no_revival, redistribution=not args.no_redistribution,
        max_path=args.max_path, prior_weight=args.prior_weight,
        max_advantage=args.max_advantage, relative_loss=args.relative_loss,
        n_instances=args.instances, time_limit=args.time_limit,
        settings=args.settings, seed=args.seed,
    )  # fmt: skip
    result = train_revibranch(
        args.distributions, args.init, args.out, config, jobs=args.jobs,
        executor=args.executor, address=args.address,
        episodes_per_worker=args.episodes_per_worker, cache_dir=args.cache_dir,
        resume=not args.no_resume, show_progress=True, evaluate=args.eval,
        eval_every=args.eval_every if args.eval else 0, eval_instances=args.eval_instances,
    )  # fmt: skip
    history = result.history
    print(f"wrote {result.policy} (checkpoint {result.checkpoint})")
    if history.get("relative_size"):
        first, last = history["relative_size"][0], history["relative_size"][-1]
        print(f"episode size / reference: round 1 {first:.3f}, round {len(history['loss'])} {last:.3f}")
    print(f"episodes failed or cut by the time limit: {result.metadata['failed_episodes']}")
    for k, r in enumerate(history.get("eval_round", [])):
        print(f"greedy evaluation after round {int(r)}: nodes / init "
              f"{history['eval_nodes_ratio'][k]:.3f}, LP iterations / init "
              f"{history['eval_lp_ratio'][k]:.3f} ({int(history['eval_solved'][k])} solved by both)")
    if result.best is not None:
        print(f"best evaluated network (round {result.best_round}): {result.best}")
    if result.curves is not None:
        print(f"learning curves: {result.curves}")
    return 0
