"""MILP formulations of the constructive problems as pyscipopt models, with the decision map
:func:`orlearn.construct.attach_heuristic` takes (examples, and the models the tests and
``scripts/bench_construct_heuristic.py`` solve).

* :func:`knapsack` -- max sum v_i x_i s.t. sum w_i x_i <= C, x binary; ``variables[i] = x_i``.
* :func:`multi_knapsack` -- max sum v_i y_ik s.t. each item in at most one knapsack, each
  knapsack's weight within its capacity; ``variables[i, k] = y_ik``.
* :func:`tsp_mtz` -- the asymmetric (arc) TSP with Miller-Tucker-Zemlin order variables:
  out- and in-degree 1, u_i - u_j + (n - 1) x_ij <= n - 2 for i, j != 0, 1 <= u_i <= n - 1;
  ``variables[i, j] = x_ij``. The u are not in the map: the heuristic completes them.
  MTZ's LP bound is weak, but SCIP closes random Euclidean instances of 30-50 nodes in seconds
  to minutes, which is what a benchmark of the heuristic on this machine needs.
"""

from __future__ import annotations

from typing import Any

import pyscipopt

from orlearn.construct.multiknapsack import MultiKnapsackInstance


def knapsack(instance: Any) -> tuple[pyscipopt.Model, dict[int, Any]]:
    """A 0/1 knapsack (:class:`~orlearn.construct.problems.kp.KPInstance`) as a MILP."""
    model = pyscipopt.Model("knapsack")
    x = {i: model.addVar(f"x_{i}", vtype="B", obj=float(v)) for i, v in enumerate(instance.values)}
    model.addCons(
        pyscipopt.quicksum(float(w) * x[i] for i, w in enumerate(instance.weights)) <= float(instance.capacity),
        name="capacity",
    )
    model.setMaximize()
    return model, x


def multi_knapsack(instance: MultiKnapsackInstance) -> tuple[pyscipopt.Model, dict[tuple[int, int], Any]]:
    """A multiple knapsack as a MILP (one binary per item and knapsack)."""
    model = pyscipopt.Model("multi_knapsack")
    items, sacks = range(instance.n), range(instance.m)
    y = {
        (i, k): model.addVar(f"y_{i}_{k}", vtype="B", obj=float(instance.values[i]))
        for i in items for k in sacks
    }
    for i in items:
        model.addCons(pyscipopt.quicksum(y[i, k] for k in sacks) <= 1, name=f"once_{i}")
    for k in sacks:
        model.addCons(
            pyscipopt.quicksum(float(instance.weights[i]) * y[i, k] for i in items)
            <= float(instance.capacities[k]),
            name=f"capacity_{k}",
        )
    model.setMaximize()
    return model, y


def tsp_mtz(distances: Any) -> tuple[pyscipopt.Model, dict[tuple[int, int], Any]]:
    """A TSP over the (n, n) ``distances`` (a TSP instance's ``distances()``, or an ATSP's
    ``dist``) as the MTZ arc formulation."""
    n = int(distances.shape[0])
    model = pyscipopt.Model("tsp_mtz")
    nodes = range(n)
    x = {
        (i, j): model.addVar(f"x_{i}_{j}", vtype="B", obj=float(distances[i, j]))
        for i in nodes for j in nodes if i != j
    }
    u = {i: model.addVar(f"u_{i}", lb=1, ub=n - 1) for i in range(1, n)}
    for i in nodes:
        model.addCons(pyscipopt.quicksum(x[i, j] for j in nodes if j != i) == 1, name=f"out_{i}")
        model.addCons(pyscipopt.quicksum(x[j, i] for j in nodes if j != i) == 1, name=f"in_{i}")
    for i in range(1, n):
        for j in range(1, n):
            if i != j:
                model.addCons(u[i] - u[j] + (n - 1) * x[i, j] <= n - 2, name=f"mtz_{i}_{j}")
    model.setMinimize()
    return model, x
