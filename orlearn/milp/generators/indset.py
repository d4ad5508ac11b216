"""Maximum independent set instances on random graphs, clique-partition formulation.

Barabasi-Albert graphs with affinity 4 as in Gasse et al. (NeurIPS 2019) (A.-L. Barabasi, R. Albert,
"Emergence of scaling in random networks", Science 286 (1999)), or Erdos-Renyi G(n, p) graphs.
The edges are covered by cliques (D. Bergman, A.A. Cire, W.-J. van Hoeve, J. Hooker, "Decision
Diagrams for Optimization", Springer 2016) and the model is max sum_v x_v s.t.
sum_{v in K} x_v <= 1 for every clique K, x binary.
"""

from __future__ import annotations

import numpy as np
import pyscipopt

from orlearn.milp.generators.graphs import clique_partition, random_graph

VERSION = "indset-1"


def build(
    rng: np.random.Generator,
    *,
    name: str = "indset",
    n_nodes: int = 500,
    graph: str = "barabasi_albert",
    affinity: int = 4,
    edge_prob: float = 0.0,
) -> pyscipopt.Model:
    """Draw one maximum independent set instance on ``n_nodes`` nodes."""
    g = random_graph(rng, graph, n_nodes, affinity=affinity, edge_prob=edge_prob)
    model = pyscipopt.Model(problemName=name)
    x = [model.addVar(name=f"x{v}", vtype="B", obj=1.0) for v in range(n_nodes)]
    for k, clique in enumerate(clique_partition(g)):
        model.addCons(pyscipopt.quicksum(x[v] for v in clique) <= 1, name=f"clique{k}")
    model.setMaximize()
    return model
