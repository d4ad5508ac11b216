"""ReviBranch episode throughput: episodes per minute with local workers and on Ray.

Runs the same episode tasks (same instances, seeds and exploration rate, the ReviBranch network
built from an imitation policy) through :func:`orlearn.solver.executors.run_tasks` once per configuration:
``local:J`` (J forked workers) and ``ray:J[:K]`` (a local Ray with J CPUs, or the cluster at
``--address``; tasks carry the weights and instances as bytes, as training sends them; K
episodes per Ray worker process before it is replaced, 1 by default). Prints
a table (wall seconds of the episodes, episodes per minute, Ray's start-up apart) with the load
average before and after each configuration, checks that every configuration recorded the same
trees (nodes per episode), and appends one JSON line per configuration to ``-o``::

    python scripts/revibranch_throughput.py setcover/small --init gnn:setcover -n 8 \\
        --time-limit 60 --configs local:1 ray:2 ray:2:8 local:2 -o runs/throughput.jsonl
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from orlearn.branching.loader import load_branching_policy
from orlearn.branching.revibranch.episode import EpisodeTask, run_episode
from orlearn.branching.revibranch.policy import from_imitation, save_rl_policy
from orlearn.errors import OrlearnError
from orlearn.milp.io import resolve_instances
from orlearn.solver.executors import TaskError, ray_session, run_tasks


def parse_config(text: str) -> tuple[str, int]:
    """``local:J``, ``ray:J`` or ``ray:J:K`` -> (executor, workers, episodes per Ray worker)."""
    parts = text.split(":")
    ok = parts[0] in ("local", "ray") and len(parts) in (2, 3 if parts[0] == "ray" else 2)
    if not ok or not all(p.isdigit() and int(p) >= 1 for p in parts[1:]):
        raise argparse.ArgumentTypeError(f"expected local:J, ray:J or ray:J:K (all >= 1), got '{text}'")
    return parts[0], int(parts[1]), int(parts[2]) if len(parts) == 3 else 1


def measure(
    tasks: list[EpisodeTask], executor: str, jobs: int, address: str | None, per_worker: int = 1
) -> dict[str, object]:
    """Run ``tasks`` once; wall times in seconds, the load average before and after."""
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    with ray_session(jobs, address) if executor == "ray" else contextlib.nullcontext():
        start_up = time.perf_counter() - t0
        if executor == "ray":
            tasks = [t.shipped() for t in tasks]
        t1 = time.perf_counter()
        results = dict(
            (t.index, r) for t, r in run_tasks(
                run_episode, tasks, jobs=jobs, executor=executor, tasks_per_worker=per_worker
            )
        )
        wall = time.perf_counter() - t1
    episodes = [results[t.index] for t in tasks]
    failed = [r for r in episodes if isinstance(r, TaskError)]
    return {
        "executor": executor, "jobs": jobs, "tasks_per_worker": per_worker if executor == "ray" else 1,
        "episodes": len(tasks), "failed": len(failed),
        "start_up_s": round(start_up, 2), "wall_s": round(wall, 2),
        "episodes_per_min": round(60 * len(tasks) / wall, 2),
        "mean_episode_s": round(
            sum(r.wall_time for r in episodes if not isinstance(r, TaskError)) / max(1, len(tasks) - len(failed)), 2
        ),
        "nodes": [None if isinstance(r, TaskError) else r.nodes for r in episodes],
        "status": [r.message if isinstance(r, TaskError) else r.status for r in episodes],
        "load_before": round(load_before, 2), "load_after": round(os.getloadavg()[0], 2),
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("distribution", help="registry name (train split), instance folder or files")
    p.add_argument("--init", default="gnn", help="imitation policy the network is built from")
    p.add_argument("-n", "--episodes", type=int, default=8)
    p.add_argument("--time-limit", type=float, default=60.0, help="seconds per episode")
    p.add_argument("--epsilon", type=float, default=0.1, help="exploration rate of the episodes")
    p.add_argument("--settings", default="gasse")
    p.add_argument("--configs", nargs="+", type=parse_config, default=[("local", 1, 1), ("ray", 2, 1)],
                   metavar="EXECUTOR:J[:K]",
                   help="local:J and/or ray:J[:K] (K episodes per Ray worker process, default 1; "
                        "default configs local:1 ray:2)")
    p.add_argument("--address", default=None, help="Ray cluster address (default: a local Ray)")
    p.add_argument("--cache-dir", default=None)
    p.add_argument("-o", "--out", default=None, help="JSONL file to append the measurements to")
    args = p.parse_args(argv)  # fmt: skip
    try:
        instances = resolve_instances([args.distribution], args.episodes, "train", args.cache_dir)
        net = from_imitation(load_branching_policy(args.init).model).eval()
    except OrlearnError as exc:
        print(f"revibranch_throughput: error: {exc}", file=sys.stderr)
        return 2
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        policy = save_rl_policy(Path(tmp) / "rl.pt", net)
        tasks = [
            EpisodeTask(
                instance=str(instances[i % len(instances)]), policy=str(policy), seed=i,
                epsilon=args.epsilon, settings=args.settings, time_limit=args.time_limit, index=i,
            )
            for i in range(args.episodes)
        ]  # fmt: skip
        for executor, jobs, per_worker in args.configs:
            row = measure(tasks, executor, jobs, args.address, per_worker)
            row |= {"distribution": args.distribution, "init": args.init, "time_limit": args.time_limit,
                    "cpus": os.cpu_count()}  # fmt: skip
            rows.append(row)
            if args.out:
                Path(args.out).parent.mkdir(parents=True, exist_ok=True)
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    print(f"{args.distribution}, {args.episodes} episodes, time limit {args.time_limit:g} s, {os.cpu_count()} CPUs")
    print("| executor | workers | episodes per Ray worker | episodes | failed | start-up s | wall s | episodes/min | mean episode s | load before/after |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['executor']} | {r['jobs']} | {r['tasks_per_worker']} | {r['episodes']} | {r['failed']} | {r['start_up_s']} | "
              f"{r['wall_s']} | {r['episodes_per_min']} | {r['mean_episode_s']} | "
              f"{r['load_before']}/{r['load_after']} |")  # fmt: skip
    if len({tuple(r["nodes"]) for r in rows}) > 1:
        print("note: the configurations recorded different trees (time limits under load?)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
