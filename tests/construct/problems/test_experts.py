"""Expert time limits on the CPU clock: a busy machine does not shorten the search."""

from __future__ import annotations

import time

import pytest

from orlearn.construct.problems import get_problem
from orlearn.construct.problems.experts import MaxCpuTime, expert_clock


def test_cpu_time_criterion_ignores_time_spent_waiting():
    stop = MaxCpuTime(0.05)
    assert not stop(0.0)
    time.sleep(0.1)  # wall time passes, CPU time does not
    assert not stop(0.0)
    t0 = time.process_time()
    while not stop(0.0):
        pass
    assert time.process_time() - t0 > 0.03


def test_routing_expert_on_the_cpu_clock_is_feasible():
    p = get_problem("cvrp")
    inst = p.generate(8, 1, 0)[0]
    with expert_clock("cpu"):
        assert p.check(inst, p.expert(inst, 0.05, 0)) is None
    with pytest.raises(ValueError, match="unknown clock"), expert_clock("sundial"):
        pass
