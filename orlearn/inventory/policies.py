"""Inventory policies: neural (vanilla MLP, symmetry-aware, GNN) and classical baselines.

Every policy maps an :class:`~orlearn.inventory.observation.Observation` to the quantities
requested on every edge ``[B, E]`` (units, >= 0). Neural policies output quantities in units of
the destination's demand scale; baselines have one level (and cap) per location, also in units of
scale, trained by the same gradient machinery or set from a closed form.
"""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import torch
from torch import Tensor, nn
from torch_geometric.nn import MessagePassing

from orlearn.errors import OrlearnError
from orlearn.inventory.observation import Observation, Observer
from orlearn.inventory.simulator import Network


def _mlp(sizes: list[int], *, out: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ELU()]
    layers.append(nn.Linear(sizes[-1], out))
    return nn.Sequential(*layers)


def _orders_start_at_one_period(head: nn.Sequential) -> None:
    """Start every order near one period of demand (softplus(0.5413) = 1) with small slopes."""
    last = head[-1]
    nn.init.constant_(last.bias, math.log(math.e - 1.0))
    with torch.no_grad():
        last.weight.mul_(0.1)


class VanillaMLP(nn.Module):
    """One fully connected network from the whole state to every edge's order."""

    def __init__(self, observer: Observer, hidden: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.net = _mlp([observer.flat_dim] + [hidden] * layers, out=observer.network.n_edges)
        _orders_start_at_one_period(self.net)

    def forward(self, obs: Observation) -> Tensor:
        return obs.edge_scale * nn.functional.softplus(self.net(obs.flat))


class SymmetryAware(nn.Module):
    """A context network reads the whole state; one network, shared by every edge (so by every
    store), maps (source, destination, edge, context) to that edge's order."""

    def __init__(self, observer: Observer, hidden: int = 64, layers: int = 2, context: int = 16) -> None:
        super().__init__()
        self.network = observer.network
        self.context = _mlp([observer.flat_dim] + [hidden] * layers, out=context)
        self.edge = _mlp([2 * observer.node_dim + observer.edge_dim + context] + [hidden] * layers, out=1)
        _orders_start_at_one_period(self.edge)

    def forward(self, obs: Observation) -> Tensor:
        net = self.network
        src = net.edge_src.clone()
        src[src < 0] = net.n_nodes  # the supplier row
        c = self.context(obs.flat)
        e = obs.edge_x.shape[1]
        x = torch.cat(
            [obs.node_x[:, src], obs.node_x[:, net.edge_dst], obs.edge_x, c[:, None, :].expand(-1, e, -1)], dim=2
        )
        return obs.edge_scale * nn.functional.softplus(self.edge(x).squeeze(-1))


class _EdgeConv(MessagePassing):
    """Message passing with edge features: m_ij = MLP(x_i, x_j, e_ij), mean-aggregated, residual."""

    def __init__(self, hidden: int, edge_dim: int) -> None:
        super().__init__(aggr="mean")
        self.message_net = _mlp([2 * hidden + edge_dim, hidden], out=hidden)
        self.update_net = _mlp([2 * hidden, hidden], out=hidden)

    def forward(self, x: Tensor, edge_index: Tensor, edge_attr: Tensor) -> Tensor:
        aggregated = self.propagate(edge_index, x=x, edge_attr=edge_attr)
        return x + self.update_net(torch.cat([x, aggregated], dim=1))

    def message(self, x_i: Tensor, x_j: Tensor, edge_attr: Tensor) -> Tensor:
        return self.message_net(torch.cat([x_i, x_j, edge_attr], dim=1))


class GNNPolicy(nn.Module):
    """A graph network over the supply network (supplier included, edges in both directions):
    node and edge features are embedded, ``rounds`` of message passing follow the topology, and
    each edge's order is read from its two end nodes. Its size does not depend on the network's.

    The output is base-stock shaped: every edge reads a target level for the echelon position of
    its destination, ``2 * sigmoid(y) * default`` (units of scale; ``default`` is
    :func:`default_levels`), orders the shortfall, and a location fed by several edges splits its
    shortfall by a softmax over them. ``y`` starts near 0 and the split even, so an untrained GNN
    is an echelon-stock policy at the default levels, and one that learns constant targets is the
    optimal policy of a serial system. Targets stay between 0 and twice the default, so a large
    step cannot send the policy where it never orders (no gradient) or orders without bound.
    The GNN sees every stock quantity as a share of its location's default level, and its echelon
    position minus that level (same units): features of order 1 wherever the location sits, so
    that one Adam step cannot swing the orders of a location high up a long pipeline (echelon
    stocks of 15 periods fed raw made the closed loop unstable and its gradients explode).

    A transshipment centre ships all it holds. Splitting it in proportion to the stores'
    shortfalls leaves their positions unbalanced (1 % above the balance lower bound, against
    0.15 % for a balanced split), and when every store is at its target the split's gradient
    (stock / sum of requests) blows up. Edges out of a centre therefore *water-fill* its stock:
    store ``s`` asks ``relu(target_s + z * spread_s - position_s)``, with one ``z`` per centre
    and scenario set (by bisection, without gradient) so that the requests add up to the stock;
    ``spread`` is the standard deviation of the store's demand over its lead time + 1, in units
    of scale. Equal ``z`` is the balanced (equal safety factor) split when the targets are means.
    """

    def __init__(self, observer: Observer, hidden: int = 64, rounds: int = 3) -> None:
        super().__init__()
        net = observer.network
        self.network = net
        self.encode = _mlp([observer.node_dim + 1, hidden], out=hidden)
        self.convs = nn.ModuleList(_EdgeConv(hidden, observer.edge_dim + 1) for _ in range(rounds))
        self.head = _mlp([2 * hidden + observer.edge_dim, hidden], out=2)  # level, split logit
        with torch.no_grad():
            self.head[-1].weight.mul_(0.1)
            self.head[-1].bias.zero_()
        src = net.edge_src.clone()
        src[src < 0] = net.n_nodes
        self.register_buffer("_src", src, persistent=False)
        both = torch.stack([torch.cat([src, net.edge_dst]), torch.cat([net.edge_dst, src])])
        self.register_buffer("_edges", both, persistent=False)
        levels = default_levels(net, echelon=True, cv=observer.node_cv())
        self.register_buffer("_default", levels, persistent=False)
        # Columns of node_x that are stock quantities (see Observer): divided by levels.
        self.register_buffer("_quantity", observer.quantity_columns.clone(), persistent=False)
        self._on_hand = observer.on_hand_column
        self.register_buffer("_edge_static", torch.tensor(observer.edge_dim - net.max_lead), persistent=False)
        from_centre = (net.edge_src >= 0) & net.transship[net.edge_src.clamp(min=0)]
        self.register_buffer("_from_centre", from_centre, persistent=False)
        spread = default_levels(net, echelon=True, cv=observer.node_cv(), z=1.0) - default_levels(
            net, echelon=True, cv=observer.node_cv(), z=0.0
        )
        self.register_buffer("_spread", spread, persistent=False)
        self._batched: dict[int, Tensor] = {}

    def _edge_index(self, b: int) -> Tensor:
        # The same graph for every scenario: B disjoint copies, as torch-geometric batches them.
        if b not in self._batched:
            offsets = torch.arange(b)[:, None, None] * (self.network.n_nodes + 1)
            self._batched = {b: (self._edges[None] + offsets).transpose(0, 1).reshape(2, -1)}
        return self._batched[b]

    def forward(self, obs: Observation) -> Tensor:
        b, nodes, _ = obs.node_x.shape
        e = obs.edge_x.shape[1]
        dst = self.network.edge_dst
        levels = self._default.to(obs.scale.dtype)
        gap = obs.echelon / obs.scale - levels  # [B, n], periods of demand
        per_node = torch.cat([levels, levels.new_ones(1)])[:, None]  # the supplier row: 1
        node_x = torch.where(self._quantity, obs.node_x / per_node, obs.node_x)
        node_x = torch.cat([node_x, torch.cat([gap / levels, gap.new_zeros(b, 1)], dim=1)[:, :, None]], dim=2)
        k = int(self._edge_static)
        edge_x = torch.cat([obs.edge_x[..., :k], obs.edge_x[..., k:] / levels[dst, None]], dim=2)
        h = self.encode(node_x).reshape(b * nodes, -1)
        direction = torch.cat([edge_x.new_zeros(b, e, 1), edge_x.new_ones(b, e, 1)], dim=1)
        attr = torch.cat([torch.cat([edge_x, edge_x], dim=1), direction], dim=2).reshape(b * 2 * e, -1)
        index = self._edge_index(b)
        for conv in self.convs:
            h = conv(h, index, attr)
        h = h.reshape(b, nodes, -1)
        out = self.head(torch.cat([h[:, self._src], h[:, dst], edge_x], dim=2))
        default = levels[dst]
        target = 2.0 * torch.sigmoid(out[..., 0]) * default
        shortfall = torch.relu(target - default - gap[:, dst])  # target - echelon position / scale
        logit = out[..., 1]
        # softmax over the edges into the same location (one edge: weight 1)
        top = logit.new_full((b, self.network.n_nodes), -math.inf).scatter_reduce(
            1, dst.expand(b, -1), logit, "amax", include_self=True
        )
        weight = torch.exp(logit - top[:, dst])
        total = weight.new_zeros(b, self.network.n_nodes).index_add(1, dst, weight)
        requests = obs.edge_scale * shortfall * weight / total[:, dst]
        if bool(self._from_centre.any()):
            requests = torch.where(self._from_centre, self._water_fill(obs, target - default - gap[:, dst]), requests)
        return requests

    def _water_fill(self, obs: Observation, room: Tensor) -> Tensor:
        """Requests on every edge ``[B, E]`` (units) that split each centre's on-hand stock as
        ``relu(room + z * spread) * scale`` with the one ``z`` that makes them add up to it;
        ``room`` is target minus position, in units of scale (only edges out of centres matter)."""
        net = self.network
        src, dst = net.edge_src.clamp(min=0), net.edge_dst
        spread = self._spread.to(room.dtype)[dst]
        stock = torch.relu(obs.node_x[:, : net.n_nodes, self._on_hand] * obs.scale)  # on hand, units
        mask = self._from_centre.to(room.dtype)

        def asked(z: Tensor) -> Tensor:
            return torch.relu(room + z[:, src] * spread) * obs.edge_scale * mask

        with torch.no_grad():
            low = torch.full_like(stock, -30.0)
            high = torch.full_like(stock, 30.0)
            for _ in range(30):  # bisection on z per centre: total asked increases with z
                mid = (low + high) / 2
                total = torch.zeros_like(stock).index_add(1, src, asked(mid))
                over = total > stock
                high, low = torch.where(over, mid, high), torch.where(over, low, mid)
        return asked(low)


def default_levels(network: Network, *, echelon: bool, cv: Tensor, z: float = 1.3) -> Tensor:
    """Starting levels in units of scale: the mean demand over the periods a level must cover
    (lead time + 1 at a store; for an echelon level, the longest lead time down to a store + 1)
    plus ``z`` standard deviations of that demand, ``cv`` being each location's coefficient of
    variation of demand per period."""
    lead_in = torch.zeros(network.n_nodes).scatter_reduce(0, network.edge_dst, network.lead_time.float(), "amax")
    cover = lead_in + 1.0
    if echelon:
        g = network.graph()
        for u in reversed(list(nx.topological_sort(g))):
            below = [cover[v] for v in g.successors(u)] if u != "supplier" else []
            if below:
                cover[u] = lead_in[u] + max(below)
    return cover + z * cover.sqrt() * cv


class BaseStock(nn.Module):
    """Order up to a level: ``max(0, S_u - position_u)`` on the inbound edge(s) of every location
    (split evenly between several inbound edges). ``echelon=True`` uses echelon positions (the
    location plus everything downstream: Clark and Scarf's echelon-stock policy); ``capped=True``
    never orders more than a learned cap per period (capped base-stock, Xin 2021)."""

    def __init__(self, observer: Observer, echelon: bool = False, capped: bool = False) -> None:
        super().__init__()
        net = observer.network
        self.network = net
        self.echelon = echelon
        self.capped = capped
        cv = observer.node_cv()
        self.level = nn.Parameter(default_levels(net, echelon=echelon, cv=cv))
        self.cap = nn.Parameter(torch.full((net.n_nodes,), 2.0)) if capped else None
        indegree = torch.zeros(net.n_nodes).index_add(0, net.edge_dst, torch.ones(net.n_edges))
        self.register_buffer("_share", 1.0 / indegree[net.edge_dst], persistent=False)

    def forward(self, obs: Observation) -> Tensor:
        position = obs.echelon if self.echelon else obs.position
        need = torch.relu(self.level * obs.scale - position)
        if self.cap is not None:
            need = torch.minimum(need, torch.relu(self.cap) * obs.scale)
        return need[:, self.network.edge_dst] * self._share


def newsvendor_base_stock(mean: float, std: float, lead_time: int, holding: float, underage: float) -> tuple[float, float]:
    """Optimal base-stock level and average cost per period (units, cost units) of one store with
    backlogged i.i.d. Normal(mean, std) demand: the critical fractile p / (p + h) of demand over
    ``lead_time + 1`` periods; cost ``(h + p) * sigma * phi(z)``."""
    from scipy.stats import norm

    if min(mean, std, holding, underage) < 0 or lead_time < 1 or holding + underage == 0:
        raise OrlearnError("newsvendor: mean, std, costs must be >= 0 and the lead time >= 1")
    z = float(norm.ppf(underage / (holding + underage)))
    sigma = std * math.sqrt(lead_time + 1)
    return (lead_time + 1) * mean + z * sigma, (holding + underage) * sigma * float(norm.pdf(z))


POLICIES: dict[str, str] = {
    "vanilla": "fully connected network over the whole state",
    "symmetric": "symmetry-aware: a context network plus one network shared by all edges",
    "gnn": "graph network over the supply network (torch-geometric)",
    "base_stock": "order up to a level per location (installation stock)",
    "capped_base_stock": "base-stock with a cap on each order",
    "echelon_stock": "order up to a level of echelon stock (optimal for serial backlogged systems)",
}


def build_policy(name: str, observer: Observer, **hyperparameters: Any) -> nn.Module:
    """Make the policy called ``name`` (a key of :data:`POLICIES`) for ``observer``'s network."""
    if name == "vanilla":
        return VanillaMLP(observer, **hyperparameters)
    if name == "symmetric":
        return SymmetryAware(observer, **hyperparameters)
    if name == "gnn":
        return GNNPolicy(observer, **hyperparameters)
    if name == "base_stock":
        return BaseStock(observer)
    if name == "capped_base_stock":
        return BaseStock(observer, capped=True)
    if name == "echelon_stock":
        return BaseStock(observer, echelon=True)
    raise OrlearnError(f"unknown inventory policy '{name}'; choose one of {', '.join(POLICIES)}")
