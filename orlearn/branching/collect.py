"""Imitation data collection (Gasse et al. 2019): solve instances, query the expert sometimes.

At every branching node the expert (strong branching) is queried with probability
``expert_prob``: the node's observation, candidates and scores are recorded and SCIP branches on
the expert's choice; otherwise pseudo-cost branching decides, so that the visited states are
diverse rather than those of strong branching alone. Gasse et al. use ``expert_prob = 0.05``
(the default here). One episode (one instance) writes one shard; episodes run in worker processes
through :func:`orlearn.solver.executors.run_tasks` (local processes or Ray), and a rerun skips the
instances whose shard exists, so collection resumes after a kill.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from orlearn.branching.dataset import SHARD_SUFFIX, ShardWriter
from orlearn.branching.rules.sampling import SamplingBranchrule
from orlearn.errors import OrlearnError

log = logging.getLogger(__name__)

DEFAULT_EXPERT_PROB = 0.05



@dataclass(frozen=True)
class Episode:
    """One collection episode: solve ``instance`` and write its shard to ``shard``."""

    instance: str
    distribution: str
    shard: str
    expert_prob: float = DEFAULT_EXPERT_PROB
    node_limit: int | None = None
    time_limit: float | None = None
    seed: int = 0
    params: dict[str, Any] = field(default_factory=dict)  # SCIP parameters on top of "gasse"


def run_episode(episode: Episode) -> dict[str, Any]:
    """Solve one instance with the sampling rule and write its shard; returns statistics."""
    from orlearn.milp.io import read_model
    from orlearn.solver.settings import SETTINGS

    t0 = time.perf_counter()
    model = read_model(episode.instance)
    model.hideOutput()
    # The literature's settings (cuts at the root only, no restarts), as in the benchmarks.
    for name, value in {**SETTINGS["gasse"], **episode.params}.items():
        model.setParam(name, value)
    model.setParam("randomization/randomseedshift", episode.seed)
    # Pseudo costs decide where the expert is not asked (Gasse's exploration policy).
    model.setParam("branching/pscost/priority", 900_000)
    if episode.node_limit is not None:
        model.setParam("limits/nodes", episode.node_limit)
    if episode.time_limit is not None:
        model.setParam("limits/time", episode.time_limit)
    writer = ShardWriter(instance=episode.instance, distribution=episode.distribution)
    rule = SamplingBranchrule(writer, episode.expert_prob, episode.seed)
    model.includeBranchrule(rule, "orlearn-sampler", "expert sampling", 1_000_000, -1, 1.0)
    model.optimize()
    stats = {
        "samples": len(writer.samples),
        "nodes": int(model.getNNodes()),
        "status": model.getStatus(),
        "expert_calls": rule.expert_calls,
        "expert_seconds": round(rule.expert_seconds, 3),
        "expert_failures": rule.failures,
        "wall_seconds": round(time.perf_counter() - t0, 3),
    }
    writer.save(episode.shard, {**asdict(episode), **stats})
    return stats


def plan_episodes(
    specs: Sequence[str],
    n: int | None,
    out_dir: str | Path,
    *,
    split: str = "train",
    expert_prob: float = DEFAULT_EXPERT_PROB,
    node_limit: int | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    params: dict[str, Any] | None = None,
    cache_dir: str | Path | None = None,
) -> list[Episode]:
    """One episode per instance of every spec (registry name, file, directory or manifest).

    Shards go to ``out_dir/<spec label>/<instance>.shard.pt``; the label of a registry name is
    the name with "/" replaced by "_". ``params``: SCIP parameters applied on top of the "gasse"
    settings. Registry instances come from ``split`` (default train), generated into
    ``cache_dir`` (default ``./data/instances``) when missing.
    """
    from orlearn.milp.io import resolve_instances

    if not 0.0 < expert_prob <= 1.0:
        raise OrlearnError(f"expert probability must be in (0, 1], got {expert_prob}")
    if node_limit is not None and node_limit < 1:
        raise OrlearnError(f"node limit must be positive, got {node_limit}")
    if time_limit is not None and time_limit <= 0:
        raise OrlearnError(f"time limit must be positive, got {time_limit}")
    out_dir = Path(out_dir)
    episodes = []
    for spec in specs:
        paths = resolve_instances([spec], n=n, split=split, cache_dir=cache_dir)
        # A registry name keeps its name (with "_"), a path its file or directory name.
        label = spec.replace("/", "_") if not Path(spec).exists() else Path(spec).name.split(".")[0]
        for i, path in enumerate(paths):
            stem = Path(path).name.split(".")[0]
            episodes.append(
                Episode(
                    instance=str(path),
                    distribution=spec,
                    shard=str(out_dir / label / f"{stem}{SHARD_SUFFIX}"),
                    expert_prob=expert_prob,
                    node_limit=node_limit,
                    time_limit=time_limit,
                    seed=seed * 100_003 + i,
                    params=dict(params or {}),
                )
            )
    return episodes


def collect(
    episodes: Sequence[Episode],
    *,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    timeout: float | None = None,
) -> Iterator[tuple[Episode, dict[str, Any] | None, str | None]]:
    """Run the episodes whose shard does not exist yet; yields (episode, stats, error)."""
    from orlearn.solver.executors import TaskError, run_tasks

    todo = [e for e in episodes if not Path(e.shard).is_file()]
    # Forked local workers inherit these modules instead of importing torch (seconds) each.
    preload = ("torch", "pyscipopt", "orlearn.branching.observation", "orlearn.branching.expert")
    for episode, result in run_tasks(
        run_episode, todo, jobs=jobs, executor=executor, address=address, timeout=timeout,
        preload=preload,
    ):  # fmt: skip
        if isinstance(result, TaskError):
            yield episode, None, str(result)
        else:
            yield episode, result, None
