"""0/1 knapsack: generator, BQ state (remaining items, remaining capacity), exact expert.

The reduced state after taking some items is the knapsack of the untaken items with the capacity
left. Tokens: one per untaken item; taking an item is its token's action. An instance is finished
when no untaken item fits (then one no-op action on token 0 keeps batches in step).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from orlearn.construct.problems.base import BatchState, Problem, remove_tokens
from orlearn.construct.problems.experts import exact_knapsack
from orlearn.errors import OrlearnError

# The standard random KP of POMO / BQ-NCO: values and weights uniform on [0, 1], capacity 25.
CAPACITY = 25.0


@dataclasses.dataclass
class KPInstance:
    values: np.ndarray  # (n,)
    weights: np.ndarray  # (n,)
    capacity: float
    name: str = ""
    optimum: float | None = None

    @property
    def n(self) -> int:
        return int(self.values.shape[0])


@dataclasses.dataclass
class KPState(BatchState):
    values: torch.Tensor  # (B, m)
    weights: torch.Tensor  # (B, m)
    capacity: torch.Tensor  # (B,) left
    ids: torch.Tensor  # (B, m)


def validate(inst: KPInstance) -> None:
    """Reject instances the MDP cannot represent, with a clear message."""
    if inst.n == 0:
        raise OrlearnError(f"knapsack {inst.name or ''}: no items")
    if np.any(inst.weights <= 0) or np.any(inst.values < 0):
        raise OrlearnError(f"knapsack {inst.name or ''}: weights must be > 0 and values >= 0")
    if not np.any(inst.weights <= inst.capacity):
        raise OrlearnError(f"knapsack {inst.name or ''}: no item fits the capacity {inst.capacity}")


class KP(Problem):
    name = "kp"
    sense = "max"
    expert_version = "exact-bb"  # labels of the earlier, weight-flooring expert are not reused
    n_features = 4
    actions_per_token = 1

    def generate(self, n: int, count: int, seed: int) -> list[KPInstance]:
        if n < 1:
            raise OrlearnError("a knapsack needs at least one item")
        rng = np.random.default_rng(seed)
        out = []
        for i in range(count):
            vw = rng.random((2, n))
            out.append(KPInstance(vw[0], vw[1], CAPACITY, name=f"kp{n}-{seed}-{i}"))
        return out

    def objective(self, instance: KPInstance, solution: Sequence[int]) -> float:
        return float(instance.values[list(solution)].sum())

    def check(self, instance: KPInstance, solution: Sequence[int]) -> str | None:
        items = list(solution)
        if len(set(items)) != len(items) or any(i < 0 or i >= instance.n for i in items):
            return "items must be distinct indices of the instance"
        if instance.weights[items].sum() > instance.capacity + 1e-9:
            return "the chosen items exceed the capacity"
        return None

    def expert(self, instance: KPInstance, time_limit: float, seed: int) -> list[int]:
        validate(instance)
        return exact_knapsack(instance.values, instance.weights, instance.capacity)

    def trajectory(self, instance: KPInstance, solution: Sequence[int]) -> np.ndarray:
        items = np.asarray(sorted(solution), dtype=np.int64)
        # Each row holds the item taken at that step and, after it, the full optimal set: the
        # multi-label target at step t is every optimal item not yet taken. -1 pads.
        rows = np.full((len(items), 1 + instance.n), -1, dtype=np.int64)
        rows[:, 0] = items
        rows[:, 1 : 1 + len(items)] = items
        return rows

    def initial_state(self, instances: Sequence[KPInstance]) -> KPState:
        for inst in instances:
            validate(inst)
        v = torch.as_tensor(np.stack([i.values for i in instances]), dtype=torch.float32)
        w = torch.as_tensor(np.stack([i.weights for i in instances]), dtype=torch.float32)
        cap = torch.tensor([i.capacity for i in instances], dtype=torch.float32)
        ids = torch.arange(v.shape[1]).expand(v.shape[0], -1).clone()
        return KPState(v, w, cap, ids)

    def reduce(self, state: KPState, prefix: torch.Tensor) -> KPState:
        if prefix.shape[1] == 0:
            return state
        taken = prefix[:, :, 0]
        hit = state.ids[:, :, None] == taken[:, None, :]
        used = (state.weights[:, :, None] * hit).sum((1, 2))
        keep = ~hit.any(-1)
        return KPState(
            remove_tokens(state.values, keep), remove_tokens(state.weights, keep),
            state.capacity - used, remove_tokens(state.ids, keep),
        )

    def target_actions(self, state: KPState, rows: torch.Tensor) -> torch.Tensor:
        optimal = rows[:, 1:]
        return (state.ids[:, :, None] == optimal[:, None, :]).any(-1)

    def _fits(self, state: KPState) -> torch.Tensor:
        return state.weights <= state.capacity[:, None] + 1e-6

    def step(self, state: KPState, actions: torch.Tensor) -> KPState:
        b, m = state.ids.shape
        ar = torch.arange(b)
        taken = self._fits(state)[ar, actions]  # a no-op of a finished instance takes nothing
        keep = torch.ones(b, m, dtype=torch.bool)
        keep[ar, actions] = False
        used = torch.where(taken, state.weights[ar, actions], torch.zeros(b))
        return KPState(
            remove_tokens(state.values, keep), remove_tokens(state.weights, keep),
            state.capacity - used, remove_tokens(state.ids, keep),
        )

    def done(self, state: KPState) -> bool:
        return state.size == 0 or not bool(self._fits(state).any())

    def features(self, state: KPState) -> torch.Tensor:
        cap = state.capacity[:, None].clamp_min(1e-6).expand_as(state.weights)
        ratio = (state.weights / cap).clamp(max=2.0)
        return torch.stack([state.values, state.weights, ratio, cap / CAPACITY], -1)

    def mask(self, state: KPState) -> torch.Tensor:
        fits = self._fits(state)
        finished = ~fits.any(1)
        fits[finished, 0] = True
        return fits[:, :, None]

    def record(self, state: KPState, actions: torch.Tensor) -> torch.Tensor:
        ar = torch.arange(state.batch)
        taken = self._fits(state)[ar, actions]
        return torch.where(taken, state.ids[ar, actions], torch.full_like(actions, -1))[:, None]

    def solution(self, instance: KPInstance, records: np.ndarray) -> list[int]:
        return sorted(int(v) for v in records[:, 0] if v >= 0)


PROBLEM = KP()
