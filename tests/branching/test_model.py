"""The bipartite GCNN: scoring a few variables is the same function as scoring all of them."""

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.branching.model import BipartiteData, BranchingGNN
from orlearn.branching.observation import N_CONS_FEATURES, N_EDGE_FEATURES, N_VAR_FEATURES


def _graph(seed: int, n_cons: int, n_vars: int, n_edges: int) -> BipartiteData:
    gen = torch.Generator().manual_seed(seed)
    return BipartiteData(
        x_c=torch.randn(n_cons, N_CONS_FEATURES, generator=gen),
        x_v=torch.randn(n_vars, N_VAR_FEATURES, generator=gen),
        edge_index=torch.stack([
            torch.randint(0, n_cons, (n_edges,), generator=gen),
            torch.randint(0, n_vars, (n_edges,), generator=gen),
        ]),
        edge_attr=torch.randn(n_edges, N_EDGE_FEATURES, generator=gen),
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_cons=st.integers(1, 12),
    n_vars=st.integers(1, 20),
    n_edges=st.integers(0, 60),
    data=st.data(),
)
def test_scoring_some_variables_equals_scoring_all(seed, n_cons, n_vars, n_edges, data):
    torch.manual_seed(seed)
    model = BranchingGNN(emb=8)
    graph = _graph(seed, n_cons, n_vars, n_edges)
    chosen = data.draw(st.lists(st.integers(0, n_vars - 1), min_size=1, max_size=n_vars,
                                unique=True))
    variables = torch.tensor(chosen)
    with torch.no_grad():
        assert torch.allclose(model(graph, variables), model(graph)[variables], atol=1e-5)


def test_in_place_messages_keep_gradients_exact():
    """The in-place message ops must not corrupt what autograd saved: compare with float64
    finite differences on a tiny graph."""
    torch.manual_seed(0)
    model = BranchingGNN(emb=4).double()
    graph = _graph(1, 3, 5, 9)
    graph.x_v = graph.x_v.double()
    graph.x_c = graph.x_c.double()
    graph.edge_attr = graph.edge_attr.double().requires_grad_()

    def f(edge_attr):
        graph.edge_attr = edge_attr
        return model(graph).sum()

    assert torch.autograd.gradcheck(f, (graph.edge_attr,))


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n_cons=st.integers(1, 12),
    n_vars=st.integers(1, 20),
    n_edges=st.integers(0, 60),
    chunk=st.integers(1, 70),
)
def test_gradient_free_chunked_messages_equal_propagate(seed, n_cons, n_vars, n_edges, chunk):
    """Inference sums the messages in chunks of edges; training uses torch-geometric's
    propagate. Same additions in the same order: bit-identical logits."""
    import orlearn.branching.model as model_module

    torch.manual_seed(seed)
    model = BranchingGNN(emb=8)
    graph = _graph(seed, n_cons, n_vars, n_edges)
    saved = model_module.CHUNK_EDGES
    model_module.CHUNK_EDGES = chunk
    try:
        with torch.no_grad():
            chunked = model(graph)
    finally:
        model_module.CHUNK_EDGES = saved
    assert torch.equal(chunked, model(graph).detach())
