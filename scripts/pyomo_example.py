"""Solve a Pyomo MILP with SCIP and orlearn's learned branching policy.

    .venv/bin/python scripts/pyomo_example.py [--policy gnn | gnn:NAME | PATH.pt | none]

Builds a small capacitated facility-location model in Pyomo, solves it through
``SolverFactory("orlearn")`` (registered by ``import orlearn.branching.pyomo``) and prints the termination
condition, the objective, the open facilities and how often the policy decided.
"""

from __future__ import annotations

import argparse

import numpy as np
import pyomo.environ as pyo

import orlearn.branching.pyomo  # noqa: F401 - registers SolverFactory("orlearn")


def facility_model(n_customers: int = 50, n_facilities: int = 20, seed: int = 0) -> pyo.ConcreteModel:
    """Capacitated facility location: open facilities (fixed cost) and serve every customer."""
    rng = np.random.default_rng(seed)
    demand = rng.integers(5, 35, size=n_customers)
    capacity = rng.integers(10, 160, size=n_facilities) * 3
    fixed = rng.integers(100, 200, size=n_facilities) * 10
    cost = rng.uniform(1, 10, size=(n_customers, n_facilities)) * demand[:, None]
    m = pyo.ConcreteModel()
    m.C, m.F = pyo.RangeSet(0, n_customers - 1), pyo.RangeSet(0, n_facilities - 1)
    m.open = pyo.Var(m.F, domain=pyo.Binary)
    m.serve = pyo.Var(m.C, m.F, bounds=(0, 1))
    m.cost = pyo.Objective(
        expr=sum(float(fixed[j]) * m.open[j] for j in m.F)
        + sum(float(cost[i, j]) * m.serve[i, j] for i in m.C for j in m.F)
    )
    m.demand = pyo.Constraint(m.C, rule=lambda m, i: sum(m.serve[i, j] for j in m.F) == 1)
    m.capacity = pyo.Constraint(
        m.F,
        rule=lambda m, j: sum(int(demand[i]) * m.serve[i, j] for i in m.C)
        <= int(capacity[j]) * m.open[j],
    )
    m.tight = pyo.Constraint(m.C, m.F, rule=lambda m, i, j: m.serve[i, j] <= m.open[j])
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--policy", default="gnn", help="gnn, gnn:NAME, a .pt file, or none")
    ap.add_argument("--time-limit", type=float, default=60.0)
    args = ap.parse_args()

    model = facility_model()
    solver = pyo.SolverFactory("orlearn", policy=args.policy, time_limit=args.time_limit)
    results = solver.solve(model)
    print("termination:", results.solver.termination_condition)
    print("objective:  ", round(pyo.value(model.cost), 2))
    print("bounds:     ", results.problem.lower_bound, results.problem.upper_bound)
    print("open:       ", [j for j in model.F if pyo.value(model.open[j]) > 0.5])
    print("branching:  ", results.solver.branching_stats)


if __name__ == "__main__":
    main()
