"""The ReviBranch Q-network: the imitation GNN's state embedding plus a path encoder.

For a branching node ``t`` with candidates ``a`` the network reads

* the node's graph through the imitation policy's bipartite GNN encoder
  (:meth:`orlearn.branching.model.BranchingGNN.embed`): variable embeddings ``h_v`` (``emb``
  values each) and the state embedding ``s_t = [mean_v h_v, max_v h_v]`` (``2 emb`` values);
* its revived trajectory: the ``(s_k, h_{a_k})`` pairs (state embedding, embedding of the
  variable branched on) of the decisions on the search-tree path from the root to ``t``, at
  most ``max_path`` of them (the nearest), each projected to one token with a sinusoidal
  positional encoding of its depth; the current state is one more token (at its own depth) and
  a transformer encoder over the tokens gives the context ``c_t`` (the current token's output).

Scores are a dueling Q-function over the candidate set::

    A(t, a) = tau * (head(h_a) - mean_b head(h_b)) + MLP([h_a, c_t]),
    Q(t, a) = V(c_t) + A(t, a) - mean_b A(t, b)

where ``head`` is the imitation GNN's own scoring head and the last layer of the ``MLP`` starts
at zero, so the untrained network ranks the candidates exactly as the imitation policy does:
reinforcement learning starts from the imitation policy and learns a residual on top of it. The
imitation head stays frozen (a fixed prior: regressing returns through it destroyed its ranking
within one round in a first run on cauctions), and so does the GNN encoder (its embeddings
are computed once per decision, when the episode is recorded, so the learner trains on stored
embeddings instead of re-running message passing over every ancestor graph: see
:mod:`orlearn.branching.revibranch.buffer`). With ``revival`` off the path is
empty and the context sees the current state only (the ablation "RL without revival").
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from orlearn.branching.model import BipartiteData, BranchingGNN
from orlearn.branching.observation import FEATURE_VERSION, Observation
from orlearn.errors import PolicyFileError

#: Policy-file kind of a ReviBranch policy (extends the imitation "branching" format).
KIND = "branching-rl"
#: Version of the path features (state pooling, action embedding, positional encoding); a
#: policy or checkpoint made for another one is refused, as for the observation features.
PATH_VERSION = 1


@dataclass
class PathBatch:
    """Padded tensors for ``B`` decisions with at most ``C`` candidates and ``L`` ancestors.

    Masks are True where an entry is real. ``anc_*`` run from the root (index 0) down to the
    parent; ``depth`` and ``anc_depth`` are search-tree depths (0 at the root).
    """

    cand: torch.Tensor  # (B, C, emb) candidate variable embeddings
    cand_mask: torch.Tensor  # (B, C) bool
    state: torch.Tensor  # (B, 2 emb)
    depth: torch.Tensor  # (B,) long
    anc_state: torch.Tensor  # (B, L, 2 emb)
    anc_action: torch.Tensor  # (B, L, emb)
    anc_depth: torch.Tensor  # (B, L) long
    anc_mask: torch.Tensor  # (B, L) bool


def positional_encoding(pos: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal encoding (Vaswani et al. 2017) of integer positions: ``pos.shape + (dim,)``."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)
    angle = pos.to(torch.float32).unsqueeze(-1) * freq
    enc = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)
    if dim % 2:
        enc = torch.cat([enc, torch.zeros(*enc.shape[:-1], 1)], dim=-1)
    return enc


class RevivedQNet(nn.Module):
    """Q-values of the branching candidates from the state and its revived trajectory."""

    def __init__(
        self, emb: int = 64, heads: int = 4, layers: int = 1, max_path: int = 16,
        revival: bool = True, tau: float = 0.1,
    ) -> None:  # fmt: skip
        super().__init__()
        if emb % heads:
            raise ValueError(f"embedding size {emb} is not a multiple of {heads} heads")
        self.emb, self.heads, self.layers = emb, heads, layers
        self.max_path, self.revival = max_path, revival
        self.gnn = BranchingGNN(emb=emb)
        self.gnn.requires_grad_(False)  # imitation encoder and head: frozen (see module doc)
        self.state_proj = nn.Linear(2 * emb, emb)
        self.pair_proj = nn.Linear(3 * emb, emb)
        layer = nn.TransformerEncoderLayer(
            emb, heads, dim_feedforward=2 * emb, dropout=0.0, batch_first=True
        )
        self.path_encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.value = nn.Sequential(nn.Linear(emb, emb), nn.ReLU(), nn.Linear(emb, 1))
        self.advantage = nn.Sequential(nn.Linear(2 * emb, emb), nn.ReLU(), nn.Linear(emb, 1))
        nn.init.zeros_(self.advantage[-1].weight)
        nn.init.zeros_(self.advantage[-1].bias)
        self.log_tau = nn.Parameter(torch.tensor(math.log(tau)))

    def hyperparameters(self) -> dict[str, Any]:
        """What :class:`RevivedQNet` needs to be rebuilt."""
        return {
            "emb": self.emb, "heads": self.heads, "layers": self.layers,
            "max_path": self.max_path, "revival": self.revival,
        }  # fmt: skip

    @torch.no_grad()
    def encode(self, obs: Observation) -> tuple[torch.Tensor, torch.Tensor]:
        """Candidate embeddings (n_cands, emb) and state embedding (2 emb,) of one node."""
        data = BipartiteData(
            x_c=torch.from_numpy(obs.cons_features),
            x_v=torch.from_numpy(obs.var_features),
            edge_index=torch.from_numpy(obs.edge_index),
            edge_attr=torch.from_numpy(obs.edge_features),
        )
        h = self.gnn.embed(data)
        state = torch.cat([h.mean(0), h.max(0).values])
        return h[torch.from_numpy(obs.candidates)], state

    def q_values(self, batch: PathBatch) -> torch.Tensor:
        """Q-values (B, C); padded candidates get -inf."""
        cur = self.state_proj(batch.state) + positional_encoding(batch.depth, self.emb)
        tokens = cur.unsqueeze(1)
        pad = torch.zeros(cur.shape[0], 1, dtype=torch.bool)
        if self.revival and batch.anc_state.shape[1] > 0:
            pairs = torch.cat([batch.anc_state, batch.anc_action], dim=-1)
            anc = self.pair_proj(pairs) + positional_encoding(batch.anc_depth, self.emb)
            tokens = torch.cat([tokens, anc], dim=1)
            pad = torch.cat([pad, ~batch.anc_mask], dim=1)
        context = self.path_encoder(tokens, src_key_padding_mask=pad)[:, 0]  # (B, emb)

        mask = batch.cand_mask
        n = mask.sum(1, keepdim=True).clamp(min=1)
        base = self.gnn.head(batch.cand).squeeze(-1)
        base = base - (base * mask).sum(1, keepdim=True) / n
        ctx = context.unsqueeze(1).expand(-1, batch.cand.shape[1], -1)
        adv = self.log_tau.exp() * base + self.advantage(torch.cat([batch.cand, ctx], -1)).squeeze(-1)
        adv = adv - (adv * mask).sum(1, keepdim=True) / n
        q = self.value(context) + adv
        return q.masked_fill(~mask, float("-inf"))


def single_batch(
    cand: torch.Tensor, state: torch.Tensor, depth: int,
    ancestors: list[tuple[torch.Tensor, torch.Tensor, int]],
) -> PathBatch:  # fmt: skip
    """A :class:`PathBatch` of one node; ``ancestors`` are (state, action, depth), root first."""
    L = len(ancestors)
    emb = cand.shape[1]
    return PathBatch(
        cand=cand.unsqueeze(0),
        cand_mask=torch.ones(1, cand.shape[0], dtype=torch.bool),
        state=state.unsqueeze(0),
        depth=torch.tensor([depth]),
        anc_state=torch.stack([a[0] for a in ancestors]).unsqueeze(0)
        if L else torch.zeros(1, 0, 2 * emb),
        anc_action=torch.stack([a[1] for a in ancestors]).unsqueeze(0)
        if L else torch.zeros(1, 0, emb),
        anc_depth=torch.tensor([[a[2] for a in ancestors]], dtype=torch.long)
        if L else torch.zeros(1, 0, dtype=torch.long),
        anc_mask=torch.ones(1, L, dtype=torch.bool),
    )  # fmt: skip


@dataclass
class RLBranchingPolicy:
    """A loaded ReviBranch policy (network in eval mode) with its policy-file metadata."""

    net: RevivedQNet
    path: Path | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem if self.path is not None else "revibranch"


def from_imitation(gnn: BranchingGNN, **hyperparameters: Any) -> RevivedQNet:
    """A Q-network whose encoder and scoring head are copies of an imitation GNN's."""
    net = RevivedQNet(emb=gnn.emb, **hyperparameters)
    net.gnn.load_state_dict(gnn.state_dict())
    net.gnn.load_normalization(gnn.normalization())
    return net


def policy_file(net: RevivedQNet, metadata: dict[str, Any] | None = None) -> Any:
    """The :class:`~orlearn.policy_file.PolicyFile` of ``net`` (kind ``branching-rl``)."""
    from orlearn.policy_file import PolicyFile

    return PolicyFile(
        kind=KIND,
        feature_version=FEATURE_VERSION,
        hyperparameters=net.hyperparameters(),
        state_dict={k: v.detach().clone() for k, v in net.state_dict().items()},
        metadata={"path_version": PATH_VERSION, **(metadata or {})},
        extra={"normalization": net.gnn.normalization()},
    )


def save_rl_policy(path: str | Path, net: RevivedQNet, metadata: dict[str, Any] | None = None) -> Path:
    """Write ``net`` as a ``branching-rl`` policy file (plus its model card)."""
    from orlearn.policy_file import save_policy

    return save_policy(path, policy_file(net, metadata))


def net_from_policy_file(pf: Any) -> RevivedQNet:
    """Rebuild the network of a loaded ``branching-rl`` :class:`PolicyFile`."""
    version = pf.metadata.get("path_version")
    if version != PATH_VERSION:
        raise PolicyFileError(
            f"{pf.path} was made for path-feature version {version} of '{KIND}', this orlearn "
            f"uses version {PATH_VERSION}: retrain the policy"
        )
    try:
        net = RevivedQNet(**pf.hyperparameters)
        net.load_state_dict(pf.state_dict)
        net.gnn.load_normalization(pf.extra["normalization"])
    except Exception as exc:  # wrong keys or shapes: the file does not fit this network
        raise PolicyFileError(f"{pf.path} does not hold a valid ReviBranch network ({exc})") from exc
    return net


def load_rl_policy(path: str | Path) -> RLBranchingPolicy:
    """Load a ``branching-rl`` policy file; PolicyFileError for a bad or mismatched file."""
    from orlearn.policy_file import load_policy

    pf = load_policy(path, kind=KIND, feature_version=FEATURE_VERSION)
    net = net_from_policy_file(pf)
    net.eval()
    return RLBranchingPolicy(net=net, path=Path(path), metadata=pf.metadata)
