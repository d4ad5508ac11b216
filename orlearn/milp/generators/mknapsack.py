"""Multiple knapsack instances (uncorrelated weights and profits).

S. Martello, P. Toth, "Knapsack Problems: Algorithms and Computer Implementations", Wiley 1990
(ch. 6); D. Pisinger, "An exact algorithm for large multiple knapsack problems", EJOR 114 (1999);
100 items with 6 or 12 knapsacks as in the multiple knapsack benchmark of L. Scavuzzo et al.,
"Learning to branch with tree MDPs", NeurIPS 2022.

Weights w_i and profits p_i are integers uniform in [min_value, max_value] (uncorrelated). The
knapsacks together hold ``capacity_frac`` of the total weight; knapsack j gets a share
proportional to U[0.8, 1.2], and never less than the heaviest item. Model:
max sum_ij p_i x_ij s.t. sum_j x_ij <= 1 (item i packed once), sum_i w_i x_ij <= C_j, x binary.
"""

from __future__ import annotations

import numpy as np
import pyscipopt

VERSION = "mknapsack-1"


def build(
    rng: np.random.Generator,
    *,
    name: str = "mknapsack",
    n_items: int = 100,
    n_knapsacks: int = 6,
    min_value: int = 10,
    max_value: int = 10000,
    capacity_frac: float = 0.5,
) -> pyscipopt.Model:
    """Draw one multiple knapsack instance."""
    weights = rng.integers(min_value, max_value + 1, size=n_items)
    profits = rng.integers(min_value, max_value + 1, size=n_items)
    shares = rng.uniform(0.8, 1.2, size=n_knapsacks)
    capacities = np.floor(capacity_frac * weights.sum() * shares / shares.sum()).astype(int)
    capacities = np.maximum(capacities, weights.max())

    model = pyscipopt.Model(problemName=name)
    x = [
        [
            model.addVar(name=f"x{i}_{j}", vtype="B", obj=float(profits[i]))
            for j in range(n_knapsacks)
        ]
        for i in range(n_items)
    ]
    for i in range(n_items):
        model.addCons(pyscipopt.quicksum(x[i]) <= 1, name=f"once{i}")
    for j in range(n_knapsacks):
        model.addCons(
            pyscipopt.quicksum(float(weights[i]) * x[i][j] for i in range(n_items))
            <= float(capacities[j]),
            name=f"capacity{j}",
        )
    model.setMaximize()
    return model
