"""The experts: the exact knapsack (brute-force optima, weights that integer flooring gets wrong,
SCIP) and expert time limits on the CPU clock (a busy machine does not shorten the search)."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.construct.labels import instance_key
from orlearn.construct.problems import get_problem
from orlearn.construct.problems.experts import MaxCpuTime, exact_knapsack, expert_clock
from orlearn.construct.problems.kp import KPInstance


def brute_force(values, weights, capacity) -> float:
    n = len(values)
    return max(
        sum(values[i] for i in s)
        for r in range(n + 1)
        for s in itertools.combinations(range(n), r)
        if sum(weights[i] for i in s) <= capacity
    )


def test_weights_that_flooring_admits_over_the_capacity():
    # Scaled to integers by 1e6 / 25 and floored, the two heavy items weigh 500000 each and fit
    # the capacity 1000000 together, although their real weights exceed 25 by 3e-5; the true
    # optimum is one heavy item and the light one.
    values = np.array([1.0, 1.0, 0.9])
    weights = np.array([12.500015, 12.500015, 12.49])
    capacity = 25.0
    scale = 1e6 / capacity
    floored = np.floor(weights * scale)
    assert brute_force(values, floored, np.floor(capacity * scale)) == pytest.approx(2.0)
    chosen = exact_knapsack(values, weights, capacity)
    assert weights[chosen].sum() <= capacity
    assert values[chosen].sum() == pytest.approx(brute_force(values, weights, capacity)) == 1.9


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0, 1), st.floats(1e-3, 1)), min_size=1, max_size=10
    ),
    st.floats(0.01, 3),
)
def test_exact_knapsack_equals_brute_force(items, capacity):
    values = np.array([v for v, _ in items])
    weights = np.array([w for _, w in items])
    chosen = exact_knapsack(values, weights, capacity)
    assert len(set(chosen)) == len(chosen)
    assert weights[chosen].sum() <= capacity
    assert values[chosen].sum() == pytest.approx(brute_force(values, weights, capacity), abs=1e-12)


def test_exact_knapsack_matches_scip_on_kp100_and_kp1000():
    pyscipopt = pytest.importorskip("pyscipopt")
    kp = get_problem("kp")
    for inst in kp.generate(100, 3, 7) + kp.generate(1000, 1, 7):
        m = pyscipopt.Model()
        m.hideOutput()
        x = [m.addVar(vtype="B", obj=float(v)) for v in inst.values]
        m.addCons(pyscipopt.quicksum(float(w) * xi for w, xi in zip(inst.weights, x)) <= inst.capacity)
        m.setMaximize()
        m.setParam("numerics/feastol", 1e-9)
        m.optimize()
        sol = kp.expert(inst, 0, 0)
        assert kp.check(inst, sol) is None
        assert kp.objective(inst, sol) == pytest.approx(m.getObjVal(), rel=1e-9)


def test_kp_label_cache_key_names_the_expert(monkeypatch):
    # Labels cached by the earlier (weight-flooring) expert must not be read back.
    inst = KPInstance(np.array([0.5, 0.2]), np.array([0.3, 0.4]), 0.5)
    current = instance_key("kp", inst, 0, 0)
    monkeypatch.setattr(type(get_problem("kp")), "expert_version", "")
    assert instance_key("kp", inst, 0, 0) != current


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
