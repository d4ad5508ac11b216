"""The ReviBranch Q-network: the imitation GNN's state embedding plus a path encoder.

For a branching node ``t`` with candidates ``a`` the network reads

* the node's graph through the imitation policy's bipartite GNN encoder
  (:meth:`orlearn.branching.model.BranchingGNN.embed`): the candidates' embeddings ``h_a``
  (``emb`` values each) and the state embedding ``s_t = [mean_a h_a, max_a h_a]`` (``2 emb``
  values; pooled over the candidates, which the imitation rule embeds anyway, rather than over
  every variable: path version 3 pooled all of them and that cost half of a decision);
* its revived trajectory: the ``(s_k, h_{a_k})`` pairs (state embedding, embedding of the
  variable branched on) of the decisions on the search-tree path from the root to ``t``, at
  most ``max_path`` of them (the nearest), each projected to one token with a sinusoidal
  positional encoding of its depth; the current state is one more token (at its own depth) and
  a transformer encoder over the tokens gives the context ``c_t`` (the current token's output).

The network learns a dueling Q-function over the candidate set with a *bounded* residual
advantage, and acts KL-regularised towards the imitation policy ``pi_0`` (the imitation GNN's
own scoring head, frozen)::

    Q(t, a)     = V(c_t) + b S(c_t) (u(t, a) - mean_b u(t, b)),    u = tanh(MLP([h_a, c_t]))
    V(c_t)      = -softplus(MLP_V(c_t))         (returns are minus tree sizes, never positive)
    S(c_t)      = softplus(MLP_S(c_t))          (the node's stake: its subtree / reference tree)
    score(t, a) = lambda log pi_0(a | t) + Q(t, a)                 (the rule branches on the max)

*Why this form (safety by construction).* The greedy policy of the KL-regularised objective
``max_pi E[return] - lambda KL(pi || pi_0)`` at a node is ``pi(a) ~ pi_0(a) exp(Q(a) / lambda)``,
whose mode is the argmax of ``score``: leaving the prior's choice ``a_0`` for ``a`` costs
``lambda (log pi_0(a_0) - log pi_0(a))`` and must be paid for by a Q-gain of the same size.
``lambda`` (``prior_weight``) is in the units of the learner's targets, reference trees per nat:
with the default ``lambda = 0.1``, a candidate the prior finds one nat less likely must promise
10 % of the instance's reference tree fewer nodes below this node. The residual is bounded relative to
the node's stake ``S``, a separate head regressed on the measured size of the decision's
subtree (processed nodes, or LP iterations with the LP reward, over the instance's reference):
a different branching variable can change the node's subtree by at most a fraction ``b``
(``max_advantage``) of its expected size, so two candidates' Q-values differ by at most
``2 b S(c_t)``. Hence, whatever the learned weights, the rule only ever picks
a candidate within ``2 b S / lambda`` nats of the prior's best one (defaults ``b = 0.25``,
``lambda = 0.1``: 5 nats at a node whose subtree is the whole reference tree, 0.5 nats at one
with a tenth of it, where the median gap between the prior's two best candidates is 0.4 nats on
cauctions): deep nodes (small
subtrees, where returns are small and noisy) keep the prior's choice, and the policy can
leave the prior only at nodes whose subtree is a sizeable part of the tree, and only as far
as the learned advantage pays for. The last layer of the MLP starts at zero, so the untrained
network ranks the candidates exactly as the imitation policy does (tests check it, down to the
same search tree). The stake is learned from the subtree sizes, not from ``V``, so that every
ablation gets the same trust region: without reward redistribution every target is the whole
episode's reward, and a bound scaled by ``|V|`` (path version 3) opened the region at every
depth for that variant only. (A first version added an unbounded residual to ``0.1 x`` the prior's
logits; after 360 updates the residual's noise overrode the prior in 99.7 % of the states and
the trees grew 150-fold: docs/revibranch.md.)

The imitation encoder and head stay frozen (regressing returns through the head destroyed its
ranking within one round in a first run on cauctions), and the GNN embeddings are computed once
per decision, when the episode is recorded, so the learner trains on stored embeddings instead
of re-running message passing over every ancestor graph: see
:mod:`orlearn.branching.revibranch.buffer`. With ``revival`` off the path is
empty and the context sees the current state only (the ablation "RL without revival").

*The prior's observation.* The network reads the graph its prior was trained on: orlearn's own
features (:class:`~orlearn.branching.observation.ObservationBuilder`, an imitation policy of
``orlearn branching train``) or Ecole's ``NodeBipartite`` (a published rl2branch ``il.pkl``,
:mod:`orlearn.branching.published`). :func:`from_imitation` takes the observation's name
(``observation``, one of :data:`OBSERVATIONS`) and the prior GNN's shape (feature counts,
post-convolution normalisation) from the prior, the policy file keeps both, and
:meth:`RLBranchingPolicy.observation_function` gives the rule that observation again.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from orlearn.branching.ecole_observation import NodeBipartite
from orlearn.branching.model import BipartiteData, BranchingGNN
from orlearn.branching.observation import (
    FEATURE_VERSION,
    Observation,
    ObservationBuilder,
    ObservationFunction,
)
from orlearn.branching.revibranch import MAX_ADVANTAGE, PRIOR_WEIGHT
from orlearn.errors import PolicyFileError

#: Policy-file kind of a ReviBranch policy (extends the imitation "branching" format).
KIND = "branching-rl"
#: softplus(-4) = 0.018: the initial |V| and stake S (reference trees), see RevivedQNet.
VALUE_INIT_BIAS = -4.0
#: Version of the path features (state pooling, action embedding, positional encoding) and of
#: the Q-function's form (3: bounded residual, V <= 0, KL-regularised scores; 4: state pooled
#: over the candidates, residual bounded by a learned stake); a policy or checkpoint made for
#: another one is refused, as for the observation features.
PATH_VERSION = 4
#: The observation functions a prior may read, by name (``ObservationFunction.name``).
OBSERVATIONS: dict[str, type] = {ObservationBuilder.name: ObservationBuilder, NodeBipartite.name: NodeBipartite}


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


@functools.lru_cache(maxsize=8)
def _frequencies(half: int) -> torch.Tensor:
    # Computed once per size (the rule encodes positions twice per node); made outside
    # inference mode so that training may use the same tensor.
    with torch.inference_mode(False):
        return torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float32) / half)


def positional_encoding(pos: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal encoding (Vaswani et al. 2017) of integer positions: ``pos.shape + (dim,)``."""
    half = dim // 2
    angle = pos.to(torch.float32).unsqueeze(-1) * _frequencies(half)
    enc = torch.cat([torch.sin(angle), torch.cos(angle)], dim=-1)
    if dim % 2:
        enc = torch.cat([enc, torch.zeros(*enc.shape[:-1], 1)], dim=-1)
    return enc


class RevivedQNet(nn.Module):
    """Q-values of the branching candidates from the state and its revived trajectory."""

    def __init__(
        self, emb: int = 64, heads: int = 4, layers: int = 1, max_path: int = 16,
        revival: bool = True, prior_weight: float = PRIOR_WEIGHT,
        max_advantage: float = MAX_ADVANTAGE, observation: str = ObservationBuilder.name,
        gnn: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """``observation``: the name of the features the prior reads (:data:`OBSERVATIONS`);
        ``gnn``: the prior :class:`BranchingGNN`'s arguments besides ``emb`` (feature counts,
        ``post``), for a prior that does not read orlearn's own features."""
        super().__init__()
        if observation not in OBSERVATIONS:
            known = ", ".join(sorted(OBSERVATIONS))
            raise ValueError(f"unknown observation {observation!r} (known: {known})")
        if emb % heads:
            raise ValueError(f"embedding size {emb} is not a multiple of {heads} heads")
        if not (prior_weight > 0 and math.isfinite(prior_weight)):
            raise ValueError(f"prior weight must be a positive number, got {prior_weight}")
        if not (max_advantage >= 0 and math.isfinite(max_advantage)):
            raise ValueError(f"max advantage must be a non-negative number, got {max_advantage}")
        self.prior_weight, self.max_advantage = float(prior_weight), float(max_advantage)
        self.emb, self.heads, self.layers = emb, heads, layers
        self.max_path, self.revival = max_path, revival
        self.observation = observation
        self.gnn_args = dict(gnn or {})
        self.gnn = BranchingGNN(emb=emb, **self.gnn_args)
        self.gnn.requires_grad_(False)  # imitation encoder and head: frozen (see module doc)
        self.state_proj = nn.Linear(2 * emb, emb)
        self.pair_proj = nn.Linear(3 * emb, emb)
        layer = nn.TransformerEncoderLayer(
            emb, heads, dim_feedforward=2 * emb, dropout=0.0, batch_first=True
        )
        self.path_encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.value = nn.Sequential(nn.Linear(emb, emb), nn.ReLU(), nn.Linear(emb, 1))
        self.stake = nn.Sequential(nn.Linear(emb, emb), nn.ReLU(), nn.Linear(emb, 1))
        self.advantage = nn.Sequential(nn.Linear(2 * emb, emb), nn.ReLU(), nn.Linear(emb, 1))
        nn.init.zeros_(self.advantage[-1].weight)
        nn.init.zeros_(self.advantage[-1].bias)
        # V starts at about -0.02 reference trees: every node is assumed to hold little until the
        # returns show otherwise, so the trust region (2 b S / lambda nats) starts almost closed.
        nn.init.constant_(self.value[-1].bias, VALUE_INIT_BIAS)
        nn.init.constant_(self.stake[-1].bias, VALUE_INIT_BIAS)

    def hyperparameters(self) -> dict[str, Any]:
        """What :class:`RevivedQNet` needs to be rebuilt (the observation and the prior GNN's
        shape only when they are not orlearn's own)."""
        hp = {
            "emb": self.emb, "heads": self.heads, "layers": self.layers,
            "max_path": self.max_path, "revival": self.revival,
            "prior_weight": self.prior_weight, "max_advantage": self.max_advantage,
        }  # fmt: skip
        if self.observation != ObservationBuilder.name:
            hp["observation"] = self.observation
        if self.gnn_args:
            hp["gnn"] = dict(self.gnn_args)
        return hp

    def observation_function(self) -> ObservationFunction:
        """A fresh observation function of the features the prior (and so this network) reads."""
        return OBSERVATIONS[self.observation]()

    @torch.no_grad()
    def encode(self, obs: Observation) -> tuple[torch.Tensor, torch.Tensor]:
        """Candidate embeddings (n_cands, emb) and state embedding (2 emb,) of one node: the
        mean and max of the candidates' embeddings."""
        x_v = torch.from_numpy(obs.var_features)
        if self.observation == NodeBipartite.name:
            # Ecole's incumbent features are NaN before the first solution; rl2branch's model
            # (and PublishedPolicy) reads them as 0.
            x_v = torch.nan_to_num(x_v, nan=0.0)
        data = BipartiteData(
            x_c=torch.from_numpy(obs.cons_features),
            x_v=x_v,
            edge_index=torch.from_numpy(obs.edge_index),
            edge_attr=torch.from_numpy(obs.edge_features),
        )
        # Only the candidates' embeddings: the last convolution then runs over their edges
        # only, as in the imitation rule (pooling all variables cost half of a decision).
        h = self.gnn.embed(data, torch.from_numpy(obs.candidates))
        return h, torch.cat([h.mean(0), h.max(0).values])

    def _context(self, batch: PathBatch) -> torch.Tensor:
        """The path encoder's output for the current node: (B, emb)."""
        cur = self.state_proj(batch.state) + positional_encoding(batch.depth, self.emb)
        tokens = cur.unsqueeze(1)
        pad = torch.zeros(cur.shape[0], 1, dtype=torch.bool)
        if self.revival and batch.anc_state.shape[1] > 0:
            pairs = torch.cat([batch.anc_state, batch.anc_action], dim=-1)
            anc = self.pair_proj(pairs) + positional_encoding(batch.anc_depth, self.emb)
            tokens = torch.cat([tokens, anc], dim=1)
            pad = torch.cat([pad, ~batch.anc_mask], dim=1)
        return self.path_encoder(tokens, src_key_padding_mask=pad)[:, 0]

    def _heads(self, batch: PathBatch) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``V`` (B, 1), the stake (B, 1) and the bounded, centred advantage ``Q - V`` (B, C;
        0 on padding)."""
        context = self._context(batch)
        mask = batch.cand_mask
        n = mask.sum(1, keepdim=True).clamp(min=1)
        ctx = context.unsqueeze(1).expand(-1, batch.cand.shape[1], -1)
        u = torch.tanh(self.advantage(torch.cat([batch.cand, ctx], -1)).squeeze(-1)) * mask
        u = (u - u.sum(1, keepdim=True) / n) * mask
        # Returns are minus a tree size: V <= 0 by construction.
        value = -nn.functional.softplus(self.value(context))
        stake = nn.functional.softplus(self.stake(context))
        # The bound scales with the node's subtree; detached so that the residual cannot move it.
        return value, stake, self.max_advantage * stake.detach() * u

    def q_and_stake(self, batch: PathBatch) -> tuple[torch.Tensor, torch.Tensor]:
        """Q-values (B, C) in reference trees (negative; -inf for padding) and the predicted
        stakes (B,)."""
        value, stake, adv = self._heads(batch)
        return (value + adv).masked_fill(~batch.cand_mask, float("-inf")), stake.squeeze(1)

    def prior_log_probs(self, batch: PathBatch) -> torch.Tensor:
        """log pi_0(a | t) of the imitation head over the candidates (B, C); -inf for padding."""
        logits = self.gnn.head(batch.cand).squeeze(-1).masked_fill(~batch.cand_mask, float("-inf"))
        return torch.log_softmax(logits, dim=1)

    def scores(self, batch: PathBatch) -> torch.Tensor:
        """What the rule maximises: ``prior_weight * log pi_0 + Q - V`` (B, C); -inf for padding.

        ``V`` is the same for every candidate of a node, so this ranks as ``lambda log pi_0 + Q``;
        leaving it out keeps the prior's small differences exact in float32.
        """
        _, _, adv = self._heads(batch)
        score = self.prior_weight * self.prior_log_probs(batch) + adv
        return score.masked_fill(~batch.cand_mask, float("-inf"))

    def node_scores(
        self, cand: torch.Tensor, state: torch.Tensor, depth: int,
        ancestors: list[tuple[torch.Tensor, torch.Tensor, int]],
    ) -> torch.Tensor:  # fmt: skip
        """:meth:`scores` of one node (n_cands,), without batching or padding: the rule's path.

        The same function at about a quarter of the cost: the last encoder layer computes only
        the current node's token (the only output read), no value head (it does not rank), no
        masks. ``ancestors``: (state, action embedding, depth), root first.
        """
        cur = self.state_proj(state) + positional_encoding(torch.tensor(depth), self.emb)
        tokens = cur.unsqueeze(0)
        if self.revival and ancestors:
            pairs = torch.stack([torch.cat([s, a]) for s, a, _ in ancestors])
            where = torch.tensor([d for _, _, d in ancestors])
            tokens = torch.cat([tokens, self.pair_proj(pairs) + positional_encoding(where, self.emb)])
        layers = self.path_encoder.layers
        for layer in layers[:-1]:
            tokens = layer(tokens.unsqueeze(0))[0]
        context = _first_token_output(layers[-1], tokens)
        u = torch.tanh(self.advantage(torch.cat([cand, context.expand(cand.shape[0], -1)], -1)))
        u = u.squeeze(-1)
        stake = nn.functional.softplus(self.stake(context))
        prior = torch.log_softmax(self.gnn.head(cand).squeeze(-1), dim=0)
        return self.prior_weight * prior + self.max_advantage * stake * (u - u.mean())


def _first_token_output(layer: nn.TransformerEncoderLayer, x: torch.Tensor) -> torch.Tensor:
    """Output (emb,) of a post-norm encoder layer (no dropout) for the first of the tokens
    ``x`` (T, emb): its self-attention over all of them, residuals, norms, feed-forward."""
    attn = layer.self_attn
    e, heads = x.shape[1], attn.num_heads
    d = e // heads
    w, b = attn.in_proj_weight, attn.in_proj_bias
    q = nn.functional.linear(x[:1], w[:e], b[:e]).view(heads, 1, d)
    k = nn.functional.linear(x, w[e : 2 * e], b[e : 2 * e]).view(-1, heads, d).transpose(0, 1)
    v = nn.functional.linear(x, w[2 * e :], b[2 * e :]).view(-1, heads, d).transpose(0, 1)
    weights = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(d), dim=-1)  # (heads, 1, T)
    h = layer.norm1(x[:1] + attn.out_proj((weights @ v).transpose(0, 1).reshape(1, e)))
    h = layer.norm2(h + layer.linear2(layer.activation(layer.linear1(h))))
    return h[0]


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

    def observation_function(self) -> ObservationFunction:
        """A fresh observation function of the features this policy reads: its prior's
        (orlearn's own, or Ecole's for a network trained from a published ``il.pkl``)."""
        return self.net.observation_function()


def from_imitation(prior: Any, observation: str | None = None, **hyperparameters: Any) -> RevivedQNet:
    """A Q-network whose encoder and scoring head are copies of an imitation GNN's.

    ``prior``: a :class:`BranchingGNN`, or a loaded imitation policy (anything with ``model``
    and ``observation_function()``: orlearn's :class:`~orlearn.branching.policy.BranchingPolicy`,
    a published :class:`~orlearn.branching.published.PublishedPolicy`), whose observation the
    network then reads. ``observation`` names it for a bare GNN (default orlearn's own).
    """
    gnn = prior
    if not isinstance(prior, BranchingGNN):
        gnn = prior.model
        if observation is None:
            observation = prior.observation_function().name
    shape = {k: v for k, v in gnn.hyperparameters().items() if k != "emb"}
    net = RevivedQNet(
        emb=gnn.emb, observation=observation or ObservationBuilder.name, gnn=shape, **hyperparameters
    )
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
    return rl_policy(Path(path))


def rl_policy(path: Path, payload: Any = None) -> RLBranchingPolicy:
    """The ReviBranch policy of the file ``path``, whose contents are ``payload`` when the
    caller has read them already (the file is then not read again)."""
    from orlearn.policy_file import load_policy

    pf = load_policy(path, kind=KIND, feature_version=FEATURE_VERSION, payload=payload)
    net = net_from_policy_file(pf)
    net.eval()
    return RLBranchingPolicy(net=net, path=Path(path), metadata=pf.metadata)
