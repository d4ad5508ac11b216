"""SolverFactory("orlearn"): a Pyomo MILP solved with the shipped learned policy."""

import numpy as np
import pyomo.environ as pyo
import pytest

import orlearn.branching.pyomo
from orlearn.errors import OrlearnError


def _knapsack(n: int = 35, m: int = 5, seed: int = 0) -> pyo.ConcreteModel:
    rng = np.random.default_rng(seed)
    w = rng.integers(10, 100, size=(m, n))
    p = rng.integers(10, 100, size=n)
    model = pyo.ConcreteModel()
    model.x = pyo.Var(range(n), domain=pyo.Binary)
    model.y = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 3))
    model.obj = pyo.Objective(
        expr=sum(int(p[j]) * model.x[j] for j in range(n)) + 7 * model.y + 5, sense=pyo.maximize
    )
    model.cap = pyo.Constraint(
        range(m),
        rule=lambda mdl, i: sum(int(w[i, j]) * mdl.x[j] for j in range(n)) + 20 * mdl.y
        <= int(w[i].sum() // 2),
    )
    return model


def test_solver_factory_loads_the_solution_and_matches_scip_default():
    model = _knapsack()
    opt = pyo.SolverFactory("orlearn")
    assert opt.available()
    results = opt.solve(model, options={"presolving/maxrounds": 0})
    assert results.solver.termination_condition == pyo.TerminationCondition.optimal
    learned = pyo.value(model.obj)
    # The solution is back in the model: integral and feasible.
    for j in model.x:
        assert model.x[j].value == pytest.approx(round(model.x[j].value), abs=1e-6)
    for i in model.cap:
        assert pyo.value(model.cap[i].body) <= pyo.value(model.cap[i].upper) + 1e-6
    assert results.problem.lower_bound == pytest.approx(learned)
    assert results.solver.branching_stats["policy"] == "mixed"
    assert results.solver.branching_stats["fallbacks"] == 0

    reference = _knapsack()
    ref = orlearn.branching.pyomo.solve(reference, policy=None)
    assert ref.solver.termination_condition == pyo.TerminationCondition.optimal
    assert pyo.value(reference.obj) == pytest.approx(learned)


def test_bad_policy_is_a_clear_error():
    with pytest.raises(OrlearnError, match="no shipped branching policy"):
        pyo.SolverFactory("orlearn", policy="gnn:nope").solve(_knapsack(n=5))


def test_warmstart_hands_scip_the_current_values():
    model = _knapsack()
    for j in model.x:  # a feasible start: only the first two items, y = 0
        model.x[j].set_value(1 if j < 2 else 0)
    model.y.set_value(0)
    start = pyo.value(model.obj)
    # Stopped at its first solution, SCIP returns the start: it was the first one it had.
    results = pyo.SolverFactory("orlearn", policy="none").solve(
        model, warmstart=True, options={"limits/solutions": 1}
    )
    # 36 values; the LP file's fixed variable for the objective constant takes its fixed value,
    # so the start is complete.
    warm = results.solver.warm_start
    assert warm["values"] == 36 and warm["stored"] and not warm["partial"]
    assert pyo.value(model.obj) == pytest.approx(start)


def test_warmstart_without_values_hands_nothing():
    results = orlearn.branching.pyomo.solve(_knapsack(), policy=None, warmstart=True)
    assert results.solver.warm_start["values"] == 0 and not results.solver.warm_start["stored"]
    assert results.solver.termination_condition == pyo.TerminationCondition.optimal
