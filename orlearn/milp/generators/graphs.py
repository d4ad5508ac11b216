"""Random graphs (networkx) and the greedy clique partition used by the graph domains."""

from __future__ import annotations

from itertools import combinations

import networkx as nx
import numpy as np


def random_graph(rng: np.random.Generator, kind: str, n_nodes: int, **params: float) -> nx.Graph:
    """Draw a graph: ``kind`` "barabasi_albert" (param ``affinity``) or "erdos_renyi"
    (param ``edge_prob``); networkx gets an integer seed drawn from ``rng``."""
    seed = int(rng.integers(0, 2**31 - 1))
    if kind == "barabasi_albert":
        return nx.barabasi_albert_graph(n_nodes, int(params["affinity"]), seed=seed)
    if kind == "erdos_renyi":
        return nx.gnp_random_graph(n_nodes, float(params["edge_prob"]), seed=seed)
    raise ValueError(f"unknown graph kind {kind!r}")


def clique_partition(graph: nx.Graph) -> list[list[int]]:
    """Cover every edge of ``graph`` by cliques, greedily from high-degree nodes.

    Each clique grows from a node with an uncovered edge by adding neighbours adjacent to every
    member so far; "sum over a clique <= 1" for all cliques is then an independent set formulation
    at least as strong as one inequality per edge (Bergman et al. 2016, as in Gasse et al. 2019).
    """
    uncovered = {v: set(graph[v]) for v in graph}
    cliques: list[list[int]] = []
    for v in sorted(graph, key=lambda u: (-graph.degree(u), u)):
        while uncovered[v]:
            clique = [v]
            for u in sorted(uncovered[v], key=lambda w: (-len(uncovered[w]), w)):
                if all(graph.has_edge(u, w) for w in clique):
                    clique.append(u)
            for a, b in combinations(clique, 2):
                uncovered[a].discard(b)
                uncovered[b].discard(a)
            cliques.append(sorted(clique))
    return cliques
