"""Many solves: instances x rules x seeds through the executors, a JSONL result file, resume.

:func:`solve_batch` solves every instance under every rule (and seed) with
:func:`orlearn.solver.scip.solve`, each solve in a worker process of its own
(:func:`orlearn.solver.executors.run_tasks`), appends every finished
:class:`~orlearn.solver.result.SolveResult` to a JSONL file (flushed and synced at once), and on
a rerun skips the solves the file already holds.

Rules that are not SCIP's go to the caller's ``resolve`` (see :mod:`orlearn.solver.rules`). It
runs once per rule in the parent before the first solve: a bad spec fails early, and what it
loads (torch, a policy) is inherited by the forked local workers instead of loaded in each.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from orlearn.errors import OrlearnError
from orlearn.solver.executors import (
    EXECUTORS,
    Executor,
    TaskError,
    _probe_ray_address,
    run_tasks,
)
from orlearn.solver.result import ResultKey, SolveResult, result_key
from orlearn.solver.rules import Resolver, validate_rule
from orlearn.solver.settings import parse_params, validate_settings, validate_time_limit

log = logging.getLogger(__name__)

# The solver's own modules: forked local workers start with them loaded.
_PRELOAD = ("pyscipopt", "orlearn.solver.scip", "orlearn.milp.io")


@dataclass(frozen=True)
class SolveTask:
    """One solve of a batch (the unit a worker runs); ``resolve`` pickles by its module name."""

    instance: str
    rule: str
    settings: str = "default"
    params: tuple[tuple[str, Any], ...] = ()
    seed: int = 0
    time_limit: float | None = None
    threads: int = 1
    resolve: Resolver | None = None

    def key(self) -> ResultKey:
        return result_key(
            self.instance, self.rule, self.settings, dict(self.params), self.seed, self.time_limit
        )

    def error_result(self, message: str, wall_time: float = 0.0, *, bad_input: bool = False) -> SolveResult:
        return SolveResult(
            instance=self.instance,
            rule=self.rule,
            settings=self.settings,
            params=dict(self.params),
            seed=self.seed,
            time_limit=self.time_limit,
            status="error",
            wall_time=wall_time,
            message=message,
            bad_input=bad_input,
        )


def solve_task(task: SolveTask) -> SolveResult:
    """Run one solve in a worker: bad input becomes an error result, SCIP's chatter is muted."""
    from orlearn.solver.scip import solve

    # SCIP's reader prints its complaints to stdout; the parent's progress bar owns the terminal.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
    start = time.perf_counter()
    try:
        return solve(
            task.instance, task.rule, task.settings, dict(task.params), task.time_limit,
            task.seed, task.threads, resolve=task.resolve, catch_ctrlc=False,
        )  # fmt: skip
    except OrlearnError as exc:  # the instance file or the policy: the user's to fix
        return task.error_result(str(exc), time.perf_counter() - start, bad_input=True)


def read_results(path: str | Path) -> list[SolveResult]:
    """All valid results in a JSONL file, in file order; bad lines are logged and skipped."""
    path = Path(path)
    if not path.exists():
        return []
    results = []
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if not raw.strip():
                continue
            try:
                results.append(SolveResult.from_dict(json.loads(raw)))
            except (ValueError, TypeError) as exc:
                log.warning("%s:%d: skipped an unreadable line (%s)", path, number, exc)
    return results


def _drop_partial_last_line(path: Path) -> None:
    """Cut a last line that a hard kill left without its newline (never touches whole lines)."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return
        # Walk back to the previous newline; everything after it is the broken fragment.
        pos = size
        block = 4096
        while pos > 0:
            step = min(block, pos)
            pos -= step
            fh.seek(pos)
            chunk = fh.read(step)
            index = chunk.rfind(b"\n")
            if index >= 0:
                pos += index + 1
                break
        log.warning("%s: dropped a truncated last line (%d bytes)", path, size - pos)
        fh.truncate(pos)


def _interleave(
    instances: Sequence[str], rules: Sequence[str], seeds: Sequence[int]
) -> Iterator[tuple[str, str, int]]:
    # Rules alternate for each instance, so a partial run compares rules on the same instances
    # and machine-load drift hits every rule alike.
    for instance in instances:
        for seed in seeds:
            for rule in rules:
                yield instance, rule, seed


def _validate(
    instances: Sequence[Any], rules: Sequence[str], resolve: Resolver | None, settings: str,
    params: Any, time_limit: float | None, executor: str, jobs: int, address: str | None,
) -> tuple[tuple[str, Any], ...]:  # fmt: skip
    """Everything a batch needs, checked before the result file is touched; the typed params."""
    if not instances:
        raise OrlearnError("no instances to solve")
    if not rules:
        raise OrlearnError("no branching rule given")
    if len(set(rules)) != len(rules):
        raise OrlearnError(f"a branching rule is given twice: {', '.join(rules)}")
    for rule in rules:
        validate_rule(rule, resolve)
    validate_settings(settings)
    validate_time_limit(time_limit)
    typed = tuple(sorted(parse_params(params).items()))
    if executor not in EXECUTORS:
        raise OrlearnError(f"unknown executor '{executor}'; valid: {', '.join(EXECUTORS)}")
    if jobs < 1:
        raise OrlearnError(f"--jobs must be at least 1, got {jobs}")
    if executor == "ray" and address is not None:
        _probe_ray_address(address)
    return typed


def _reuse(
    out_path: Path | None, tasks: list[SolveTask], resume: bool, retry_errors: bool
) -> dict[ResultKey, SolveResult]:
    """The results ``out_path`` already holds for ``tasks`` (errors left out when retried)."""
    done: dict[ResultKey, SolveResult] = {}
    if out_path is None:
        return done
    out_path.parent.mkdir(parents=True, exist_ok=True)
    _drop_partial_last_line(out_path)
    if resume:
        wanted = {task.key() for task in tasks}
        for result in read_results(out_path):
            key = result.key()
            if key in wanted and not (retry_errors and result.status == "error"):
                done[key] = result
    if done:
        log.info("resuming: %d of %d solves already in %s", len(done), len(tasks), out_path)
    return done


def _append(fh: IO[str] | None, result: SolveResult) -> None:
    """One JSON line, on disk before the next solve finishes (a kill loses nothing done)."""
    if fh is not None:
        fh.write(json.dumps(result.to_dict()) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


def _run(
    todo: list[SolveTask], total: int, done: dict[ResultKey, SolveResult], fh: IO[str] | None,
    run: dict[str, Any], progress: bool, on_result: Callable[[SolveResult], None] | None,
) -> None:  # fmt: skip
    """Run ``todo`` (``run``: run_tasks' keywords), recording each result as it comes in."""
    from orlearn.progress import progress_bar

    errors = 0
    with progress_bar("solving", total, disable=not progress) as advance:
        if done:
            advance(len(done), status=f"{len(done)} reused")
        for task, outcome in run_tasks(solve_task, todo, preload=_PRELOAD, **run):
            if isinstance(outcome, TaskError):
                result = task.error_result(outcome.message, outcome.elapsed)
            else:
                result = outcome
            done[task.key()] = result
            _append(fh, result)
            errors += result.status == "error"
            if on_result is not None:
                on_result(result)
            rule = Path(task.rule).name if task.rule.endswith(".pt") else task.rule
            status = f"{Path(task.instance).name} {rule}: {result.status}"
            advance(1, status=status + (f" ({errors} errors)" if errors else ""))


def solve_batch(
    instances: Sequence[str | Path],
    rules: Sequence[str] = ("relpscost",),
    *,
    resolve: Resolver | None = None,
    settings: str = "default",
    params: dict[str, Any] | list[str] | None = None,
    seeds: Sequence[int] = (0,),
    time_limit: float | None = None,
    jobs: int = 1,
    executor: Executor = "local",
    address: str | None = None,
    output: str | Path | None = None,
    resume: bool = True,
    retry_errors: bool = False,
    timeout_margin: float = 30.0,
    threads: int = 1,
    progress: bool = True,
    on_result: Callable[[SolveResult], None] | None = None,
) -> list[SolveResult]:
    """Solve every instance under every rule (and seed); return one result per solve.

    ``resolve``: turns the rules that are not SCIP's into rules (see :mod:`orlearn.solver.rules`;
    a module-level function, sent to the workers by name). Everything is validated before the
    first solve (rules, settings, params, time limit, executor). Results are appended to
    ``output`` (JSONL, one :class:`SolveResult` per line) as they finish; with ``resume`` the
    solves already in the file are not repeated (errors are retried when ``retry_errors``).
    Each worker is killed after ``time_limit + timeout_margin`` seconds. Returns the results in
    task order (instance, seed, rule), the reused ones included.
    """
    typed = _validate(instances, rules, resolve, settings, params, time_limit, executor, jobs, address)
    tasks = [
        SolveTask(inst, rule, settings, typed, int(seed), time_limit, threads, resolve)
        for inst, rule, seed in _interleave(
            list(dict.fromkeys(str(i) for i in instances)), rules, list(dict.fromkeys(seeds))
        )
    ]
    out_path = Path(output) if output is not None else None
    done = _reuse(out_path, tasks, resume, retry_errors)
    todo = [task for task in tasks if task.key() not in done]
    run = {
        "jobs": jobs, "executor": executor, "address": address,
        "timeout": None if time_limit is None else time_limit + timeout_margin,
    }  # fmt: skip
    fh = out_path.open("a", encoding="utf-8") if out_path is not None else None
    try:
        _run(todo, len(tasks), done, fh, run, progress, on_result)
    finally:
        if fh is not None:
            fh.close()
    return [done[task.key()] for task in tasks if task.key() in done]
