"""Generalized independent set problem (GISP) instances on Erdos-Renyi graphs.

D.S. Hochbaum, A. Pathria, "Forest harvesting and minimum cuts: a new approach to handling spatial
constraints", Forest Science 43 (1997); M. Colombi, R. Mansini, M. Savelsbergh, "The generalized
independent set problem: polyhedral analysis and solution approaches", EJOR 260 (2017); used as an
ML-for-MILP benchmark by Chmiela et al. (NeurIPS 2021) and Distributional MIPLIB (Huang et al. 2024).

Each edge of G(n, p) is removable with probability ``removable_frac`` (default 0.75, revenue 100
and edge cost 1: the values of the Distributional MIPLIB GISP generator's example). Every node
earns ``revenue``; keeping both ends of a removable edge costs an integer uniform in
[1, max_cost]. Model:
max sum_v revenue x_v - sum_{e removable} c_e y_e s.t. x_u + x_v <= 1 for fixed edges,
x_u + x_v - y_e <= 1 for removable edges, x, y binary.
"""

from __future__ import annotations

import numpy as np
import pyscipopt

from orlearn.milp.generators.graphs import random_graph

VERSION = "gisp-1"


def build(
    rng: np.random.Generator,
    *,
    name: str = "gisp",
    n_nodes: int = 60,
    edge_prob: float = 0.5,
    removable_frac: float = 0.75,
    revenue: int = 100,
    max_cost: int = 1,
) -> pyscipopt.Model:
    """Draw one GISP instance on ``n_nodes`` nodes."""
    g = random_graph(rng, "erdos_renyi", n_nodes, edge_prob=edge_prob)
    edges = sorted(tuple(sorted(e)) for e in g.edges)
    removable = rng.random(len(edges)) < removable_frac
    costs = rng.integers(1, max_cost + 1, size=len(edges))
    model = pyscipopt.Model(problemName=name)
    x = [model.addVar(name=f"x{v}", vtype="B", obj=float(revenue)) for v in range(n_nodes)]
    for k, (u, v) in enumerate(edges):
        if removable[k]:
            y = model.addVar(name=f"y{u}_{v}", vtype="B", obj=-float(costs[k]))
            model.addCons(x[u] + x[v] - y <= 1, name=f"removable{u}_{v}")
        else:
            model.addCons(x[u] + x[v] <= 1, name=f"edge{u}_{v}")
    model.setMaximize()
    return model
