"""The fast paths compute what the reference paths compute: the node scorer (random graphs and
real solves) and the observation functions' feature conversion."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import orlearn.branching.scoring as scoring
from orlearn.branching.model import BranchingGNN
from orlearn.branching.scoring import NodeScorer


def _graph(
    seed: int,
    n_cons: int,
    n_vars: int,
    n_edges: int,
    n_var_features: int = 20,
    n_cons_features: int = 9,
):
    """Row-sorted edges (as the observation functions list them) over every row."""
    rng = np.random.default_rng(seed)
    rows = np.sort(
        np.concatenate([np.arange(n_cons), rng.integers(0, n_cons, max(n_edges - n_cons, 0))])
    )
    cols = rng.integers(0, n_vars, rows.shape[0])
    return (
        torch.from_numpy(rng.normal(size=(n_cons, n_cons_features)).astype(np.float32)),
        torch.from_numpy(rng.normal(size=(n_vars, n_var_features)).astype(np.float32)),
        np.stack([rows, cols]).astype(np.int64),
        rng.normal(size=(rows.shape[0], 1)).astype(np.float32),
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_cons=st.integers(1, 12),
    n_vars=st.integers(1, 25),
    n_edges=st.integers(1, 90),
    chunk=st.integers(1, 40),
    post=st.sampled_from(["layer", "scale"]),
    data=st.data(),
)
def test_fast_scores_equal_the_models_own(seed, n_cons, n_vars, n_edges, chunk, post, data):
    """Any chunking, both post-convolution normalisations, any candidates: the fast path's
    logits are the model's (to float rounding), and it takes over whenever the candidates
    reach the rows that hold most edges."""
    torch.manual_seed(seed)
    gnn = BranchingGNN(emb=8, post=post).eval()
    x_c, x_v, edge_index, edge_attr = _graph(seed, n_cons, n_vars, n_edges)
    cands = np.array(
        data.draw(st.lists(st.integers(0, n_vars - 1), min_size=1, max_size=n_vars, unique=True)),
        dtype=np.int64,
    )
    scorer = NodeScorer(gnn)
    saved = scoring.CHUNK_EDGES
    scoring.CHUNK_EDGES = chunk
    try:
        with torch.inference_mode():
            fast = scorer.scores(x_c, x_v, edge_index, edge_attr, cands)
            again = scorer.scores(x_c, x_v, edge_index, edge_attr, cands)  # from the cache
            ref = scorer.reference(x_c, x_v, edge_index, edge_attr, cands)
    finally:
        scoring.CHUNK_EDGES = saved
    assert fast.shape == (cands.shape[0],)
    torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-5)
    assert torch.equal(fast, again)
    reached = np.isin(np.arange(n_cons), edge_index[0][np.isin(edge_index[1], cands)])
    share = np.bincount(edge_index[0], minlength=n_cons)[reached].sum() / edge_index.shape[1]
    assert scorer.fast_calls == (2 if share >= scoring.FULL_PASS_SHARE else 0)


def test_the_cache_follows_the_edge_arrays_and_gradients_take_the_models_pass():
    torch.manual_seed(0)
    gnn = BranchingGNN(emb=8).eval()
    x_c, x_v, edge_index, edge_attr = _graph(1, 6, 10, 40)
    cands = np.arange(10, dtype=np.int64)
    scorer = NodeScorer(gnn)
    with torch.inference_mode():
        scorer.scores(x_c, x_v, edge_index, edge_attr, cands)
        first = scorer._cache
        scorer.scores(x_c, x_v, edge_index, edge_attr, cands)
        assert scorer._cache is first  # the same arrays: reused
        other_attr = edge_attr * 2.0  # a new edge list: rebuilt, and its logits are its own
        fast = scorer.scores(x_c, x_v, edge_index, other_attr, cands)
        assert scorer._cache is not first
        torch.testing.assert_close(fast, scorer.reference(x_c, x_v, edge_index, other_attr, cands))
        scorer.fast = False
        scorer.scores(x_c, x_v, edge_index, edge_attr, cands)
    assert (scorer.fast_calls, scorer.reference_calls) == (3, 1)
    out = scorer.scores(x_c, x_v, edge_index, edge_attr, cands)  # gradients on: the model's pass
    assert out.requires_grad and scorer.reference_calls == 2


def test_unsorted_edges_take_the_models_pass():
    gnn = BranchingGNN(emb=8).eval()
    x_c, x_v, edge_index, edge_attr = _graph(2, 6, 10, 40)
    shuffled = np.ascontiguousarray(edge_index[:, ::-1])
    scorer = NodeScorer(gnn)
    with torch.inference_mode():
        out = scorer.scores(x_c, x_v, shuffled, edge_attr, np.arange(10, dtype=np.int64))
    torch.testing.assert_close(out, scorer.reference(x_c, x_v, shuffled, edge_attr, np.arange(10)))
    assert (scorer.fast_calls, scorer.reference_calls) == (0, 1)


RL2BRANCH = Path(
    os.environ.get(
        "ORLEARN_RL2BRANCH", Path(__file__).resolve().parents[2] / "../shared/benchmarks/rl2branch"
    )
)


@pytest.mark.parametrize("spec", ["gnn", "setcover/il.pkl"])
def test_in_a_solve_both_paths_score_alike(spec, tiny):
    """At the branching nodes of a tiny set cover solve, a policy's scores (fast path) equal
    its reference scores and pick the same candidate: the shipped GNN (orlearn's features) and,
    when present, the published setcover il.pkl (Ecole's)."""
    from orlearn.branching.loader import load_branching_policy

    if spec.endswith(".pkl"):
        spec = RL2BRANCH / spec
        if not spec.is_file():
            pytest.skip(f"rl2branch policies not found at {RL2BRANCH} (set ORLEARN_RL2BRANCH)")
    from orlearn.branching.plugin import attach_branching

    policy = load_branching_policy(spec)
    pairs = []
    fast_scores = policy.scores

    def both(obs):
        pairs.append((fast_scores(obs), policy.reference_scores(obs)))
        return pairs[-1][0]

    policy.scores = both  # the rule branches on the fast path's choice
    model = tiny.configure(tiny.setcover(2))
    model.setParam("limits/nodes", 12)
    rule = attach_branching(model, policy)
    model.optimize()
    assert rule.stats()["learned_calls"] == len(pairs) >= 3
    cached = policy.scorer._cache is not None
    model.freeTransform()  # SCIP's exitsol: the rule releases the solve's edge cache
    assert cached and policy.scorer._cache is None
    assert policy.scorer.fast_calls > 0  # deeper nodes may reach too few rows for the fast path
    for fast, ref in pairs:
        torch.testing.assert_close(fast, ref, rtol=1e-5, atol=1e-5)
        assert int(fast.argmax()) == int(ref.argmax())


def test_feature_array_equals_numpys_conversion():
    from orlearn.branching.observation import feature_array

    lists = [[0, 1, 2.5, -3], [1, 0, 1e-9, 7]]
    np.testing.assert_array_equal(feature_array(lists), np.array(lists, dtype=np.float64))
    with_none = [[0, None, 1.5], [1, None, 2]]  # before the first incumbent
    np.testing.assert_array_equal(feature_array(with_none), np.array(with_none, dtype=np.float64))
    assert feature_array([], fast=True).shape == (0,)


@pytest.mark.parametrize("kind", ["orlearn", "ecole"])
def test_fast_observation_equals_the_reference(kind, tiny):
    """At every branching node of a solve (bounds, basis statuses and the incumbent change from
    node to node, the first nodes have no incumbent), the fast observation equals the
    reference one, feature for feature."""
    from orlearn.branching.ecole_observation import NodeBipartite
    from orlearn.branching.observation import ObservationBuilder

    make = NodeBipartite if kind == "ecole" else ObservationBuilder
    fast, reference = make(), make()
    reference.fast = False
    model = tiny.configure(tiny.setcover(2))
    x = model.getVars()
    s = model.addVar("s", vtype="C", lb=0.0, ub=10.0, obj=1.0)  # a continuous column
    model.addCons(s - x[0] - x[1] >= -0.5, name="with_s")
    model.setParam("branching/random/priority", 10**6)  # many nodes, bounds all over the tree
    model.setParam("limits/nodes", 40)
    spy = tiny.spy_on(model, lambda m: (fast.extract(m), reference.extract(m), m.getNSols()))
    model.optimize()
    assert not spy.errors, spy.errors
    assert len(spy.records) >= 15
    assert {n > 0 for _, _, n in spy.records} == {False, True}  # before and after an incumbent
    for a, b, _ in spy.records:
        np.testing.assert_array_equal(a.var_features, b.var_features)
        np.testing.assert_array_equal(a.cons_features, b.cons_features)
        np.testing.assert_array_equal(a.edge_index, b.edge_index)
        np.testing.assert_array_equal(a.candidates, b.candidates)


def test_warm_up_leaves_nothing_behind_and_other_modules_take_their_own_pass():
    scorer = NodeScorer(BranchingGNN(emb=8).eval())
    scorer.warm_up()
    assert scorer._cache is None and (scorer.fast_calls, scorer.reference_calls) == (0, 0)

    class Other(BranchingGNN):  # a subclass may compute something else: no fast path
        pass

    other = NodeScorer(Other(emb=8).eval())
    other.warm_up()
    x_c, x_v, edge_index, edge_attr = _graph(3, 4, 6, 20)
    with torch.inference_mode():
        other.scores(x_c, x_v, edge_index, edge_attr, np.arange(6, dtype=np.int64))
    assert not other.fast and (other.fast_calls, other.reference_calls) == (0, 1)
