"""Expert labels: near-optimal solutions from classical solvers, cached on disk, made in parallel.

One JSON file per labelled instance under ``cache_dir/<problem>/``, keyed by a hash of the
instance data, the solver time budget and the seed, so interrupted runs resume where they stopped
and a larger data set reuses the labels of a smaller one (generators are prefix-stable: the first
k instances of ``generate(n, K, seed)`` do not depend on K).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import multiprocessing as mp
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from orlearn.construct.problems import get_problem
from orlearn.construct.problems.experts import expert_clock
from orlearn.progress import progress_bar

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path("runs/construct/labels")


def instance_key(
    problem: str, instance: Any, time_limit: float, seed: int, clock: str = "wall"
) -> str:
    """A stable hash of the instance's numeric data and the expert settings."""
    version = get_problem(problem).expert_version
    # Wall-clock keys stay as they were before CPU-clock labels existed (caches remain valid).
    suffix = ("" if clock == "wall" else f"|{clock}") + (f"|{version}" if version else "")
    h = hashlib.sha1(f"{problem}|{time_limit:.6g}|{seed}{suffix}".encode())
    for f in dataclasses.fields(instance):
        value = getattr(instance, f.name)
        if isinstance(value, np.ndarray):
            h.update(f.name.encode())
            h.update(np.ascontiguousarray(value, dtype=np.float64).tobytes())
        elif f.name not in ("name", "optimum"):
            h.update(f"{f.name}={value!r}".encode())
    return h.hexdigest()[:20]


def _solve(job: tuple[str, Any, float, int, str]) -> Any:
    problem, instance, time_limit, seed, clock = job
    with expert_clock(clock):
        return get_problem(problem).expert(instance, time_limit, seed)


def label_instances(
    problem: str,
    instances: Sequence[Any],
    *,
    time_limit: float,
    seed: int = 0,
    cache_dir: str | Path = DEFAULT_CACHE,
    workers: int = 1,
    show_progress: bool = True,
    clock: str = "wall",
) -> list[Any]:
    """Expert solutions for ``instances`` (cached; missing ones solved with ``workers`` processes,
    each with a budget of ``time_limit`` seconds per instance, on the wall clock or on the
    process's CPU clock, ``clock="cpu"``, which a busy machine does not shorten)."""
    folder = Path(cache_dir) / problem
    folder.mkdir(parents=True, exist_ok=True)
    keys = [instance_key(problem, inst, time_limit, seed, clock) for inst in instances]
    solutions: list[Any] = [None] * len(instances)
    todo = []
    for i, key in enumerate(keys):
        path = folder / f"{key}.json"
        if path.is_file():
            solutions[i] = json.loads(path.read_text())["solution"]
        else:
            todo.append(i)
    log.info("%s labels: %d cached, %d to solve", problem, len(instances) - len(todo), len(todo))
    if not todo:
        return solutions
    jobs = [(problem, instances[i], time_limit, seed, clock) for i in todo]
    with progress_bar(f"{problem} labels", len(todo), disable=not show_progress) as advance:
        if workers <= 1:
            results = map(_solve, jobs)
            pool = None
        else:
            pool = mp.get_context("spawn").Pool(workers)
            results = pool.imap(_solve, jobs)
        try:
            for i, sol in zip(todo, results):
                solutions[i] = sol
                path = folder / f"{keys[i]}.json"
                tmp = path.with_suffix(".tmp")
                tmp.write_text(json.dumps({"solution": sol, "time_limit": time_limit, "clock": clock}))
                tmp.replace(path)
                advance()
        finally:
            if pool is not None:
                pool.terminate()
    return solutions
