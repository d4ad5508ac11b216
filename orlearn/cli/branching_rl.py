"""`orlearn train branching-rl`: ReviBranch reinforcement learning for branching.

The ``train`` verb group belongs to the learned-branching commands (orlearn/cli/branching.py);
this module adds its ``branching-rl`` sub-verb through their ``train_kinds``.
"""

from __future__ import annotations

import argparse
from typing import Any

from orlearn.branching.revibranch import MAX_ADVANTAGE, PRIOR_WEIGHT, RAY_EPISODES_PER_WORKER
from orlearn.cli.branching import train_kinds


def register(subparsers: Any) -> None:
    p = train_kinds(subparsers).add_parser(
        "branching-rl",
        help="ReviBranch: RL for branching from an imitation policy",
        description=(
            "Train a branching policy by reinforcement learning (ReviBranch: DQN over the "
            "candidate set, revived trajectories, importance-weighted reward redistribution), "
            "starting from an imitation policy. The result plugs into `orlearn solve -b PATH.pt`."
        ),
    )
    p.add_argument("distributions", nargs="+", metavar="DIST",
                   help="registry name (e.g. setcover/small), instance file or directory")
    p.add_argument("--init", default="gnn",
                   help="imitation policy to start from: gnn, gnn:NAME or PATH.pt (default gnn); "
                        "a branching-rl file continues its training")
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
                   help="evaluate after every K-th round and the last (0: never)")
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
        eval_every=args.eval_every if args.eval else 0,
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
    if result.curves is not None:
        print(f"learning curves: {result.curves}")
    return 0
