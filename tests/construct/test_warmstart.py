"""Pyomo warm start: the policy's solution goes into the variables and reaches SCIP first."""

from __future__ import annotations

import pytest

pyo = pytest.importorskip("pyomo.environ")

import orlearn.branching.pyomo  # noqa: E402,F401  (registers SolverFactory("orlearn"))
from orlearn.construct import warm_start  # noqa: E402
from orlearn.construct.problems import get_problem  # noqa: E402
from orlearn.errors import OrlearnError  # noqa: E402

# Stopping SCIP at its first solution shows which solution came first: the warm start's.
FIRST = {"limits/solutions": 1}


def pyomo_kp(inst):
    m = pyo.ConcreteModel()
    items = range(inst.n)
    m.x = pyo.Var(items, domain=pyo.Binary)
    m.cap = pyo.Constraint(expr=sum(float(inst.weights[i]) * m.x[i] for i in items) <= inst.capacity)
    m.obj = pyo.Objective(expr=sum(float(inst.values[i]) * m.x[i] for i in items), sense=pyo.maximize)
    return m


def pyomo_tsp_mtz(d):
    n = d.shape[0]
    m = pyo.ConcreteModel()
    arcs = [(i, j) for i in range(n) for j in range(n) if i != j]
    m.x = pyo.Var(arcs, domain=pyo.Binary)
    m.u = pyo.Var(range(1, n), bounds=(1, n - 1))
    m.obj = pyo.Objective(expr=sum(float(d[a]) * m.x[a] for a in arcs))
    m.out = pyo.Constraint(range(n), rule=lambda m, i: sum(m.x[i, j] for j in range(n) if j != i) == 1)
    m.inn = pyo.Constraint(range(n), rule=lambda m, i: sum(m.x[j, i] for j in range(n) if j != i) == 1)
    m.mtz = pyo.Constraint(
        [(i, j) for i, j in arcs if i and j],
        rule=lambda m, i, j: m.u[i] - m.u[j] + (n - 1) * m.x[i, j] <= n - 2,
    )
    return m, arcs


def test_knapsack_warm_start_is_feasible_and_is_scips_first_solution():
    kp = get_problem("kp")
    inst = kp.generate(15, 1, 2)[0]
    inst.capacity = 4.0
    m = pyomo_kp(inst)
    built = warm_start("kp", inst, {i: m.x[i] for i in range(inst.n)})
    taken = [i for i in range(inst.n) if m.x[i].value == 1]
    assert sorted(taken) == sorted(built.solution) and kp.check(inst, taken) is None
    assert pyo.value(m.obj) == pytest.approx(built.objective)
    res = pyo.SolverFactory("orlearn", policy="none").solve(m, warmstart=True, options=FIRST)
    assert res.solver.warm_start["stored"] and not res.solver.warm_start["partial"]
    assert pyo.value(m.obj) == pytest.approx(built.objective)
    # Solved to the end, the optimum is unchanged by the start solution.
    pyo.SolverFactory("orlearn", policy="none").solve(m, warmstart=True)
    assert pyo.value(m.obj) == pytest.approx(kp.objective(inst, kp.expert(inst, 0, 0)))


def test_tsp_warm_start_leaves_mtz_orders_to_scip():
    tsp = get_problem("tsp")
    inst = tsp.generate(8, 1, 5)[0]
    m, arcs = pyomo_tsp_mtz(inst.distances())
    built = warm_start("tsp", inst, {a: m.x[a] for a in arcs})
    res = pyo.SolverFactory("orlearn", policy="none").solve(m, warmstart=True, options=FIRST)
    assert res.solver.warm_start["partial"]  # u had no values: SCIP completed them
    assert pyo.value(m.obj) == pytest.approx(built.objective, rel=1e-9)


def test_pyomo_scip_direct_takes_the_warm_start():
    from pyomo.contrib.solver.common.factory import SolverFactory

    solver = SolverFactory("scip_direct")
    if not solver.available():
        pytest.skip("Pyomo's scip_direct interface is not available")
    inst = get_problem("tsp").generate(8, 1, 6)[0]
    m, arcs = pyomo_tsp_mtz(inst.distances())
    built = warm_start("tsp", inst, {a: m.x[a] for a in arcs})
    res = solver.solve(m, warmstart_discrete_vars=True, solver_options=FIRST,
                       raise_exception_on_nonoptimal_result=False, load_solutions=False)
    assert res.incumbent_objective == pytest.approx(built.objective, rel=1e-9)


def test_warm_start_bad_input():
    inst = get_problem("kp").generate(5, 1, 0)[0]
    m = pyomo_kp(inst)
    with pytest.raises(OrlearnError, match="expected 5 items"):
        warm_start("kp", inst, {i: m.x[i] for i in range(4)})
    with pytest.raises(OrlearnError, match="single Pyomo variable"):
        warm_start("kp", inst, {i: 1.0 for i in range(5)})
    with pytest.raises(OrlearnError, match="unknown problem"):
        warm_start("cvrp", inst, {i: m.x[i] for i in range(5)})
    assert all(m.x[i].value is None for i in range(5))  # nothing set on bad input
