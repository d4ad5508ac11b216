"""The bipartite graph convolutional network of Gasse et al. (2019), with torch-geometric.

Inputs are standardised with statistics fitted on the training data (stored in the policy file);
constraint and variable features are embedded (two layers, ReLU), then one
variable-to-constraint and one constraint-to-variable convolution update the embeddings, and an
MLP head gives one logit per variable. ``embed`` returns the variable embeddings on their own so
that other policies (e.g. reinforcement learning over the same graph) can reuse the encoder.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch_geometric.data import Data
from torch_geometric.nn import MessagePassing

from orlearn.branching.observation import N_CONS_FEATURES, N_EDGE_FEATURES, N_VAR_FEATURES


class BipartiteData(Data):
    """A node's graph: ``x_c`` constraints, ``x_v`` variables, ``edge_index`` [constraint, var].

    ``candidates`` and ``y`` (the expert's column) index variables, so batching shifts them by
    the number of variables, and ``edge_index`` by (constraints, variables).
    """

    def __inc__(self, key: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        if key == "edge_index":
            return torch.tensor([[self.x_c.size(0)], [self.x_v.size(0)]])
        if key in ("candidates", "y"):
            return self.x_v.size(0)
        return super().__inc__(key, value, *args, **kwargs)


class Standardize(nn.Module):
    """(x - mean) / std with statistics set by :meth:`fit` or loaded from a policy file."""

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(n_features), persistent=False)
        self.register_buffer("std", torch.ones(n_features), persistent=False)

    def fit(self, x: torch.Tensor) -> None:
        """Set the statistics from the rows of ``x``; constant features keep a scale of 1."""
        self.mean.copy_(x.mean(0))
        std = x.std(0, unbiased=False)
        self.std.copy_(torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class FixedScale(nn.Module):
    """Multiplies by one scalar (a buffer set when a policy is loaded, not trained)."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("scale", torch.ones(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.scale


#: Edges per chunk of the gradient-free message pass: (chunk, emb) float32 blocks fit in L2
#: (4,096 x 32 floats: 512 KB per block; 3-8 % faster than 8,192 per set cover forward pass in
#: scripts/ab_branching_inference.py).
CHUNK_EDGES = 4096


class BipartiteConv(MessagePassing):
    """Gasse's graph convolution from a source side to a target side of the bipartite graph.

    A message is ``final(left(target) + edge(coef) + right(source))`` with ``final`` = ReLU,
    Linear, as in Gasse et al. (whose fixed pre-scaling before the ReLU folds into the Linear).
    The closing Linear is applied after the sum over a target's edges (a sum of affine maps is
    the affine map of the sum plus ``(degree - 1)`` biases): the same function at a fraction of
    the per-edge work, since ``left`` and ``right`` also run once per node, not once per edge.
    After the sum, ``post="layer"`` applies a LayerNorm (orlearn's own policies), ``post="scale"``
    Gasse's fixed post-convolution scaling (a scalar fitted on training data; published policies).
    """

    def __init__(self, emb: int, n_edge: int = N_EDGE_FEATURES, post: str = "layer") -> None:
        super().__init__(aggr="add")
        self.left = nn.Linear(emb, emb)  # target
        self.edge = nn.Linear(n_edge, emb, bias=False)
        self.right = nn.Linear(emb, emb, bias=False)  # source
        self.final = nn.Linear(emb, emb)
        if post == "layer":
            self.post: nn.Module = nn.LayerNorm(emb)
        elif post == "scale":
            self.post = FixedScale()
        else:
            raise ValueError(f"unknown post-convolution normalisation {post!r}")
        self.out = nn.Sequential(nn.Linear(2 * emb, emb), nn.ReLU(), nn.Linear(emb, emb))

    def forward(
        self, x_src: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor,
        x_dst: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        """``edge_index`` is [source, target]; returns the new target embeddings."""
        n_dst = x_dst.size(0)
        src, dst = self.right(x_src), self.left(x_dst)
        if torch.is_grad_enabled():
            summed = self.propagate(
                edge_index, x=(src, dst), edge_attr=edge_attr, size=(x_src.size(0), n_dst)
            )
        else:
            summed = self._sum_messages(src, dst, edge_index, edge_attr)
        degree = torch.bincount(edge_index[1], minlength=n_dst).to(x_dst.dtype).unsqueeze(-1)
        agg = self.final(summed) + (degree - 1.0) * self.final.bias
        return self.out(torch.cat([self.post(agg), x_dst], dim=-1))

    def _sum_messages(
        self, src: torch.Tensor, dst: torch.Tensor, edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
    ) -> torch.Tensor:  # fmt: skip
        """What ``propagate`` sums per target, without gradients, in chunks of edges.

        The (edges, emb) message tensor of a set cover LP is several MB: streamed through RAM
        once per operation (two gathers, two adds, ReLU, scatter). Chunks of ``CHUNK_EDGES``
        edges stay in cache between those operations (setcover/small: 2.1 -> 1.5 ms per pass).
        Each target's messages are still added in edge order: the same sums as ``propagate``.
        """
        out = torch.zeros_like(dst)
        n_edges = edge_index.size(1)
        if n_edges == 0:
            return out
        size = min(CHUNK_EDGES, n_edges)
        gathered = torch.empty(size, dst.size(1), dtype=dst.dtype)
        other = torch.empty_like(gathered)
        weight = self.edge.weight.t()
        for start in range(0, n_edges, size):
            stop = min(start + size, n_edges)
            j, i = edge_index[0, start:stop], edge_index[1, start:stop]  # source, target
            msg = torch.index_select(dst, 0, i, out=gathered[: stop - start])
            msg.add_(torch.index_select(src, 0, j, out=other[: stop - start]))
            msg.addcmul_(edge_attr[start:stop], weight).relu_()
            out.index_add_(0, i, msg)
        return out

    def message(self, x_i: torch.Tensor, x_j: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        # In place throughout: every fresh (E, emb) tensor costs page faults, and these
        # ops need none of their inputs for backward. (E, 1) coefficients x (1, emb) edge weight.
        # x_i is a fresh gather made by propagate, so the sum can go in place too.
        return x_i.add_(x_j).addcmul_(edge_attr, self.edge.weight.t()).relu_()


class BranchingGNN(nn.Module):
    """One logit per variable of a (batched) :class:`BipartiteData`."""

    def __init__(
        self,
        emb: int = 64,
        n_cons: int = N_CONS_FEATURES,
        n_var: int = N_VAR_FEATURES,
        n_edge: int = N_EDGE_FEATURES,
        post: str = "layer",
    ) -> None:
        super().__init__()
        self.emb = emb
        # Feature counts and normalisation other than orlearn's own: published policies.
        self._other = {"n_cons": n_cons, "n_var": n_var, "n_edge": n_edge, "post": post}
        self.norm_c = Standardize(n_cons)
        self.norm_v = Standardize(n_var)
        self.norm_e = Standardize(n_edge)
        self.embed_c = nn.Sequential(nn.Linear(n_cons, emb), nn.ReLU(), nn.Linear(emb, emb), nn.ReLU())
        self.embed_v = nn.Sequential(nn.Linear(n_var, emb), nn.ReLU(), nn.Linear(emb, emb), nn.ReLU())
        self.conv_v_to_c = BipartiteConv(emb, n_edge, post)
        self.conv_c_to_v = BipartiteConv(emb, n_edge, post)
        self.head = nn.Sequential(nn.Linear(emb, emb), nn.ReLU(), nn.Linear(emb, 1, bias=False))

    def hyperparameters(self) -> dict[str, Any]:
        """What :class:`BranchingGNN` needs to be rebuilt (defaults left out)."""
        defaults = {"n_cons": N_CONS_FEATURES, "n_var": N_VAR_FEATURES, "n_edge": N_EDGE_FEATURES, "post": "layer"}
        return {"emb": self.emb} | {k: v for k, v in self._other.items() if v != defaults[k]}

    def normalization(self) -> dict[str, torch.Tensor]:
        """The standardisation statistics, for the policy file's ``extra``."""
        return {
            f"{side}_{stat}": getattr(getattr(self, f"norm_{side}"), stat).clone()
            for side in ("c", "v", "e")
            for stat in ("mean", "std")
        }

    def load_normalization(self, stats: dict[str, torch.Tensor]) -> None:
        for key, value in stats.items():
            side, stat = key.split("_")
            getattr(getattr(self, f"norm_{side}"), stat).copy_(torch.as_tensor(value))

    def embed(self, data: Data, variables: torch.Tensor | None = None) -> torch.Tensor:
        """Variable embeddings (n_vars, emb) after both convolutions, or only those of the
        ``variables`` (indices, in that order).

        Asking for a few variables is the same function at a fraction of the cost: the last
        convolution then runs over their edges only (a tenth of the graph for a typical
        candidate set), and the first one only updates the constraints those edges reach (from
        the variables in them): every step is local to a constraint or a variable. On facility
        location, whose candidates touch a few hundred of ~7,500 rows, that skips most of the
        graph; on set cover the candidates reach nearly every row and only the last step shrinks.
        """
        if variables is None:
            c = self.embed_c(self.norm_c(data.x_c))
            v = self.embed_v(self.norm_v(data.x_v))
            e = self.norm_e(data.edge_attr)
            c = self.conv_v_to_c(v, data.edge_index.flip(0), e, c)
            return self.conv_c_to_v(c, data.edge_index, e, v)
        rows, cols = data.edge_index
        n_c, n_v = data.x_c.size(0), data.x_v.size(0)
        # The candidates' edges (positions in the edge list), and the rows they reach.
        # index_select and one nonzero: boolean-mask indexing would run a nonzero per use.
        cand_pos = torch.full((n_v,), -1, dtype=rows.dtype)
        cand_pos[variables] = torch.arange(variables.numel(), dtype=rows.dtype)
        last = torch.nonzero(cand_pos.index_select(0, cols) >= 0).squeeze(1)
        last_rows, last_cols = rows.index_select(0, last), cols.index_select(0, last)
        e_last = self.norm_e(data.edge_attr.index_select(0, last))
        need_c = torch.zeros(n_c, dtype=torch.bool)
        need_c[last_rows] = True
        if bool(need_c.all()):  # every row, so every edge, feeds the first conv (set cover)
            c = self.embed_c(self.norm_c(data.x_c))
            v = self.embed_v(self.norm_v(data.x_v))
            c = self.conv_v_to_c(v, data.edge_index.flip(0), self.norm_e(data.edge_attr), c)
            edge_index = torch.stack([last_rows, cand_pos.index_select(0, last_cols)])
            return self.conv_c_to_v(c, edge_index, e_last, v.index_select(0, variables))
        # Every edge of the needed rows feeds the first convolution.
        first = torch.nonzero(need_c.index_select(0, rows)).squeeze(1)
        first_rows, first_cols = rows.index_select(0, first), cols.index_select(0, first)
        need_v = torch.zeros(n_v, dtype=torch.bool)
        need_v[first_cols] = True
        need_v[variables] = True
        c_pos = torch.cumsum(need_c, 0) - 1  # new index of a kept row
        v_pos = torch.cumsum(need_v, 0) - 1
        c = self.embed_c(self.norm_c(data.x_c[need_c]))
        v = self.embed_v(self.norm_v(data.x_v[need_v]))
        e_first = self.norm_e(data.edge_attr.index_select(0, first))
        first_index = torch.stack([v_pos.index_select(0, first_cols), c_pos.index_select(0, first_rows)])
        c = self.conv_v_to_c(v, first_index, e_first, c)
        edge_index = torch.stack([c_pos.index_select(0, last_rows), cand_pos.index_select(0, last_cols)])
        return self.conv_c_to_v(c, edge_index, e_last, v.index_select(0, v_pos.index_select(0, variables)))

    def forward(self, data: Data, variables: torch.Tensor | None = None) -> torch.Tensor:
        """Logits (n_vars,) of every variable, or of the ``variables`` only (see :meth:`embed`);
        mask them to ``data.candidates`` to branch."""
        return self.head(self.embed(data, variables)).squeeze(-1)
