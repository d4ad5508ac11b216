"""Executors: every task in its own worker, crashes and timeouts as results, Ctrl-C.

The Ray executor's tests are in ``test_batch.py``, which starts one local Ray for all of them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from orlearn.errors import OrlearnError
from orlearn.solver.executors import TaskError, run_tasks

# Module-level task functions: forked children run them.


def square(x: int) -> int:
    return x * x


def misbehave(kind: str) -> str:
    if kind == "exit":
        os._exit(3)
    if kind == "segfault":
        os.kill(os.getpid(), signal.SIGSEGV)
    if kind == "raise":
        raise ValueError("bad task")
    if kind == "sleep":
        time.sleep(60)
    return kind


def test_run_tasks_returns_every_result():
    out = dict(run_tasks(square, range(7), jobs=2))
    assert out == {k: k * k for k in range(7)}


def test_a_crash_never_takes_the_batch_down():
    tasks = ["ok1", "exit", "segfault", "raise", "ok2"]
    out = dict(run_tasks(misbehave, tasks, jobs=2))
    assert out["ok1"] == "ok1" and out["ok2"] == "ok2"
    assert isinstance(out["exit"], TaskError) and out["exit"].kind == "crash"
    assert "exited with code 3" in out["exit"].message
    assert isinstance(out["segfault"], TaskError) and "SIGSEGV" in out["segfault"].message
    assert isinstance(out["raise"], TaskError) and out["raise"].kind == "exception"
    assert "ValueError: bad task" in out["raise"].message


def test_timeout_kills_the_worker():
    start = time.monotonic()
    out = dict(run_tasks(misbehave, ["sleep", "ok"], jobs=2, timeout=0.5))
    assert time.monotonic() - start < 10
    assert out["ok"] == "ok"
    assert isinstance(out["sleep"], TaskError) and out["sleep"].kind == "timeout"
    assert "timed out after 0.5 s" in out["sleep"].message


def test_run_tasks_rejects_bad_arguments():
    with pytest.raises(OrlearnError, match="jobs"):
        list(run_tasks(square, [1], jobs=0))
    with pytest.raises(OrlearnError, match="unknown executor"):
        list(run_tasks(square, [1], executor="slurm"))  # type: ignore[arg-type]


# Ctrl-C while a worker forks: the at-fork hook below stands in for the terminal's SIGINT landing
# during logging's own at-fork hook, where Python prints a KeyboardInterrupt and ignores it.
INTERRUPTED_DURING_FORK = textwrap.dedent("""
    import os, signal, sys
    from orlearn.solver.executors import run_tasks
    os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGINT))
    try:
        done = list(run_tasks(abs, range(20), jobs=2))
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)
""")


def test_ctrl_c_is_never_lost_while_a_worker_forks():
    proc = subprocess.run(
        [sys.executable, "-c", INTERRUPTED_DURING_FORK], capture_output=True, text=True,
        timeout=60,
        # Python ignores Ctrl-C for good when it starts with SIGINT ignored (a background job).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.returncode == 130, proc.stderr


# pytest (like PYTHONFAULTHANDLER=1) enables faulthandler, which forked workers inherit: a worker
# that crashes must not dump a Python stack onto the terminal; its crash is in the result.
SEGFAULT_WITH_FAULTHANDLER = textwrap.dedent("""
    import faulthandler, os, signal
    from orlearn.solver.executors import TaskError, run_tasks
    faulthandler.enable()
    def crash(task):
        os.kill(os.getpid(), signal.SIGSEGV)
    (result,) = [r for _, r in run_tasks(crash, [0])]
    assert isinstance(result, TaskError) and "SIGSEGV" in result.message
""")


def test_a_crashing_worker_prints_no_dump():
    proc = subprocess.run([sys.executable, "-c", SEGFAULT_WITH_FAULTHANDLER], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "Fatal Python error" not in proc.stderr and proc.stderr == ""
