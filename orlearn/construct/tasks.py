"""The constructive-solver jobs the ``orlearn construct`` verbs run, as library functions: solve
a set with optimality gaps, an optional timed 2-opt and JSON-lines output; generate (and label)
a set; check training options.

The command line only parses options into these calls and prints what they return.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from orlearn.errors import OrlearnError

#: Expert labels live in one cache shared by ``generate`` with labels and ``train`` (keyed by a
#: hash of the instance and the expert's settings), so labels made once are reused by every run.
LABEL_CACHE = "runs/construct/labels"


def gap_percent(value: float, optimum: float | None, sense: str) -> float | None:
    """How much worse ``value`` is than ``optimum``, in percent of it (positive: worse, for
    minimisation and maximisation alike); None without a (nonzero) known optimum."""
    if not optimum:
        return None
    sign = 1.0 if sense == "min" else -1.0
    return sign * (value - optimum) / abs(optimum) * 100


@dataclass
class Improved:
    """A 2-opt improvement of a decoded solution: the solution, its objective and the 2-opt
    wall time (s)."""

    solution: Any
    objective: float
    seconds: float


def improve_timed(problem: Any, instance: Any, solution: Any) -> Improved:
    """Improve ``solution`` by 2-opt (TSP tours, CVRP routes; others unchanged), timed."""
    from orlearn.construct.decode import improve

    start = time.perf_counter()
    better = improve(problem, instance, solution)
    seconds = time.perf_counter() - start
    return Improved(better, problem.objective(instance, better), seconds)


@dataclass
class Solved:
    """One solved instance: index in the set, name, the decoded result, its gap in percent
    (None: no known optimum), and the 2-opt improvement when asked for."""

    index: int
    name: str
    objective: float
    gap: float | None
    seconds: float
    record: dict[str, Any]
    two_opt: Improved | None = None
    two_opt_gap: float | None = None


class SolutionWriter:
    """Writes one JSON line per solved instance to ``path`` (None: writes nothing). The file is
    opened with the first solution, so a run that fails before leaves no file; each line is
    flushed, so an interrupted run keeps what it wrote (:attr:`written` lines)."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.written = 0
        self._fh: IO[str] | None = None

    def write(self, record: dict[str, Any]) -> None:
        if self.path is None:
            return
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w")
        self._fh.write(json.dumps(record, default=int) + "\n")
        self._fh.flush()
        self.written += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def solve_set(
    problem_name: str,
    instances: Sequence[Any],
    *,
    two_opt: bool = False,
    writer: SolutionWriter | None = None,
    on_solved: Callable[[Solved], None] | None = None,
    **solve_options: Any,
) -> list[Solved]:
    """Solve ``instances`` with :func:`orlearn.construct.solve` (``solve_options``: policy,
    beam, knn, batch_size, threads) and return them in order with gaps, the timed 2-opt
    improvement when ``two_opt``, each also written by ``writer`` and passed to ``on_solved``
    as it is done."""
    import orlearn.construct as construct
    from orlearn.construct.problems import get_problem

    problem = get_problem(problem_name)
    solved: dict[int, Solved] = {}

    def on_result(k: int, result: Any) -> None:
        inst = instances[k]
        optimum = getattr(inst, "optimum", None)
        record = {"instance": inst.name or k, "problem": problem_name,
                  "objective": result.objective, "optimum": optimum, "seconds": result.seconds,
                  "solution": result.solution}  # fmt: skip
        item = Solved(k, inst.name or str(k), result.objective,
                      gap_percent(result.objective, optimum, problem.sense), result.seconds, record)  # fmt: skip
        if two_opt:
            item.two_opt = improve_timed(problem, inst, result.solution)
            item.two_opt_gap = gap_percent(item.two_opt.objective, optimum, problem.sense)
            record["two_opt"] = {"objective": item.two_opt.objective,
                                 "seconds": item.two_opt.seconds, "solution": item.two_opt.solution}  # fmt: skip
        solved[k] = item
        if writer is not None:
            writer.write(record)
        if on_solved is not None:
            on_solved(item)

    construct.solve(problem_name, instances, on_result=on_result, **solve_options)
    return [solved[k] for k in sorted(solved)]


def check_train_options(
    n: int, batch_size: int, epochs: int, knn: int | None, sizes: Sequence[int | None]
) -> None:
    """Raise :class:`OrlearnError` on an instance size below 3, a batch size or epoch count
    below 1, a k below 1, or a model size below 1 (None: the architecture's default)."""
    if n < 3 or batch_size < 1 or epochs < 1:
        raise OrlearnError("--n must be >= 3, --batch-size and --epochs >= 1")
    if knn is not None and knn < 1:
        raise OrlearnError("--knn must be at least 1")
    if any(v is not None and v < 1 for v in sizes):
        raise OrlearnError("model sizes must be at least 1")


@dataclass
class GeneratedSet:
    """A written instance set: its file, how many instances, and where their expert labels
    were cached (None: not labelled)."""

    path: Path
    count: int
    label_cache: Path | None = None


def generate_set(
    problem_name: str,
    n: int,
    count: int,
    out: str | Path,
    *,
    seed: int = 0,
    distribution: str = "uniform",
    label_time: float | None = None,
    workers: int = 1,
    cache_dir: str | Path = LABEL_CACHE,
) -> GeneratedSet:
    """Sample ``count`` seeded instances of size ``n``, save them as an .npz set, and label them
    with the expert (``label_time`` seconds each, ``workers`` processes) when asked."""
    from orlearn.construct.io import save_set
    from orlearn.construct.labels import label_instances
    from orlearn.construct.problems import get_problem

    if count < 1:
        raise OrlearnError("--count must be at least 1")
    problem = get_problem(problem_name)
    instances = problem.sample(n, count, seed, distribution)
    path = save_set(out, problem, instances)
    cache = None
    if label_time is not None:
        cache = Path(cache_dir).resolve()
        label_instances(problem_name, instances, time_limit=label_time, cache_dir=cache,
                        workers=workers)  # fmt: skip
        cache = cache / problem_name
    return GeneratedSet(path, len(instances), cache)
