"""Fast candidate scoring at a node: the GNN's forward pass with the node-invariant parts cached.

:class:`NodeScorer` computes what ``BranchingGNN(data, candidates)`` computes (the candidates'
logits, :meth:`~orlearn.branching.model.BranchingGNN.embed` with ``variables``), with the same
modules on the same inputs, but

* what depends only on the edge list is built once per edge list and reused while the
  observation function hands back the same edge arrays (both observation functions cache them
  while the LP rows stay the same): the standardised edge features, each row's degree, the
  bags below, and the edges grouped by column (so a node's candidate edges are a few slices);
* each convolution's per-edge message ``ReLU(left(target) + right(source) + coef * w)`` is
  formed by one ``embedding_bag`` (a bag of three rows per edge: the target's, the source's and
  the edge weight scaled by the coefficient, read from one table) and summed per target by a
  second ``embedding_bag`` over contiguous runs of edges, in cache-sized chunks: three passes
  over the messages instead of five (two gathers, an add, the edge term, the ReLU) plus a
  scatter. Each target's messages are still added in edge order.

The first convolution runs over every edge, so every row is computed even where the model's
own pass would skip the few rows no candidate reaches (they do not reach the logits); this
path takes the node when those rows hold at least :data:`FULL_PASS_SHARE` of the edges (set
cover: 98-99 %). Sparser reaches (facility location: a few hundred of ~7,500 rows), a gradient
pass, edges not sorted by row or more than one edge feature go to the model's own pass.
On set cover the logits come out bit for bit the same as the model's (the same Linears on the
same rows, each sum in the same order); the tests allow float rounding.
``tests/branching/test_scoring.py`` checks both paths against each other.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

#: Edges per chunk of the message sums: a chunk's (3 x edges) bag indices and its (edges, emb)
#: messages stay in L2 (64 x 4,096 floats: 1 MB).
CHUNK_EDGES = 4096


Chunk = tuple[torch.Tensor, torch.Tensor, torch.Tensor, int, int, torch.Tensor, torch.Tensor]


def message_bags(
    targets: np.ndarray, sources: np.ndarray, coef: np.ndarray, segments: np.ndarray,
    source_row: int, weight_row: int,
) -> list[Chunk]:  # fmt: skip
    """The embedding_bag inputs of one convolution's messages, over edges sorted by target.

    Target ``t``'s edges are ``segments[t]:segments[t + 1]`` (``targets``/``sources``/``coef``
    per edge). The table the bags read is [target rows; source rows from ``source_row``; the
    edge weight at ``weight_row``]: edge ``k``'s bag is [target, source_row + source, weight row]
    with per-sample weights [1, 1, coef]. Chunks hold whole targets, about CHUNK_EDGES edges
    each (at least one target): (indices, weights, bag offsets, first target, end target,
    offsets of the targets' runs in the chunk, arange of the chunk's edges).
    """
    n_edges, n_targets = int(segments[-1]), segments.shape[0] - 1
    idx = np.empty((n_edges, 3), dtype=np.int64)
    idx[:, 0] = targets
    np.add(sources, source_row, out=idx[:, 1])
    idx[:, 2] = weight_row
    psw = np.ones((n_edges, 3), dtype=np.float32)
    psw[:, 2] = coef
    idx_t, psw_t = torch.from_numpy(idx).view(-1), torch.from_numpy(psw).view(-1)
    # Chunk boundaries: as many whole targets as fit in CHUNK_EDGES edges (at least one).
    bounds = [0]
    while bounds[-1] < n_targets:
        t0 = bounds[-1]
        t1 = int(np.searchsorted(segments, segments[t0] + CHUNK_EDGES, side="right")) - 1
        bounds.append(min(max(t1, t0 + 1), n_targets))
    longest = max(
        (int(segments[t1] - segments[t0]) for t0, t1 in zip(bounds, bounds[1:])), default=0
    )
    offsets_all = torch.arange(0, 3 * longest, 3, dtype=torch.int64)
    arange_all = torch.arange(longest, dtype=torch.int64)
    chunks: list[Chunk] = []
    for t0, t1 in zip(bounds, bounds[1:]):
        start, stop = int(segments[t0]), int(segments[t1])
        n = stop - start
        if n > 0:
            seg = torch.from_numpy(segments[t0:t1] - start)
            chunks.append(
                (
                    idx_t[3 * start : 3 * stop],
                    psw_t[3 * start : 3 * stop],
                    offsets_all[:n],
                    t0,
                    t1,
                    seg,
                    arange_all[:n],
                )
            )
    return chunks


def message_sums(chunks: list[Chunk], table: torch.Tensor, n_targets: int) -> torch.Tensor:
    """Per target, the sum over its edges of ReLU(target row + source row + coef * weight row)
    (zero for a target without edges); ``chunks`` from :func:`message_bags`."""
    out = table.new_zeros((n_targets, table.size(1)))
    for idx, psw, offsets, t0, t1, seg, arange in chunks:
        msg = F.embedding_bag(idx, table, offsets, mode="sum", per_sample_weights=psw).relu_()
        out[t0:t1] = F.embedding_bag(arange, msg, seg, mode="sum")
    return out


#: The fast path runs the first convolution over every edge; it takes over when the rows the
#: candidates reach hold at least this share of the edges (set cover: 98-99 %), and leaves
#: sparser reaches (facility location: a few hundred of ~7,500 rows) to the model's row-subset
#: path.
FULL_PASS_SHARE = 0.8


def _table(conv: Any, target: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
    """[left(target); right(source); edge weight], written in place (the Linears' own addmm and
    mm, so the same values as calling them)."""
    n_t, n_s = target.shape[0], source.shape[0]
    table = target.new_empty((n_t + n_s + 1, conv.left.weight.shape[0]))
    torch.addmm(conv.left.bias, target, conv.left.weight.t(), out=table[:n_t])
    torch.mm(source, conv.right.weight.t(), out=table[n_t : n_t + n_s])
    table[n_t + n_s] = conv.edge.weight[:, 0]
    return table


class _Laps:
    """Adds the CPU seconds since the previous lap to ``split[name]`` (nothing when None)."""

    def __init__(self, split: dict[str, list[float]] | None) -> None:
        self.split = split
        self.last = time.process_time() if split is not None else 0.0

    def __call__(self, name: str) -> None:
        if self.split is not None:
            now = time.process_time()
            self.split.setdefault(name, []).append(now - self.last)
            self.last = now


class _EdgeCache:
    """What a scorer keeps per edge list (static while the LP rows stay the same)."""

    def __init__(
        self, gnn: Any, edge_index: np.ndarray, edge_features: np.ndarray, n_cons: int, n_vars: int
    ) -> None:
        self.edge_index = edge_index  # the arrays this cache was built from: identity is the key
        self.edge_features = edge_features
        self.n_cons, self.n_vars = n_cons, n_vars
        rows, cols = edge_index[0], edge_index[1]
        n_edges = int(rows.shape[0])
        e = gnn.norm_e(torch.from_numpy(edge_features))  # as the model standardises them
        self.e = e
        row_deg = np.bincount(rows, minlength=n_cons)
        # The fast path needs edges sorted by row (both observation functions list them so) and
        # a column index per graph column.
        self.usable = bool(
            n_edges > 0 and edge_features.shape[1:] == (1,) and row_deg.shape[0] == n_cons
            and np.all(rows[1:] >= rows[:-1])
            and int(cols.min()) >= 0 and int(cols.max()) < n_vars
        )  # fmt: skip
        if not self.usable:
            return
        self.n_edges = n_edges
        self.row_deg = row_deg
        self.row_degree = torch.from_numpy(row_deg).to(e.dtype).unsqueeze(-1)
        # First convolution (variables -> rows), table [left(c); right(v); edge weight].
        self.first = message_bags(
            rows, cols, e[:, 0].numpy(), np.concatenate([[0], np.cumsum(row_deg)]), source_row=n_cons,
            weight_row=n_cons + n_vars,
        )  # fmt: skip
        # Edges grouped by column, each column's edges in edge order (a stable sort).
        order = np.argsort(cols, kind="stable")
        self.col_ptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=n_vars))])
        self.col_rows = rows[order]
        self.col_e = e[:, 0].numpy()[order]

    def matches(
        self, edge_index: np.ndarray, edge_features: np.ndarray, n_cons: int, n_vars: int
    ) -> bool:
        return (
            edge_index is self.edge_index and edge_features is self.edge_features
            and n_cons == self.n_cons and n_vars == self.n_vars
        )  # fmt: skip


class NodeScorer:
    """The candidates' logits of a :class:`~orlearn.branching.model.BranchingGNN` at one node,
    fast (see the module docstring); one per policy, caching one edge list at a time.

    The model's weights are read at every call (nothing is folded), so the scorer stays right
    if they change; the edge cache is keyed by the identity of the observation's edge arrays,
    which observation functions never modify in place.
    """

    def __init__(self, gnn: Any) -> None:
        self.gnn = gnn
        self._cache: _EdgeCache | None = None
        from orlearn.branching.model import BranchingGNN

        #: False: always the model's own pass (the reference of scripts/ab_branching_node.py).
        #: Only a BranchingGNN itself (not a subclass or another module) has a fast path.
        self.fast = type(gnn) is BranchingGNN
        #: A dict to add each step's CPU seconds of the fast path to (scripts/ab_branching_node.py
        #: --split), or None.
        self.split: dict[str, list[float]] | None = None
        self.fast_calls = 0
        self.reference_calls = 0

    def _edges(
        self, edge_index: np.ndarray, edge_features: np.ndarray, n_cons: int, n_vars: int
    ) -> _EdgeCache:
        cache = self._cache
        if cache is None or not cache.matches(edge_index, edge_features, n_cons, n_vars):
            cache = self._cache = _EdgeCache(self.gnn, edge_index, edge_features, n_cons, n_vars)
        return cache

    def scores(
        self, x_c: torch.Tensor, x_v: torch.Tensor, edge_index: np.ndarray,
        edge_features: np.ndarray, candidates: np.ndarray,
    ) -> torch.Tensor:  # fmt: skip
        """Logits of ``candidates`` (graph columns), as ``gnn(data, candidates)``."""
        n_c, n_v = int(x_c.shape[0]), int(x_v.shape[0])
        lap = _Laps(self.split)
        cache = None
        if self.fast and not torch.is_grad_enabled() and candidates.shape[0] > 0:
            cache = self._edges(edge_index, edge_features, n_c, n_v)
            if not cache.usable:
                cache = None
        if cache is None:
            self.reference_calls += 1
            return self.reference(x_c, x_v, edge_index, edge_features, candidates)
        self.fast_calls += 1
        gnn = self.gnn
        cands = np.ascontiguousarray(candidates, dtype=np.int64)
        # The candidates' edges, grouped by candidate (each candidate's in edge order).
        starts, ends = cache.col_ptr[cands], cache.col_ptr[cands + 1]
        lens = ends - starts
        seg = np.concatenate([[0], np.cumsum(lens)])
        pos = np.arange(int(seg[-1]), dtype=np.int64) + np.repeat(starts - seg[:-1], lens)
        reached = np.zeros(n_c, dtype=bool)
        reached[cache.col_rows[pos]] = True
        if pos.shape[0] == 0 or int(cache.row_deg[reached].sum()) < FULL_PASS_SHARE * cache.n_edges:
            # The candidates reach a small part of the graph: the model's row-subset path.
            self.fast_calls -= 1
            self.reference_calls += 1
            return self.reference(x_c, x_v, edge_index, edge_features, candidates)
        lap("inference: cache lookup, candidate edges")
        c = gnn.embed_c(gnn.norm_c(x_c))
        v = gnn.embed_v(gnn.norm_v(x_v))
        lap("inference: input embeddings")
        # Variables -> rows over every edge.
        conv = gnn.conv_v_to_c
        summed = message_sums(cache.first, _table(conv, c, v), n_c)
        agg = conv.final(summed) + (cache.row_degree - 1.0) * conv.final.bias
        c = conv.out(torch.cat([conv.post(agg), c], dim=-1))
        lap("inference: first convolution, all edges")
        # Rows -> candidates over the candidates' edges only.
        conv = gnn.conv_c_to_v
        v_cand = v.index_select(0, torch.from_numpy(cands))
        n_k = cands.shape[0]
        bags = message_bags(
            np.repeat(np.arange(n_k, dtype=np.int64), lens), cache.col_rows[pos],
            cache.col_e[pos], seg, source_row=n_k, weight_row=n_k + n_c,
        )  # fmt: skip
        summed = message_sums(bags, _table(conv, v_cand, c), n_k)
        degree = torch.from_numpy(lens).to(summed.dtype).unsqueeze(-1)
        agg = conv.final(summed) + (degree - 1.0) * conv.final.bias
        out = conv.out(torch.cat([conv.post(agg), v_cand], dim=-1))
        logits = gnn.head(out).squeeze(-1)
        lap("inference: second convolution and head")
        return logits

    def release(self) -> None:
        """Drop the cached edge list (the end of a solve)."""
        self._cache = None

    def warm_up(self) -> None:
        """One fast forward pass on a 2-row, 3-column graph, so that torch's one-time set-up
        (~7-10 ms CPU in a fresh process) falls before the solve instead of on its first
        learned node; nothing of it stays cached or counted."""
        if not self.fast:
            return
        gnn = self.gnn
        n_c, n_v = gnn.norm_c.mean.shape[0], gnn.norm_v.mean.shape[0]
        edge_index = np.array([[0, 0, 1], [0, 1, 2]], dtype=np.int64)
        with torch.inference_mode():
            self.scores(
                torch.zeros(2, n_c), torch.zeros(3, n_v), edge_index, np.zeros((3, 1), dtype=np.float32),
                np.arange(3, dtype=np.int64),
            )  # fmt: skip
        self._cache = None
        self.fast_calls = self.reference_calls = 0

    def reference(
        self, x_c: torch.Tensor, x_v: torch.Tensor, edge_index: np.ndarray,
        edge_features: np.ndarray, candidates: np.ndarray,
    ) -> torch.Tensor:  # fmt: skip
        """The model's own forward pass (torch-geometric data, no cache)."""
        from orlearn.branching.model import BipartiteData

        data = BipartiteData(
            x_c=x_c, x_v=x_v, edge_index=torch.from_numpy(edge_index),
            edge_attr=torch.from_numpy(edge_features),
        )  # fmt: skip
        return self.gnn(data, torch.from_numpy(candidates))
