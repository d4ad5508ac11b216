"""The SCIP heuristic plugin: accepted, feasible solutions that leave the optimum unchanged;
failures counted without ending the solve; bad input refused before the solve."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

pyscipopt = pytest.importorskip("pyscipopt")

from orlearn.construct import assignment, attach_heuristic, milp, multiknapsack, solve  # noqa: E402
from orlearn.construct.problems import get_problem  # noqa: E402
from orlearn.construct.problems.experts import exact_knapsack  # noqa: E402
from orlearn.construct.problems.kp import KPInstance  # noqa: E402
from orlearn.errors import OrlearnError  # noqa: E402


def small_kp(seed: int = 0) -> KPInstance:
    inst = get_problem("kp").generate(12, 1, seed)[0]
    inst.capacity = 3.0  # binds: a dozen items of weight ~0.5
    return inst


def solved(model) -> float:
    model.hideOutput()
    model.optimize()
    assert model.getStatus() == "optimal"
    return model.getObjVal()


def test_knapsack_solution_is_accepted_and_the_optimum_unchanged():
    inst = small_kp()
    model, x = milp.knapsack(inst)
    heur = attach_heuristic(model, "kp", inst, x)
    optimum = solved(model)
    stats = heur.stats()
    assert stats["status"] == "accepted" and stats["calls"] == 1
    # The solution SCIP received is the policy's: same objective, and feasible.
    assert stats["scip_objective"] == pytest.approx(stats["policy_objective"], abs=1e-9)
    assert stats["policy_objective"] <= optimum + 1e-9
    best = exact_knapsack(inst.values, inst.weights, inst.capacity)
    assert optimum == pytest.approx(inst.values[best].sum(), abs=1e-9)
    assert optimum == pytest.approx(solved(milp.knapsack(inst)[0]), abs=1e-9)


def test_tsp_mtz_orders_are_completed_and_the_optimum_unchanged():
    tsp = get_problem("tsp")
    inst = tsp.generate(7, 1, 3)[0]
    d = inst.distances()
    model, x = milp.tsp_mtz(d)
    heur = attach_heuristic(model, "tsp", inst, x)
    optimum = solved(model)
    stats = heur.stats()
    assert stats["status"] == "accepted"
    assert stats["completion_seconds"] is not None  # the MTZ u variables were not in the map
    assert stats["scip_objective"] == pytest.approx(stats["policy_objective"], rel=1e-9)
    brute = min(
        tsp.objective(inst, [0, *p]) for p in itertools.permutations(range(1, 7))
    )
    assert optimum == pytest.approx(brute, rel=1e-9)


def test_undirected_edge_variables():
    # A symmetric TSP with one variable per edge and every subtour cut (6 nodes: 2^6 subsets).
    inst = get_problem("tsp").generate(6, 1, 4)[0]
    d, n = inst.distances(), 6
    model = pyscipopt.Model()
    e = {(i, j): model.addVar(f"e_{i}_{j}", vtype="B", obj=float(d[i, j]))
         for i in range(n) for j in range(i + 1, n)}
    for v in range(n):
        model.addCons(pyscipopt.quicksum(x for (i, j), x in e.items() if v in (i, j)) == 2)
    for size in range(3, n - 2):
        for subset in itertools.combinations(range(n), size):
            model.addCons(pyscipopt.quicksum(e[i, j] for i, j in itertools.combinations(subset, 2)) <= size - 1)
    reversed_keys = {(j, i): x for (i, j), x in e.items()}  # either way round is accepted
    heur = attach_heuristic(model, "tsp", inst, reversed_keys)
    solved(model)
    assert heur.stats()["status"] == "accepted"
    assert heur.stats()["scip_objective"] == pytest.approx(heur.stats()["policy_objective"], rel=1e-9)


def test_multi_knapsack_solution_is_accepted_and_feasible():
    inst = multiknapsack.generate(40, 3, 1, 0)[0]
    model, y = milp.multi_knapsack(inst)
    model.setParam("limits/gap", 1e-4)
    heur = attach_heuristic(model, "mkp", inst, y)
    model.hideOutput()
    model.optimize()
    stats = heur.stats()
    assert stats["status"] in ("accepted", "not improving")
    assert stats["scip_objective"] == pytest.approx(stats["policy_objective"], abs=1e-9)
    assert model.getObjVal() >= stats["policy_objective"] - 1e-9


def test_a_policy_that_raises_is_counted_and_the_solve_finishes(monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("policy exploded")

    monkeypatch.setattr(assignment, "construct", broken)
    inst = small_kp()
    model, x = milp.knapsack(inst)
    heur = attach_heuristic(model, "kp", inst, x)
    optimum = solved(model)
    best = exact_knapsack(inst.values, inst.weights, inst.capacity)
    assert optimum == pytest.approx(inst.values[best].sum(), abs=1e-9)
    assert heur.stats()["status"] == "failed"
    assert "policy exploded" in heur.stats()["error"]


def test_an_infeasible_construction_is_rejected_and_the_solve_goes_on():
    inst = small_kp()
    model, x = milp.knapsack(inst)
    # A side constraint the policy does not know: forbid every item the policy takes.
    taken = solve("kp", [inst])[0].solution
    model.addCons(pyscipopt.quicksum(x[i] for i in taken) <= 0)
    heur = attach_heuristic(model, "kp", inst, x)
    solved(model)
    assert heur.stats()["status"] == "rejected"


@pytest.mark.parametrize(
    ("problem", "make", "message"),
    [
        ("vrp", lambda inst, x: x, "unknown problem 'vrp'"),
        ("kp", lambda inst, x: {i: v for i, v in x.items() if i}, "expected 12 items"),
        ("kp", lambda inst, x: {**{i: v for i, v in x.items() if i}, 99: x[0]}, "unexpected key 99"),
    ],
)
def test_bad_maps_are_clear_errors(problem, make, message):
    inst = small_kp()
    model, x = milp.knapsack(inst)
    with pytest.raises(OrlearnError, match=message):
        attach_heuristic(model, problem, inst, make(inst, x))


def test_other_bad_inputs_are_clear_errors(tmp_path):
    inst = small_kp()
    model, x = milp.knapsack(inst)
    other, ox = milp.knapsack(inst)
    with pytest.raises(OrlearnError, match="does not map to a variable of this model"):
        attach_heuristic(model, "kp", inst, ox)
    with pytest.raises(OrlearnError, match="share a variable"):
        attach_heuristic(model, "kp", inst, {i: x[0] for i in x})
    with pytest.raises(OrlearnError, match="beam"):
        attach_heuristic(model, "kp", inst, x, beam=0)
    with pytest.raises(OrlearnError, match="needs a orlearn.construct.problems.tsp.TSPInstance"):
        attach_heuristic(model, "tsp", inst, x)
    with pytest.raises(OrlearnError, match="completion_time_limit"):
        attach_heuristic(model, "kp", inst, x, completion_time_limit=0)
    with pytest.raises(OrlearnError):  # a policy of another problem
        attach_heuristic(model, "kp", inst, x, policy=get_tsp_policy())
    missing = tmp_path / "nothing.pt"
    with pytest.raises(OrlearnError):
        attach_heuristic(model, "kp", inst, x, policy=missing)
    solved(other)
    with pytest.raises(OrlearnError, match="before model.optimize"):
        attach_heuristic(other, "kp", inst, ox)


def get_tsp_policy():
    from orlearn.construct import default_policy

    return default_policy("tsp")


def test_numpy_integer_keys_are_accepted():
    inst = small_kp()
    model, x = milp.knapsack(inst)
    heur = attach_heuristic(model, "kp", inst, {np.int64(i): v for i, v in x.items()})
    solved(model)
    assert heur.stats()["status"] == "accepted"


def test_two_heuristics_on_one_model():
    inst = small_kp()
    model, x = milp.knapsack(inst)
    first = attach_heuristic(model, "kp", inst, x)
    second = attach_heuristic(model, "kp", inst, x, beam=2)
    solved(model)
    assert first.stats()["status"] == "accepted"
    # Beam 2 finds nothing better here than the greedy solution SCIP already holds.
    assert second.stats()["status"] == "not improving"
