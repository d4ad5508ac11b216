"""What a policy sees each period: per-location and per-edge features, scaled by demand.

Quantities are divided by a per-scenario *scale* of each location (the mean demand of a store; the
summed scale of the stores a location feeds), so one network serves stores of any size, and a
policy's outputs are multiplied back by it. The supplier is one extra node (the last row of
``node_x``) so that a graph network sees every edge.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from orlearn.inventory.simulator import Network, State


@dataclass
class Observation:
    """Features for one period of a batch of ``B`` scenarios.

    ``node_x [B, n + 1, node_dim]`` (row ``n`` is the supplier), ``edge_x [B, E, edge_dim]``,
    ``flat [B, flat_dim]`` (everything, for fully connected networks), ``scale [B, n]`` and
    ``edge_scale [B, E]`` (units; the scale of each edge's destination), ``position [B, n]``
    (on hand + in transit, units) and ``echelon [B, n]`` (position of the location and of every
    location downstream of it, units).
    """

    node_x: Tensor
    edge_x: Tensor
    flat: Tensor
    scale: Tensor
    edge_scale: Tensor
    position: Tensor
    echelon: Tensor


class Observer:
    """Builds :class:`Observation` s for one network; ``past_periods`` of demand are shown."""

    def __init__(self, network: Network, *, past_periods: int = 0, store_cv: Tensor | None = None) -> None:
        self.network = network
        self.past_periods = past_periods
        n = network.n_nodes
        cv = torch.zeros(n)
        if store_cv is not None:
            cv[network.stores] = store_cv.float()
        inbound_lead = torch.zeros(n).scatter_reduce(0, network.edge_dst, network.lead_time.float(), "amax")
        # Static columns: holding, underage / 10, store, transshipment, supplier, cv, lead / 10.
        static = torch.stack(
            [
                network.holding.float(),
                network.underage.float() / 10.0,
                network.is_store.float(),
                network.transship.float(),
                torch.zeros(n),
                cv,
                inbound_lead / 10.0,
            ],
            dim=1,
        )
        supplier = torch.zeros(1, static.shape[1])
        supplier[0, 4] = 1.0
        self._static = torch.cat([static, supplier])  # [n + 1, 7]
        self._edge_static = torch.stack(
            [network.lead_time.float() / 10.0, network.edge_cost.float(), (network.edge_src < 0).float()], dim=1
        )
        self._store_map = torch.nn.functional.one_hot(network.stores, n).float()  # [S, n]
        self.node_dim = self._static.shape[1] + 4 + network.max_lead + past_periods
        # The dynamic columns (see __call__): on hand, position, echelon, log scale, pipeline
        # slots, past demand. All but the log scale are stock quantities divided by the scale.
        self.on_hand_column = self._static.shape[1]
        self.quantity_columns = torch.ones(self.node_dim, dtype=torch.bool)
        self.quantity_columns[: self.on_hand_column] = False
        self.quantity_columns[self.on_hand_column + 3] = False
        self.edge_dim = self._edge_static.shape[1] + network.max_lead
        self.flat_dim = n * self.node_dim + network.n_edges * self.edge_dim

    def node_cv(self) -> Tensor:
        """Coefficient of variation of demand per period at each location ``[n]``: the store's,
        or the stores' mean away from stores (0.5 when unknown, as for real data)."""
        cv = self._static[: self.network.n_nodes, 5].clone()
        stores = self.network.is_store
        known = cv[stores].mean() if bool((cv[stores] > 0).all()) else torch.tensor(0.5)
        cv[stores] = torch.where(cv[stores] > 0, cv[stores], known)
        cv[~stores] = known
        return cv

    def node_scale(self, store_scale: Tensor) -> Tensor:
        """Scale of every location ``[B, n]`` from the stores' scales ``[B, S]`` (units)."""
        per_node = store_scale @ self._store_map.to(store_scale.dtype)
        return per_node @ self.network.downstream().T.to(store_scale.dtype)

    def __call__(self, state: State, scale: Tensor, past_demand: Tensor | None = None) -> Observation:
        """Observe ``state`` given node scales ``[B, n]`` and ``past_demand [B, S, past]``."""
        net = self.network
        b, n = state.on_hand.shape
        dtype = state.on_hand.dtype
        in_slots = state.on_hand.new_zeros(b, n, net.max_lead).index_add(1, net.edge_dst, state.pipeline)
        position = state.on_hand + in_slots.sum(-1)
        echelon = position @ net.downstream().T.to(dtype)
        s = scale[:, :, None]
        parts = [
            state.on_hand[:, :, None] / s,
            position[:, :, None] / s,
            echelon[:, :, None] / s,
            torch.log1p(scale)[:, :, None] / 5.0,
            in_slots / s,
        ]
        if self.past_periods:
            past = past_demand.to(dtype).transpose(1, 2) @ self._store_map.to(dtype)  # [B, past, n]
            parts.append(past.transpose(1, 2) / s)
        dynamic = torch.cat(parts, dim=2)
        dynamic = torch.cat([dynamic, dynamic.new_zeros(b, 1, dynamic.shape[2])], dim=1)
        node_x = torch.cat([self._static.to(dtype).expand(b, -1, -1), dynamic], dim=2)
        edge_scale = scale[:, net.edge_dst]
        edge_x = torch.cat(
            [self._edge_static.to(dtype).expand(b, -1, -1), state.pipeline / edge_scale[:, :, None]], dim=2
        )
        flat = torch.cat([node_x[:, :n].flatten(1), edge_x.flatten(1)], dim=1)
        return Observation(node_x, edge_x, flat, scale, edge_scale, position, echelon)
