"""Executors: run ``fn(task)`` for many tasks, each in a worker process of its own.

:func:`run_tasks` runs the tasks on this machine (a forked child per task) or on Ray (a fresh
Ray worker per task, or ``tasks_per_worker`` tasks per worker), ``jobs`` at a time, and yields
``(task, result)`` pairs as they finish. A worker that raises, crashes (segfault, ``os._exit``)
or runs past ``timeout`` seconds yields a :class:`TaskError` instead; the run goes on. Solve
batches, data collection and RL episode rounds all use it.

Why a process per task: pyscipopt accumulates native memory over many solves in one process,
and a crash inside SCIP or a plugin must not take the run down.
"""

from __future__ import annotations

import faulthandler
import importlib
import logging
import multiprocessing as mp
import signal
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any, Literal

from orlearn.errors import OrlearnError

log = logging.getLogger(__name__)

Executor = Literal["local", "ray"]
EXECUTORS = ("local", "ray")


@dataclass(frozen=True)
class TaskError:
    """A task that did not return: it raised, its worker crashed, or it ran out of time."""

    message: str
    kind: Literal["exception", "crash", "timeout"] = "exception"
    elapsed: float = 0.0  # seconds from start to failure, as seen by the parent


def run_tasks(
    fn: Callable[[Any], Any],
    tasks: Iterable[Any],
    *,
    jobs: int = 1,
    executor: Executor = "local",
    address: str | None = None,
    timeout: float | None = None,
    preload: Sequence[str] = (),
    tasks_per_worker: int = 1,
) -> Iterator[tuple[Any, Any]]:
    """Run ``fn(task)`` for every task in its own worker process; yield ``(task, result)``.

    ``fn`` must be a module-level function and its results picklable. ``jobs``: workers at a time.
    ``timeout``: seconds after which a worker is killed (None: never). A failed task yields a
    :class:`TaskError`. ``preload``: modules the parent imports first so that forked workers
    start with them loaded (local executor). ``executor="ray"`` runs on the Ray cluster at
    ``address`` (a local one when None); ``tasks_per_worker`` tasks share one Ray worker
    process before it is replaced (1: a fresh process per task; more saves the start-up, the
    imports of torch and SCIP, at the price of native memory piling up over the tasks).
    Results come in the order they finish.
    """
    if jobs < 1:
        raise OrlearnError(f"jobs must be at least 1, got {jobs}")
    if timeout is not None and timeout <= 0:
        raise OrlearnError(f"timeout must be positive, got {timeout}")
    if tasks_per_worker < 1:
        raise OrlearnError(f"tasks per worker must be at least 1, got {tasks_per_worker}")
    if executor == "local":
        for name in preload:
            importlib.import_module(name)
        yield from _run_local(fn, list(tasks), jobs, timeout)
    elif executor == "ray":
        yield from _run_ray(fn, list(tasks), jobs, address, timeout, tasks_per_worker)
    else:
        raise OrlearnError(f"unknown executor '{executor}'; valid: {', '.join(EXECUTORS)}")


def _child(fn: Callable[[Any], Any], task: Any, conn: Any) -> None:
    # The parent handles Ctrl-C (and kills its workers); a child must not die half-way through
    # sending its result because the terminal's SIGINT reached the whole process group.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # blocked by _start_blocking_ctrl_c
    # A crash is reported as this task's error result; a faulthandler inherited from the parent
    # (pytest, PYTHONFAULTHANDLER) would also dump a stack trace over the parent's terminal.
    faulthandler.disable()
    try:
        payload: tuple[str, Any] = ("ok", fn(task))
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent as text
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" (at {Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
        payload = ("error", f"{type(exc).__name__}: {exc}{where}")
    try:
        conn.send(payload)
    except Exception as exc:  # noqa: BLE001 - e.g. an unpicklable result
        conn.send(("error", f"result could not be sent back: {type(exc).__name__}: {exc}"))
    conn.close()


def _exit_message(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"worker killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"worker killed by signal {-code}"
    return f"worker exited with code {code} before returning a result"


def _start_blocking_ctrl_c(process: Any) -> None:
    """Fork with SIGINT held back, so that a Ctrl-C during the fork is not lost.

    Python runs at-fork hooks (logging registers some) in which a KeyboardInterrupt is printed
    and ignored: the parent would then keep waiting on its workers as if nothing happened. With
    the signal blocked, it stays pending and is raised in the loop once the fork is done.
    """
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        process.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@dataclass
class _Running:
    task: Any
    process: Any
    conn: Any
    start: float
    payload: tuple[str, Any] | None = field(default=None)


_RUNNING = object()  # a worker that has neither answered nor died nor timed out


def _outcome(run: _Running, ready: set, now: float, timeout: float | None) -> Any:
    """The result of ``run`` (a value or a TaskError) once it is over, else ``_RUNNING``."""
    if run.payload is None and run.conn in ready:
        try:
            run.payload = run.conn.recv()
        except (EOFError, OSError):
            run.payload = ("crash", None)
    if run.payload is not None and run.payload[0] != "crash":
        # The result is in; the process exits on its own right after sending.
        run.process.join(timeout=5)
        if run.process.is_alive():
            run.process.kill()
        status, value = run.payload
        return value if status == "ok" else TaskError(value, "exception", now - run.start)
    if run.process.sentinel in ready and not run.process.is_alive():
        run.process.join()
        return TaskError(_exit_message(run.process.exitcode), "crash", now - run.start)
    if timeout is not None and now - run.start >= timeout:
        run.process.kill()
        run.process.join()
        message = f"worker timed out after {timeout:g} s and was killed"
        return TaskError(message, "timeout", now - run.start)
    return _RUNNING


def _run_local(
    fn: Callable[[Any], Any], tasks: list[Any], jobs: int, timeout: float | None
) -> Iterator[tuple[Any, Any]]:
    ctx = mp.get_context("fork")
    pending = list(reversed(tasks))
    running: list[_Running] = []
    try:
        while pending or running:
            while pending and len(running) < jobs:
                task = pending.pop()
                receiver, sender = ctx.Pipe(duplex=False)
                process = ctx.Process(target=_child, args=(fn, task, sender), daemon=True)
                _start_blocking_ctrl_c(process)
                sender.close()  # the child holds the only writer: EOF when it dies
                running.append(_Running(task, process, receiver, time.monotonic()))
            now = time.monotonic()
            wait_for = None
            if timeout is not None:
                wait_for = max(0.0, min(r.start + timeout for r in running) - now)
            handles = [r.conn for r in running if r.payload is None]
            handles += [r.process.sentinel for r in running]
            ready = set(wait(handles, timeout=wait_for))
            now = time.monotonic()
            outcomes = [(run, _outcome(run, ready, now, timeout)) for run in running]
            for run, result in outcomes:
                if result is _RUNNING:
                    continue
                running.remove(run)
                run.conn.close()
                yield run.task, result
    finally:
        for run in running:  # interrupted (Ctrl-C, or the consumer stopped early)
            if run.process.is_alive():
                run.process.kill()
            run.process.join()
            run.conn.close()


def _ray_call(fn: Callable[[Any], Any], task: Any) -> Any:
    return fn(task)


#: Seconds to wait for a TCP connection to a Ray head before giving up.
RAY_CONNECT_TIMEOUT = 5.0


def _probe_ray_address(address: str, timeout: float = RAY_CONNECT_TIMEOUT) -> None:
    """Fail fast on a Ray address nothing listens at: ``ray.init`` would retry for minutes,
    printing warnings. ``auto`` and ``local`` are Ray's own look-ups and are not probed."""
    target = address.split("://", 1)[-1]
    if target in ("auto", "local", ""):
        return
    host, sep, port_text = target.rpartition(":")
    if not sep or not port_text.isdigit():
        raise OrlearnError(f"Ray address '{address}' is not HOST:PORT (or auto)")
    try:
        with socket.create_connection((host.strip("[]"), int(port_text)), timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OrlearnError(
            f"cannot reach the Ray cluster at {address} ({reason} within {timeout:g} s); "
            "start it with `ray start --head` or check --address"
        ) from None


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise OrlearnError("the ray executor needs Ray: pip install 'orlearn[ray]'") from exc
    return ray


@contextmanager
def ray_session(jobs: int, address: str | None = None) -> Iterator[None]:
    """Connect to Ray for the duration of the block: a local Ray with ``jobs`` CPUs, or the
    cluster at ``address``. Already connected: nothing happens. Callers that run many short
    :func:`run_tasks` calls (training rounds) hold one session, so that Ray starts once."""
    ray = _import_ray()
    if ray.is_initialized():
        yield
        return
    if address is not None:
        _probe_ray_address(address)
    try:
        if address is None:
            ray.init(
                num_cpus=jobs, include_dashboard=False, log_to_driver=False,
                logging_level=logging.WARNING,
            )
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or "a local Ray"
        raise OrlearnError(f"cannot start or reach {where}: {exc}") from exc
    try:
        yield
    finally:
        ray.shutdown()


def _run_ray(
    fn: Callable[[Any], Any],
    tasks: list[Any],
    jobs: int,
    address: str | None,
    timeout: float | None,
    tasks_per_worker: int = 1,
) -> Iterator[tuple[Any, Any]]:
    with ray_session(jobs, address):
        yield from _run_ray_connected(fn, tasks, jobs, timeout, tasks_per_worker)


def _run_ray_connected(
    fn: Callable[[Any], Any], tasks: list[Any], jobs: int, timeout: float | None, tasks_per_worker: int
) -> Iterator[tuple[Any, Any]]:
    ray = _import_ray()
    from ray.exceptions import GetTimeoutError, RayError, RayTaskError

    # max_calls=1 (the default): every task gets a fresh worker process (native memory never
    # piles up); a timed-out task's worker is killed whatever the setting.
    remote = ray.remote(max_calls=tasks_per_worker, num_cpus=1, max_retries=0)(_ray_call)
    fn_ref = ray.put(fn)
    pending = list(reversed(tasks))
    running: dict[Any, tuple[Any, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                task = pending.pop()
                running[remote.remote(fn_ref, task)] = (task, time.monotonic())
            wait_for = None
            if timeout is not None:
                earliest = min(start for _, start in running.values())
                wait_for = max(0.05, earliest + timeout - time.monotonic())
            done, _ = ray.wait(list(running), num_returns=1, timeout=wait_for)
            now = time.monotonic()
            for ref in done:
                task, start = running.pop(ref)
                try:
                    result = ray.get(ref, timeout=60)
                except RayTaskError as exc:
                    cause = exc.cause if exc.cause is not None else exc
                    result = TaskError(f"{type(cause).__name__}: {cause}", "exception", now - start)
                except (RayError, GetTimeoutError) as exc:
                    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
                    result = TaskError(f"{type(exc).__name__}: {first_line}", "crash", now - start)
                yield task, result
            if timeout is not None:
                for ref, (task, start) in list(running.items()):
                    if now - start >= timeout:
                        ray.cancel(ref, force=True)
                        del running[ref]
                        message = f"worker timed out after {timeout:g} s and was killed"
                        yield task, TaskError(message, "timeout", now - start)
    finally:
        for ref in running:
            ray.cancel(ref, force=True)
