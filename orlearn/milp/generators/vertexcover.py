"""Minimum (weighted) vertex cover instances on Barabasi-Albert graphs.

The minimum vertex cover distributions of the ML-for-MILP literature (e.g. J. Song, R. Lanka,
Y. Yue, B. Dilkina, "A general large neighborhood search framework for solving integer linear
programs", NeurIPS 2020; Huang et al., Distributional MIPLIB, 2024) use Barabasi-Albert graphs with
affinity 4. Node weights are integers uniform in [1, max_weight] (``max_weight`` 1 = unweighted).
Model: min sum_v w_v x_v s.t. x_u + x_v >= 1 for every edge uv, x binary.
"""

from __future__ import annotations

import numpy as np
import pyscipopt

from orlearn.milp.generators.graphs import random_graph

VERSION = "vertexcover-1"


def build(
    rng: np.random.Generator,
    *,
    name: str = "vertexcover",
    n_nodes: int = 500,
    affinity: int = 4,
    max_weight: int = 1,
) -> pyscipopt.Model:
    """Draw one minimum vertex cover instance on ``n_nodes`` nodes."""
    g = random_graph(rng, "barabasi_albert", n_nodes, affinity=affinity)
    weights = rng.integers(1, max_weight + 1, size=n_nodes)
    model = pyscipopt.Model(problemName=name)
    x = [model.addVar(name=f"x{v}", vtype="B", obj=float(weights[v])) for v in range(n_nodes)]
    for k, (u, v) in enumerate(sorted(tuple(sorted(e)) for e in g.edges)):
        model.addCons(x[u] + x[v] >= 1, name=f"edge{k}")
    model.setMinimize()
    return model
