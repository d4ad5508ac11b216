"""A batched, differentiable simulator of inventory networks (torch).

The network is a directed graph of locations (stores, warehouses, upstream echelons) fed by an
external supplier. Every edge ``u -> v`` carries goods with a lead time of ``L >= 1`` periods: an
order placed at the start of period ``t`` is on hand at ``v`` at the start of period ``t + L``.

One period, for every scenario of the batch at once:

1. the policy requests a quantity on every edge (units, >= 0);
2. the supplier ships what is asked; a location ships its on-hand stock, rationed in proportion
   to the requests when they exceed it (a *transshipment* location ships all it holds, split in
   proportion to the requests, and so never holds stock);
3. demand hits the stores: unmet demand is lost or backlogged;
4. costs: holding cost on each location's end-of-period stock, underage cost on lost or
   backlogged units, and a per-unit cost on shipments (procurement);
5. goods in transit move one period closer; arrivals join the on-hand stock.

Every operation is a composition of sums, products, ``relu`` and ``min``, so the average cost is
differentiable (almost everywhere) in the orders and thus in a policy's parameters: that is what
HDPO's pathwise gradients need.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx
import torch
from torch import Tensor

from orlearn.errors import OrlearnError

SUPPLIER = -1
_EPS = 1e-9  # keeps the rationing ratios finite when nothing is requested


@dataclass(frozen=True)
class Network:
    """A static inventory network.

    ``holding[n]`` (per unit per period), ``underage[n]`` (per unit lost or backlogged per
    period; the selling price when ``maximize_profit``), ``is_store[n]`` and ``transship[n]``
    describe the ``n`` locations; ``edge_src[E]`` (``SUPPLIER`` for the outside supplier),
    ``edge_dst[E]``, ``lead_time[E]`` (periods) and ``edge_cost[E]`` (per unit shipped) the edges.
    """

    names: tuple[str, ...]
    holding: Tensor
    underage: Tensor
    is_store: Tensor
    transship: Tensor
    edge_src: Tensor
    edge_dst: Tensor
    lead_time: Tensor
    edge_cost: Tensor
    lost_sales: bool
    maximize_profit: bool = False
    _derived: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        n, e = len(self.names), len(self.edge_src)
        for name in ("holding", "underage", "is_store", "transship"):
            if tuple(getattr(self, name).shape) != (n,):
                raise OrlearnError(f"network: '{name}' has shape {tuple(getattr(self, name).shape)}, expected ({n},)")
        for name in ("edge_dst", "lead_time", "edge_cost"):
            if tuple(getattr(self, name).shape) != (e,):
                raise OrlearnError(f"network: '{name}' has shape {tuple(getattr(self, name).shape)}, expected ({e},)")
        for name in ("holding", "underage", "edge_cost"):
            values = getattr(self, name)
            if not torch.isfinite(values).all() or (values < 0).any():
                raise OrlearnError(f"network: '{name}' must be finite and >= 0, got {values.tolist()}")
        if e == 0 or (self.lead_time < 1).any():
            raise OrlearnError(f"network: every edge needs a lead time >= 1, got {self.lead_time.tolist()}")
        if ((self.edge_src < SUPPLIER) | (self.edge_src >= n)).any() or ((self.edge_dst < 0) | (self.edge_dst >= n)).any():
            raise OrlearnError("network: an edge refers to a location that does not exist")
        if not bool(self.is_store.any()):
            raise OrlearnError("network: there is no store (no location faces demand)")
        inbound = torch.zeros(n, dtype=torch.long).index_add(0, self.edge_dst, torch.ones(e, dtype=torch.long))
        if (inbound == 0).any():
            raise OrlearnError(f"network: location(s) {[self.names[i] for i in torch.nonzero(inbound == 0).flatten().tolist()]} receive no goods")
        if not nx.is_directed_acyclic_graph(self.graph()):
            raise OrlearnError("network: the flow of goods has a cycle")
        store_out = self.is_store[self.edge_src.clamp(min=0)] & (self.edge_src >= 0)
        if store_out.any():
            raise OrlearnError("network: stores cannot ship to other locations")

    # -- structure ----------------------------------------------------------------------------
    @property
    def n_nodes(self) -> int:
        return len(self.names)

    @property
    def n_edges(self) -> int:
        return len(self.edge_src)

    @property
    def stores(self) -> Tensor:
        """Indices of the stores, in order; demand columns follow this order."""
        return torch.nonzero(self.is_store).flatten()

    @property
    def n_stores(self) -> int:
        return int(self.is_store.sum())

    @property
    def max_lead(self) -> int:
        return int(self.lead_time.max())

    def graph(self) -> nx.DiGraph:
        """The locations and edges as a networkx graph; the supplier is node ``'supplier'``."""
        g = nx.DiGraph()
        g.add_nodes_from(range(self.n_nodes))
        for k, (s, d) in enumerate(zip(self.edge_src.tolist(), self.edge_dst.tolist())):
            g.add_edge("supplier" if s == SUPPLIER else s, d, edge=k)
        return g

    def downstream(self) -> Tensor:
        """``D[u, v] = 1`` when goods at ``u`` can reach ``v`` (``u`` included): echelons."""
        if "downstream" not in self._derived:
            g = self.graph()
            d = torch.eye(self.n_nodes)
            for u in range(self.n_nodes):
                for v in nx.descendants(g, u):
                    d[u, v] = 1.0
            self._derived["downstream"] = d
        return self._derived["downstream"]

    def to(self, dtype: torch.dtype) -> Network:
        """The same network with its cost tensors in ``dtype`` (float64 for gradcheck)."""
        return Network(
            names=self.names,
            holding=self.holding.to(dtype),
            underage=self.underage.to(dtype),
            is_store=self.is_store,
            transship=self.transship,
            edge_src=self.edge_src,
            edge_dst=self.edge_dst,
            lead_time=self.lead_time,
            edge_cost=self.edge_cost.to(dtype),
            lost_sales=self.lost_sales,
            maximize_profit=self.maximize_profit,
        )


@dataclass
class State:
    """On-hand stock ``[B, n]`` (negative at a store = backlog) and goods in transit
    ``[B, E, max_lead]``: slot ``k`` of edge ``e`` arrives at the end of the period ``k`` periods
    from now."""

    on_hand: Tensor
    pipeline: Tensor

    def inbound(self, network: Network) -> Tensor:
        """Goods in transit to each location ``[B, n]``."""
        b = self.on_hand.shape[0]
        per_edge = self.pipeline.sum(-1)
        return self.on_hand.new_zeros(b, network.n_nodes).index_add(1, network.edge_dst, per_edge)


@dataclass
class StepResult:
    """What one period produced, per scenario ``[B]`` (costs) or ``[B, n]`` / ``[B, E]``."""

    state: State
    cost: Tensor
    shipped: Tensor
    sales: Tensor
    unmet: Tensor


class Simulator:
    """Steps a batch of scenarios of one :class:`Network` forward in time."""

    def __init__(self, network: Network) -> None:
        self.network = network
        net = network
        self._internal = net.edge_src >= 0
        self._src = net.edge_src.clamp(min=0)
        self._slot = torch.nn.functional.one_hot(net.lead_time - 1, net.max_lead)  # [E, L]
        self._store_map = torch.nn.functional.one_hot(net.stores, net.n_nodes)  # [S, n]

    def step(self, state: State, requests: Tensor, demand: Tensor) -> StepResult:
        """Advance one period: ``requests [B, E]`` (units >= 0), ``demand [B, S]`` (units)."""
        net = self.network
        dtype = state.on_hand.dtype
        internal = self._internal.to(dtype)
        transship = net.transship.to(dtype)[self._src] * internal
        # A transshipment location splits all of its stock, even when nothing is asked for.
        asked = requests + _EPS * transship
        asked_from = state.on_hand.new_zeros(state.on_hand.shape).index_add(1, self._src, asked * internal)
        available = torch.relu(state.on_hand)
        ratio_all = available / (asked_from + _EPS)
        ratio = torch.where(net.transship, ratio_all, torch.clamp(ratio_all, max=1.0))
        shipped = asked * (internal * ratio[:, self._src] + (1.0 - internal))
        shipped_from = torch.zeros_like(state.on_hand).index_add(1, self._src, shipped * internal)
        on_hand = state.on_hand - shipped_from
        pipeline = state.pipeline + shipped[:, :, None] * self._slot.to(dtype)

        d = demand.to(dtype) @ self._store_map.to(dtype)  # [B, n], zero away from stores
        if net.lost_sales:
            unmet = torch.relu(d - torch.relu(on_hand))
            after = torch.relu(on_hand - d) * net.is_store.to(dtype) + on_hand * (1 - net.is_store.to(dtype))
            underage_units = unmet
        else:
            after = on_hand - d
            unmet = torch.relu(d - torch.relu(on_hand))  # demand not served from stock this period
            underage_units = torch.relu(-after)  # backlog carried to the next period
        sales = d - unmet
        holding = (net.holding * torch.relu(after)).sum(1)
        shipping = (net.edge_cost * shipped).sum(1)
        if net.maximize_profit:
            cost = holding + shipping - (net.underage * sales).sum(1)
        else:
            cost = holding + shipping + (net.underage * underage_units).sum(1)
        arrivals = torch.zeros_like(after).index_add(1, net.edge_dst, pipeline[:, :, 0])
        pipeline = torch.cat([pipeline[:, :, 1:], torch.zeros_like(pipeline[:, :, :1])], dim=2)
        return StepResult(State(after + arrivals, pipeline), cost, shipped, sales, unmet)


def check_demand(demand: Tensor, n_stores: int) -> None:
    """Raise :class:`OrlearnError` unless ``demand`` is a finite ``[B, n_stores, T]`` tensor."""
    if demand.dim() != 3 or demand.shape[1] != n_stores:
        raise OrlearnError(f"demand must have shape [scenarios, {n_stores} stores, periods], got {tuple(demand.shape)}")
    if not torch.isfinite(demand).all():
        raise OrlearnError("demand contains NaN or infinite values")
