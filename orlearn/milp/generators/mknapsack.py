"""Multiple knapsack instances following Fukunaga (2011), as used for learned branching.

A.S. Fukunaga, "A branch-and-bound algorithm for hard multiple knapsack problems", Annals of
Operations Research 184 (2011) 97-119 (section 2.1); S. Martello, P. Toth, "Knapsack Problems",
Wiley 1990; 100 items with 6 / 12 knapsacks and weights in [10, 20] as in the multiple knapsack
benchmarks of the learned-branching literature (e.g. L. Scavuzzo et al., "Learning to branch with
tree MDPs", NeurIPS 2022).

Weights w_i are integers uniform in [min_weight, max_weight] (R = max_weight - min_weight).
Profits: "weakly_correlated" p_i uniform in [max(w_i - R, 1), w_i + R]; "uncorrelated" p_i
uniform in [min_weight, max_weight]; "subset_sum" p_i = w_i (the scheme of rl2branch's published
policies, Scavuzzo et al. 2022, whose generator draws weights in [10, 19]). Capacities: knapsacks 1..m-1 get integers uniform in
[0.4 W / m, 0.6 W / m] (W = sum of weights) and the last one the rest of 0.5 W, so together they
hold half the total weight. Model: max sum_ij p_i x_ij s.t. sum_j x_ij <= 1 (each item packed at
most once), sum_i w_i x_ij <= C_j, x binary.
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
    min_weight: int = 10,
    max_weight: int = 20,
    scheme: str = "weakly_correlated",
) -> pyscipopt.Model:
    """Draw one multiple knapsack instance."""
    spread = max_weight - min_weight
    weights = rng.integers(min_weight, max_weight + 1, size=n_items)
    if scheme == "weakly_correlated":
        profits = rng.integers(np.maximum(weights - spread, 1), weights + spread + 1)
    elif scheme == "uncorrelated":
        profits = rng.integers(min_weight, max_weight + 1, size=n_items)
    elif scheme == "subset_sum":
        profits = weights.copy()
    else:
        raise ValueError(f"unknown profit scheme {scheme!r}")
    total = int(weights.sum())
    capacities = np.empty(n_knapsacks, dtype=int)
    capacities[:-1] = rng.integers(
        int(0.4 * total / n_knapsacks), int(0.6 * total / n_knapsacks) + 1, size=n_knapsacks - 1
    )
    capacities[-1] = max(total // 2 - int(capacities[:-1].sum()), 0)

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
