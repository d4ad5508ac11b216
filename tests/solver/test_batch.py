"""Many solves: JSONL results, resume after a kill, errors as results; the Ray executor (one
local Ray for the module)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from orlearn.errors import OrlearnError
from orlearn.solver.batch import read_results, solve_batch
from orlearn.solver.executors import run_tasks
from orlearn.solver.result import SolveResult


@pytest.fixture
def easy(tmp_path, market_split) -> list[Path]:
    return [market_split(tmp_path / f"easy{k}.mps", 2, 12, k) for k in range(3)]


# Module-level task functions for the Ray executor's tests below (Ray workers import them).


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


# ---- solve_batch -----------------------------------------------------------------------------


def test_solve_batch_interleaves_rules_and_writes_every_result(easy, tmp_path):
    out = tmp_path / "results.jsonl"
    results = solve_batch(easy, ["relpscost", "pscost"], settings="gasse", output=out,
                          progress=False)
    assert [(Path(r.instance).name, r.rule) for r in results] == [
        (p.name, rule) for p in easy for rule in ("relpscost", "pscost")
    ]
    assert all(r.status == "optimal" for r in results)
    lines = out.read_text().splitlines()
    assert len(lines) == 6 and all(json.loads(line)["schema"] == 1 for line in lines)
    # jobs=1: the file is written in task order, rules alternating per instance
    assert [json.loads(line)["rule"] for line in lines] == ["relpscost", "pscost"] * 3


def test_resume_skips_finished_solves(easy, tmp_path):
    out = tmp_path / "results.jsonl"
    first = solve_batch(easy[:2], ["relpscost"], output=out, progress=False)
    seen = []
    second = solve_batch(easy, ["relpscost"], output=out, progress=False, on_result=seen.append)
    assert [Path(r.instance).name for r in seen] == [easy[2].name]  # only the new one ran
    assert second[:2] == first
    assert len(out.read_text().splitlines()) == 3
    # another time limit is another solve
    solve_batch(easy[:1], ["relpscost"], output=out, time_limit=30, progress=False,
                on_result=seen.append)
    assert len(seen) == 2


def test_a_truncated_last_line_is_dropped_on_resume(easy, tmp_path):
    out = tmp_path / "results.jsonl"
    solve_batch(easy[:2], ["relpscost"], output=out, progress=False)
    whole = out.read_text()
    with out.open("a") as fh:
        fh.write('{"instance": "' + str(easy[2]) + '", "rule": "rel')  # a hard kill mid-write
    results = solve_batch(easy, ["relpscost"], output=out, progress=False)
    assert len(results) == 3
    text = out.read_text()
    assert text.startswith(whole)  # earlier results untouched
    assert [json.loads(line)["instance"] for line in text.splitlines()] == [str(p) for p in easy]


def test_errors_are_results_and_can_be_retried(easy, tmp_path, market_split):
    bad = tmp_path / "corrupt.mps"
    bad.write_text("this is not MPS\n")
    out = tmp_path / "results.jsonl"
    results = solve_batch([bad, easy[0]], ["relpscost"], output=out, progress=False)
    assert [r.status for r in results] == ["error", "optimal"]
    assert str(bad) in results[0].message and "\n" not in results[0].message
    market_split(bad, 2, 12, 9)  # the user fixes the file
    seen = []
    solve_batch([bad, easy[0]], ["relpscost"], output=out, progress=False, on_result=seen.append)
    assert seen == []  # an error counts as done ...
    results = solve_batch([bad, easy[0]], ["relpscost"], output=out, retry_errors=True,
                          progress=False, on_result=seen.append)
    assert [r.status for r in seen] == ["optimal"]  # ... unless errors are retried
    assert [r.status for r in results] == ["optimal", "optimal"]
    assert [r.status for r in read_results(out)] == ["error", "optimal", "optimal"]


def test_bad_batch_input_fails_before_any_solve(easy, tmp_path, market_split):
    out = tmp_path / "results.jsonl"
    for kwargs, match in [
        ({"rules": ["nosuch"]}, "unknown branching rule"),
        ({"params": ["limits/nodes=x"]}, "takes a int"),
        ({"time_limit": 0}, "positive"),
        ({"settings": "fast"}, "unknown settings"),
        ({"jobs": 0}, "jobs"),
        ({"rules": ["pscost", "pscost"]}, "twice"),
    ]:
        with pytest.raises(OrlearnError, match=match):
            solve_batch(easy, output=out, progress=False, **kwargs)
    assert not out.exists()


KILLED_RUN = textwrap.dedent(
    """
    import sys
    from orlearn.solver.batch import solve_batch
    solve_batch(sys.argv[2:], ["relpscost", "pscost"], time_limit=0.3, output=sys.argv[1],
                progress=False)
    """
)


def test_resume_after_the_batch_is_killed(tmp_path, market_split):
    hard = [market_split(tmp_path / f"hard{k}.mps", 4, 30, k) for k in range(3)]
    out = tmp_path / "results.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN, str(out), *map(str, hard)], start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and len(out.read_text().splitlines()) >= 2:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # the batch and its workers, mid-solve
    proc.wait()
    before = out.read_text()
    assert 2 <= len(before.splitlines()) < 6
    results = solve_batch(hard, ["relpscost", "pscost"], time_limit=0.3, output=out,
                          progress=False)
    assert {(Path(r.instance).name, r.rule) for r in results} == {
        (p.name, rule) for p in hard for rule in ("relpscost", "pscost")
    }
    after = out.read_text()
    assert after.startswith(before.rsplit("\n", 1)[0])  # nothing written earlier was lost
    keys = [SolveResult.from_dict(json.loads(line)).key() for line in after.splitlines()]
    assert len(keys) == len(set(keys)) == 6  # no duplicate, none lost
    assert all(r.status == "time_limit" for r in results)


@pytest.fixture(scope="module")
def local_ray():
    """One small local Ray for the module (run_tasks leaves a Ray it did not start running)."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="WARNING")
    yield ray
    ray.shutdown()


def test_ray_executor_solves(local_ray, easy, tmp_path):
    bad = tmp_path / "corrupt.mps"
    bad.write_text("ROWS\n this is not MPS\n")
    out = tmp_path / "results.jsonl"
    results = solve_batch([easy[0], easy[1], bad], ["relpscost"], executor="ray", jobs=2,
                          time_limit=30, output=out, progress=False)
    assert [r.status for r in results] == ["optimal", "optimal", "error"]
    assert str(bad) in results[2].message
    assert len(read_results(out)) == 3
    assert local_ray.is_initialized()


def test_ray_executor_isolates_failures(local_ray):
    # The timeout counts from submission, worker start-up included: generous for a loaded machine.
    out = dict(run_tasks(misbehave, ["sleep", "exit", "raise", "ok"], executor="ray", jobs=2,
                         timeout=10))
    assert out["ok"] == "ok"
    assert out["raise"].kind == "exception" and "bad task" in out["raise"].message
    assert out["exit"].kind == "crash"
    assert out["sleep"].kind == "timeout"


# In a fresh interpreter: this module's local Ray would otherwise be reused (run_tasks keeps a
# Ray that is already running) and the address never looked at.
UNREACHABLE_RAY = textwrap.dedent("""
    import sys, time
    from orlearn.solver.executors import run_tasks
    from orlearn.errors import OrlearnError
    for address in ("127.0.0.1:1", "127.0.0.1"):
        start = time.monotonic()
        try:
            list(run_tasks(abs, [1], executor="ray", address=address))
        except OrlearnError as exc:
            print(f"{time.monotonic() - start:.1f} {exc}")
""")


def test_an_unreachable_ray_address_leaves_no_result_file(easy, tmp_path):
    pytest.importorskip("ray")
    out = tmp_path / "r.jsonl"
    with pytest.raises(OrlearnError, match="cannot reach the Ray cluster"):
        solve_batch(easy[:1], executor="ray", address="127.0.0.1:1", output=out, progress=False)
    assert not out.exists()


def test_an_unreachable_ray_address_fails_fast():
    pytest.importorskip("ray")
    proc = subprocess.run([sys.executable, "-c", UNREACHABLE_RAY], capture_output=True, text=True,
                          timeout=120)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stderr
    seconds, message = lines[0].split(" ", 1)
    assert float(seconds) < 10
    assert message.startswith("cannot reach the Ray cluster at 127.0.0.1:1 (Connection refused")
    assert "is not HOST:PORT" in lines[1]


def worker_pid(_task: int) -> int:
    return os.getpid()


def test_ray_workers_are_reused_only_when_asked(local_ray):
    fresh = dict(run_tasks(worker_pid, [0, 1, 2], executor="ray", jobs=1))
    assert len(set(fresh.values())) == 3  # one process per task (the default)
    shared = dict(run_tasks(worker_pid, [0, 1, 2], executor="ray", jobs=1, tasks_per_worker=2))
    assert len(set(shared.values())) == 2  # two tasks in the first process, one in the next
    with pytest.raises(OrlearnError, match="tasks per worker"):
        list(run_tasks(worker_pid, [0], executor="ray", tasks_per_worker=0))
