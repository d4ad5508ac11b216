"""Generators: determinism, sizes, structure and feasibility on tiny parameters."""

import hashlib

import pytest

from orlearn.milp.io import gzip_bytes, model_bytes
from orlearn.milp.registry import get_distribution

TINY = {
    "setcover/small": {"n_rows": 30, "n_cols": 60, "density": 0.1},
    "cauctions/small": {"n_items": 15, "n_bids": 40},
    "facility/small": {"n_customers": 8, "n_facilities": 5},
    "indset/small": {"n_nodes": 40},
    "indset-er/small": {"n_nodes": 30, "edge_prob": 0.15},
    "vertexcover/small": {"n_nodes": 40},
    "gisp/small": {"n_nodes": 15, "edge_prob": 0.4},
    "mknapsack/small": {"n_items": 15, "n_knapsacks": 3},
}


def solve(model):
    model.hideOutput()
    model.setParam("limits/time", 20)
    model.optimize()
    return model.getStatus()


def digest(model):
    return hashlib.sha256(gzip_bytes(model_bytes(model))).hexdigest()


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_instances_deterministic_and_solvable(name):
    d = get_distribution(name).with_params(**TINY[name])
    a, b, c = d.sample(3), d.sample(3), d.sample(4)
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)
    assert a.getNVars() > 0 and a.getNConss() > 0
    assert solve(a) == "optimal"
    assert all(v.vtype() in ("BINARY", "CONTINUOUS") for v in a.getVars())


@pytest.mark.parametrize("name", ["setcover/small", "cauctions/small", "indset/small"])
def test_real_size_determinism(name):
    d = get_distribution(name)
    seed = d.seed_for("test", 0)
    assert digest(d.sample(seed)) == digest(d.sample(seed))


def test_setcover_structure():
    m = get_distribution("setcover/small").sample(0)
    assert m.getNVars() == 1000 and m.getNConss() == 500
    nnz = 0
    for cons in m.getConss():
        coefs = m.getValsLinear(cons)
        assert len(coefs) >= 1 and set(coefs.values()) == {1.0}
        assert m.getLhs(cons) == 1.0
        nnz += len(coefs)
    assert abs(nnz / (500 * 1000) - 0.05) < 0.002
    costs = [v.getObj() for v in m.getVars()]
    assert min(costs) >= 1 and max(costs) <= 100


def test_cauctions_sizes_and_packing():
    m = get_distribution("cauctions/small").sample(1)
    assert m.getNVars() == 500
    for cons in m.getConss():
        assert m.getRhs(cons) == 1.0
    assert m.getObjectiveSense() == "maximize"


def test_facility_has_tightening_constraints():
    d = get_distribution("facility/small").with_params(n_customers=6, n_facilities=4)
    m = d.sample(0)
    names = {c.name for c in m.getConss()}
    assert {f"tight{i}_{j}" for i in range(6) for j in range(4)} <= names
    assert m.getNVars() == 6 * 4 + 4
    assert solve(m) == "optimal"
    # every customer served at least once and open facilities pay their fixed cost
    opened = [v for v in m.getVars() if v.name.startswith("y") and m.getVal(v) > 0.5]
    assert opened


def test_indset_solution_is_independent():
    import networkx as nx

    from orlearn.milp.generators.graphs import clique_partition, random_graph

    d = get_distribution("indset/small")
    g = random_graph(d.rng(5), "barabasi_albert", 60, affinity=4)
    cliques = clique_partition(g)
    covered = {frozenset(e) for k in cliques for e in nx.subgraph(g, k).edges}
    assert covered == {frozenset(e) for e in g.edges}
    for k in cliques:
        assert nx.subgraph(g, k).number_of_edges() == len(k) * (len(k) - 1) // 2


RL2BRANCH_SHAPES = {  # (variables, constraints) of lascavana/rl2branch's classes
    "setcover/rl2branch": (750, 400),
    "cauctions/rl2branch": (500, None),  # one row per item with bids, plus bidders' dummy items
    "indset/rl2branch": (500, None),  # one row per clique of the cover
    "mknapsack/rl2branch": (600, 106),
    "ufacilities/rl2branch": (35 * 35 + 35, 35 + 35 + 1 + 35 * 35),
    "setcover/rl2branch-transfer": (1000, 500),
    "cauctions/rl2branch-transfer": (1000, None),
    "indset/rl2branch-transfer": (1000, None),
    "mknapsack/rl2branch-transfer": (1200, 112),
    "ufacilities/rl2branch-transfer": (60 * 35 + 35, 60 + 35 + 1 + 60 * 35),
}


@pytest.mark.parametrize("name", sorted(RL2BRANCH_SHAPES))
def test_rl2branch_distributions_are_seeded_and_have_its_shapes(name):
    d = get_distribution(name)
    seed = d.seed_for("test", 0)
    a, b, c = d.sample(seed), d.sample(seed), d.sample(seed + 1)
    assert digest(a) == digest(b) != digest(c)
    n_vars, n_conss = RL2BRANCH_SHAPES[name]
    assert a.getNVars() == n_vars
    assert n_conss is None or a.getNConss() == n_conss
    assert all(v.vtype() == "BINARY" for v in a.getVars())


def test_rl2branch_mknapsack_is_subset_sum():
    m = get_distribution("mknapsack/rl2branch").sample(5)
    capacity = next(c for c in m.getConss() if c.name.startswith("capacity"))
    weights = {v.split("_")[0]: w for v, w in m.getValsLinear(capacity).items()}
    assert len(weights) == 100 and 10 <= min(weights.values()) and max(weights.values()) <= 19
    for var in m.getVars():
        assert var.getObj() == weights[var.name.split("_")[0]]  # profit = weight
