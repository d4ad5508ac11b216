"""Scenario sets and rollouts: run a policy through the simulator and average its cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

from orlearn.inventory.observation import Observation, Observer
from orlearn.inventory.simulator import Simulator, State, check_demand

Policy = Callable[[Observation], Tensor]


@dataclass
class ScenarioSet:
    """``demand [N, S, history + periods]`` (units), the initial state and per-location scales
    ``[N, n]``; the first ``warmup`` simulated periods are left out of the average cost."""

    demand: Tensor
    on_hand: Tensor
    pipeline: Tensor
    scale: Tensor
    history: int
    warmup: int

    @property
    def n(self) -> int:
        return self.demand.shape[0]

    @property
    def periods(self) -> int:
        return self.demand.shape[2] - self.history

    def batch(self, index: Tensor) -> ScenarioSet:
        return ScenarioSet(
            self.demand[index], self.on_hand[index], self.pipeline[index], self.scale[index], self.history, self.warmup
        )

    def to(self, dtype: torch.dtype) -> ScenarioSet:
        return ScenarioSet(
            self.demand.to(dtype), self.on_hand.to(dtype), self.pipeline.to(dtype), self.scale.to(dtype),
            self.history, self.warmup,
        )


def initial_state(observer: Observer, scale: Tensor, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Random starting stock: uniform in [0, scale] on hand and in each transit slot."""
    net = observer.network
    b = scale.shape[0]
    on_hand = torch.rand(b, net.n_nodes, generator=generator) * scale
    on_hand = torch.where(net.transship, torch.zeros_like(on_hand), on_hand)
    slots = torch.arange(net.max_lead)[None, :] < net.lead_time[:, None]  # [E, L]
    pipeline = torch.rand(b, net.n_edges, net.max_lead, generator=generator) * scale[:, net.edge_dst, None] * slots
    return on_hand, pipeline


@dataclass
class RolloutResult:
    """Per scenario ``[B]``: average cost per period per store after the warm-up, and the
    average units sold and demanded per period (all stores together)."""

    cost: Tensor
    sales: Tensor
    demand: Tensor


def rollout(simulator: Simulator, observer: Observer, policy: Policy, scenarios: ScenarioSet) -> RolloutResult:
    """Simulate ``policy`` over every scenario; differentiable in the policy's parameters."""
    net = simulator.network
    check_demand(scenarios.demand, net.n_stores)
    state = State(scenarios.on_hand, scenarios.pipeline)
    h, past = scenarios.history, observer.past_periods
    total = scenarios.demand.new_zeros(scenarios.n)
    sales = scenarios.demand.new_zeros(scenarios.n)
    demand_sum = scenarios.demand.new_zeros(scenarios.n)
    for t in range(scenarios.periods):
        window = scenarios.demand[:, :, h + t - past : h + t] if past else None
        requests = policy(observer(state, scenarios.scale, window))
        demand = scenarios.demand[:, :, h + t]
        result = simulator.step(state, requests, demand)
        state = result.state
        if t >= scenarios.warmup:
            total = total + result.cost
            sales = sales + result.sales.sum(1)
            demand_sum = demand_sum + demand.sum(1)
    counted = max(scenarios.periods - scenarios.warmup, 1)
    return RolloutResult(total / (counted * net.n_stores), sales / counted, demand_sum / counted)
