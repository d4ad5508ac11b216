"""Capacitated facility location instances following Cornuejols, Sridharan & Thizy (1991).

G. Cornuejols, R. Sridharan, J.M. Thizy, "A comparison of heuristics and relaxations for the
capacitated plant location problem", European Journal of Operational Research 50 (1991) 280-297;
the instance parameters are those used by Gasse et al. (NeurIPS 2019).

Customers and facilities are uniform points in the unit square. Demands d_i ~ U{5..35};
capacities s_j ~ U{10..160}, then scaled so that total capacity = ``ratio`` x total demand; fixed
costs f_j = U{100..110} * sqrt(s_j) + U{0..90} (before scaling s_j); transportation cost
c_ij = 10 * d_i * euclidean distance. Model: min sum c_ij x_ij + sum f_j y_j s.t.
sum_j x_ij >= 1 (serve customer i), sum_i d_i x_ij <= s_j y_j, sum_j s_j y_j >= sum_i d_i,
x_ij <= y_j (tightening), x_ij in [0, 1] continuous, y_j binary. ``assignment="binary"`` makes
x_ij binary: unsplittable supply, each customer served by one facility (the "ufacilities" class of
Scavuzzo et al., NeurIPS 2022, lascavana/rl2branch: 35 customers, 35 facilities, ratio 5).
"""

from __future__ import annotations

import numpy as np
import pyscipopt

VERSION = "facility-1"


def build(
    rng: np.random.Generator,
    *,
    name: str = "facility",
    n_customers: int = 100,
    n_facilities: int = 100,
    ratio: float = 5.0,
    assignment: str = "continuous",
) -> pyscipopt.Model:
    """Draw one capacitated facility location instance; ``assignment`` "continuous" (split
    supply) or "binary" (unsplittable)."""
    if assignment not in ("continuous", "binary"):
        raise ValueError(f"unknown assignment {assignment!r}; choose continuous or binary")
    x_type = "C" if assignment == "continuous" else "B"
    cust = rng.random((n_customers, 2))
    fac = rng.random((n_facilities, 2))
    demands = rng.integers(5, 36, size=n_customers)
    capacities = rng.integers(10, 161, size=n_facilities)
    fixed = (
        rng.integers(100, 111, size=n_facilities) * np.sqrt(capacities)
        + rng.integers(0, 91, size=n_facilities)
    ).astype(int)
    capacities = (capacities * ratio * demands.sum() / capacities.sum()).astype(int)
    dist = np.sqrt(((cust[:, None, :] - fac[None, :, :]) ** 2).sum(axis=2))
    trans = np.round(dist * 10 * demands[:, None], 6)

    model = pyscipopt.Model(problemName=name)
    y = [model.addVar(name=f"y{j}", vtype="B", obj=float(fixed[j])) for j in range(n_facilities)]
    x = [
        [
            model.addVar(name=f"x{i}_{j}", vtype=x_type, lb=0.0, ub=1.0, obj=float(trans[i, j]))
            for j in range(n_facilities)
        ]
        for i in range(n_customers)
    ]
    for i in range(n_customers):
        model.addCons(pyscipopt.quicksum(x[i]) >= 1, name=f"demand{i}")
    for j in range(n_facilities):
        model.addCons(
            pyscipopt.quicksum(float(demands[i]) * x[i][j] for i in range(n_customers))
            <= float(capacities[j]) * y[j],
            name=f"capacity{j}",
        )
    model.addCons(
        pyscipopt.quicksum(float(capacities[j]) * y[j] for j in range(n_facilities))
        >= float(demands.sum()),
        name="total_capacity",
    )
    for i in range(n_customers):
        for j in range(n_facilities):
            model.addCons(x[i][j] <= y[j], name=f"tight{i}_{j}")
    model.setMinimize()
    return model
