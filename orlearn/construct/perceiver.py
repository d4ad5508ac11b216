"""BQ-PerceiverIO: the BQ-NCO policy with a PerceiverIO backbone (Drakulic et al., NeurIPS 2023,
appendix "BQ-perceiver"; the authors' code: naver/bq-nco, branch ``perceiver``).

The node tokens are embedded, a cross-attention *encoder* writes them into a small learned latent
array (64 x 48 in the paper), self-attention layers work on the latents only, and a
cross-attention *decoder* lets every node token read the latents back; a linear head gives one
score per action. The cost of a step is linear in the number of nodes.

Attention is parametrised per head as in the paper: for head ``h`` the query, key, value and
output maps are separate ``(dim, head_dim)`` matrices (key and value with a bias), so that the
source and target sides of a cross-attention may have different widths; ``head_dim`` is the
source width divided by the number of heads. Blocks are pre-LayerNorm residual blocks:
``t <- t + attn(LN(s), LN(t)); t <- t + FF(LN(t))``.

Inputs, as the paper defines them (no positional encoding: the network is equivariant to the
order of the tokens, and two learned marker vectors tell the origin and the destination apart):

* TSP: the coordinates of each node (unit square); markers on the origin (the path's last node)
  and the destination (its first node).
* CVRP: coordinates, demand / capacity, remaining capacity / capacity (the same on every token);
  markers on the origin and on the depot. Two scores per customer: go there directly, or via the
  depot (a reload).

Coordinates are fed as they are (the authors do not renormalise sub-problems); instances outside
the unit square are scaled into it once, when the state is built
(:func:`orlearn.construct.problems.base.unit_square`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

# The paper's BQ-perceiver (args of the authors' branch): embedding 192, latent array 64 x 48,
# 8 heads, 9 latent self-attention layers, feed-forward 512, ReLU.
DEFAULTS: dict[str, Any] = {
    "d_model": 192, "n_layers": 9, "n_heads": 8, "d_ff": 512, "latent_len": 64, "latent_dim": 48,
}

# Problems the paper defines BQ-perceiver inputs for: features per token, actions per token.
INPUTS = {"tsp": (2, 1), "cvrp": (4, 2)}


class HeadwiseAttention(nn.Module):
    """Multi-head attention of ``target`` tokens (queries) over ``source`` tokens (keys and
    values), with one ``(dim, head_dim)`` matrix per head for each of the four maps."""

    def __init__(self, source_dim: int, target_dim: int, n_heads: int) -> None:
        super().__init__()
        if source_dim % n_heads:
            raise ValueError(f"source width {source_dim} is not a multiple of {n_heads} heads")
        hd = source_dim // n_heads
        self.n_heads, self.head_dim = n_heads, hd
        self.query = nn.Parameter(torch.empty(n_heads, target_dim, hd))
        self.key = nn.Parameter(torch.empty(n_heads, source_dim, hd))
        self.key_bias = nn.Parameter(torch.zeros(n_heads, hd))
        self.value = nn.Parameter(torch.empty(n_heads, source_dim, hd))
        self.value_bias = nn.Parameter(torch.zeros(n_heads, hd))
        self.out = nn.Parameter(torch.empty(n_heads, target_dim, hd))
        for p in (self.query, self.key, self.value, self.out):
            nn.init.xavier_uniform_(p)

    def _project(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        # (B, L, dim) x (heads, dim, hd) -> (B, heads, L, hd) as one matmul
        b, length, _ = x.shape
        flat = w.permute(1, 0, 2).reshape(w.shape[1], -1)
        return (x @ flat).reshape(b, length, self.n_heads, self.head_dim).transpose(1, 2)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        q = self._project(target, self.query)
        k = self._project(source, self.key) + self.key_bias[:, None]
        # The value bias may be added before the weighted sum: attention weights sum to one.
        v = self._project(source, self.value) + self.value_bias[:, None]
        a = F.scaled_dot_product_attention(q, k, v)  # (B, heads, L_t, hd), scale hd^-1/2
        b, _, length, _ = a.shape
        out = self.out.permute(0, 2, 1).reshape(-1, self.out.shape[1])  # (heads * hd, target_dim)
        return a.transpose(1, 2).reshape(b, length, -1) @ out


class Block(nn.Module):
    """Pre-LayerNorm residual block: cross- (or self-) attention of the target over the source,
    then a ReLU feed-forward on the target."""

    def __init__(self, source_dim: int, target_dim: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        self.attn = HeadwiseAttention(source_dim, target_dim, n_heads)
        self.norm_source = nn.LayerNorm(source_dim)
        self.norm_target = nn.LayerNorm(target_dim)
        self.norm_ff = nn.LayerNorm(target_dim)
        self.ff = nn.Sequential(nn.Linear(target_dim, d_ff), nn.ReLU(), nn.Linear(d_ff, target_dim))

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        h = target + self.attn(self.norm_source(source), self.norm_target(target))
        return h + self.ff(self.norm_ff(h))


class PerceiverPolicy(nn.Module):
    """Token features (B, L, F) -> masked logits (B, L * actions_per_token), with marker vectors
    added to the embeddings of the tokens at ``begin`` and ``end`` (B,) positions."""

    # The authors decode every sub-problem in full (a step is linear in its size), so decoding
    # switches to k nearest candidates only when asked to.
    auto_knn = False

    def __init__(
        self,
        problem: str,
        *,
        d_model: int = DEFAULTS["d_model"],
        n_layers: int = DEFAULTS["n_layers"],
        n_heads: int = DEFAULTS["n_heads"],
        d_ff: int = DEFAULTS["d_ff"],
        latent_len: int = DEFAULTS["latent_len"],
        latent_dim: int = DEFAULTS["latent_dim"],
    ) -> None:
        super().__init__()
        if problem not in INPUTS:
            raise ValueError(f"BQ-perceiver inputs are defined for {', '.join(INPUTS)}, not {problem}")
        n_features, self.actions_per_token = INPUTS[problem]
        self.problem = problem
        self.hyperparameters = {
            "arch": "perceiver", "d_model": d_model, "n_layers": n_layers, "n_heads": n_heads,
            "d_ff": d_ff, "latent_len": latent_len, "latent_dim": latent_dim,
        }
        self.embed = nn.Linear(n_features, d_model)
        self.markers = nn.Embedding(2, d_model)  # 0: origin (path start), 1: destination / depot
        self.latents = nn.Parameter(torch.empty(1, latent_len, latent_dim))
        nn.init.xavier_uniform_(self.latents)
        self.encode = Block(d_model, latent_dim, n_heads, d_ff)
        self.process = nn.ModuleList(
            Block(latent_dim, latent_dim, n_heads, d_ff) for _ in range(n_layers)
        )
        self.decode = Block(latent_dim, d_model, n_heads, d_ff)
        self.head = nn.Linear(d_model, self.actions_per_token)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, begin: torch.Tensor, end: torch.Tensor
    ) -> torch.Tensor:
        b, length, _ = x.shape
        ar = torch.arange(b)
        marks = torch.zeros(b, length, dtype=torch.long, device=x.device)
        marks[ar, begin], marks[ar, end] = 1, 2
        table = torch.cat([torch.zeros_like(self.markers.weight[:1]), self.markers.weight])
        tokens = self.embed(x) + table[marks]
        latent = self.encode(tokens, self.latents.expand(b, -1, -1))
        for block in self.process:
            latent = block(latent, latent)
        tokens = self.decode(latent, tokens)
        logits = self.head(tokens).reshape(b, length * self.actions_per_token)
        return logits.masked_fill(~mask.reshape(b, -1), float("-inf"))

    def logits(self, problem: Any, state: Any) -> torch.Tensor:
        """Masked logits (B, L * A) on a batched state of ``problem``."""
        x, begin, end = inputs(problem.name, state)
        return self(x, problem.mask(state), begin, end)


def inputs(problem: str, state: Any) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The paper's token features of a reduced state and the positions (B,) of the origin and
    destination tokens (TSP: origin 0, destination 1; CVRP: origin 1, depot 0)."""
    b = state.batch
    if problem == "tsp":
        zeros, ones = torch.zeros(b, dtype=torch.long), torch.ones(b, dtype=torch.long)
        return state.coords, zeros, ones
    if problem == "cvrp":
        cap = state.capacity[:, None]
        left = (state.left[:, None] / cap).expand(b, state.size)
        x = torch.cat([state.coords, (state.demands / cap)[..., None], left[..., None]], -1)
        return x, torch.ones(b, dtype=torch.long), torch.zeros(b, dtype=torch.long)
    raise ValueError(f"no BQ-perceiver inputs for {problem}")
