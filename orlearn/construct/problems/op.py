"""Orienteering (OP): generator with distance-based prizes, BQ state (depot, origin, remaining
nodes, length budget left), PyVRP prize-collecting expert.

The reduced state after a partial tour is the OP from its last node back to the depot over the
unvisited nodes with the budget that is left. Tokens: 0 = depot (its action ends the tour),
1 = origin, 2.. = remaining nodes. Once an instance has ended, its only action is the no-op on
the depot token, which drops one unvisited node so that batches keep equal sizes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from orlearn.construct.problems.base import (
    BatchState,
    Problem,
    euclidean,
    move_to_slot,
    nearest_tokens,
    normalize_coords,
    plane_symmetry,
    remove_tokens,
)
from orlearn.construct.problems.experts import pyvrp_routes
from orlearn.errors import OrlearnError

EPS = 1e-6


def default_max_length(n: int) -> float:
    """Tour-length budget of the random OP (Kool et al. 2019: 2, 3, 4 for 20, 50, 100 nodes)."""
    return 2.0 if n <= 20 else 3.0 if n <= 50 else 4.0


@dataclasses.dataclass
class OPInstance:
    """``coords`` (n+1, 2) with the depot first; ``prizes`` (n+1,), depot 0."""

    coords: np.ndarray
    prizes: np.ndarray
    max_length: float
    name: str = ""
    optimum: float | None = None

    @property
    def n(self) -> int:
        return int(self.coords.shape[0]) - 1


@dataclasses.dataclass
class OPState(BatchState):
    coords: torch.Tensor  # (B, m, 2)
    prizes: torch.Tensor  # (B, m); 0 for depot and origin
    budget: torch.Tensor  # (B,) length left
    ids: torch.Tensor  # (B, m)
    ended: torch.Tensor  # (B,) bool


def _dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).norm(dim=-1)


class OP(Problem):
    name = "op"
    sense = "max"
    n_features = 7
    actions_per_token = 1

    def generate(self, n: int, count: int, seed: int) -> list[OPInstance]:
        if n < 1:
            raise OrlearnError("an OP needs at least one node besides the depot")
        rng = np.random.default_rng(seed)
        out = []
        for i in range(count):
            coords = rng.random((n + 1, 2))
            d0 = np.linalg.norm(coords - coords[0], axis=1)
            # Fischetti et al.'s distance-based prizes, as in Kool et al.: far nodes pay more.
            prizes = (1 + np.floor(99 * d0 / d0[1:].max())) / 100
            prizes[0] = 0.0
            out.append(OPInstance(coords, prizes, default_max_length(n), name=f"op{n}-{seed}-{i}"))
        return out

    def _length(self, instance: OPInstance, tour: Sequence[int]) -> float:
        nodes = [0, *tour, 0]
        d = euclidean(instance.coords[nodes], False)
        return float(sum(d[k, k + 1] for k in range(len(nodes) - 1)))

    def objective(self, instance: OPInstance, solution: Sequence[int]) -> float:
        return float(instance.prizes[list(solution)].sum())

    def check(self, instance: OPInstance, solution: Sequence[int]) -> str | None:
        tour = list(solution)
        if len(set(tour)) != len(tour) or any(v < 1 or v > instance.n for v in tour):
            return "nodes must be distinct and not the depot"
        if self._length(instance, tour) > instance.max_length + EPS:
            return "the tour is longer than the budget"
        return None

    def expert(self, instance: OPInstance, time_limit: float, seed: int) -> list[int]:
        n = instance.n
        dist = np.rint(euclidean(instance.coords, False) * 1e5).astype(np.int64)
        # Prizes dwarf any tour length (<= 4e5 here), so PyVRP maximises the prize first.
        prizes = np.rint(instance.prizes * 1e9).astype(np.int64)
        budget = int(np.floor(instance.max_length * 1e5)) - n  # margin for rounded edges
        routes = pyvrp_routes(dist, time_limit, seed, prizes=prizes, max_distance=budget, vehicles=1)
        tour = routes[0] if routes else []
        while tour and self.check(instance, tour) is not None:
            tour.pop()
        return tour

    def augment(
        self, instance: OPInstance, solution: Sequence[int], rng: np.random.Generator
    ) -> tuple[OPInstance, list[int]]:
        # The same tour the other way round, in a symmetric copy of the plane.
        tour = list(solution)[:: -1 if rng.random() < 0.5 else 1]
        return dataclasses.replace(instance, coords=plane_symmetry(instance.coords, rng)), tour

    def trajectory(self, instance: OPInstance, solution: Sequence[int]) -> np.ndarray:
        return np.asarray([*solution, 0], dtype=np.int64)[:, None]  # 0 = back to the depot

    def initial_state(self, instances: Sequence[OPInstance]) -> OPState:
        coords = torch.as_tensor(np.stack([i.coords for i in instances]), dtype=torch.float32)
        prizes = torch.as_tensor(np.stack([i.prizes for i in instances]), dtype=torch.float32)
        b, n1 = prizes.shape
        coords = torch.cat([coords[:, :1], coords], 1)
        prizes = torch.cat([torch.zeros(b, 1), prizes], 1)
        ids = torch.cat([torch.zeros(b, 1, dtype=torch.long), torch.arange(n1).expand(b, n1)], 1)
        budget = torch.tensor([i.max_length for i in instances], dtype=torch.float32)
        return OPState(coords, prizes, budget, ids, torch.zeros(b, dtype=torch.bool))

    def reduce(self, state: OPState, prefix: torch.Tensor) -> OPState:
        t = prefix.shape[1]
        if t == 0:
            return state
        visited = prefix[:, :, 0]
        b = state.batch
        hit = state.ids[:, 2:, None] == visited[:, None, :]  # (B, m-2, t)
        pos = hit.float().argmax(1) + 2  # (B, t) token of each visited node
        ar = torch.arange(b)[:, None]
        path = torch.cat([state.coords[:, 1:2], state.coords[ar, pos]], 1)
        used = _dist(path[:, 1:], path[:, :-1]).sum(1)
        keep = ~hit.any(-1)
        coords = torch.cat(
            [state.coords[:, :1], path[:, -1:], remove_tokens(state.coords[:, 2:], keep)], 1
        )
        prizes = torch.cat([torch.zeros(b, 2), remove_tokens(state.prizes[:, 2:], keep)], 1)
        ids = torch.cat([state.ids[:, :1], visited[:, -1:], remove_tokens(state.ids[:, 2:], keep)], 1)
        return OPState(coords, prizes, state.budget - used, ids, state.ended.clone())

    def target_actions(self, state: OPState, rows: torch.Tensor) -> torch.Tensor:
        node = rows[:, 0]
        hit = state.ids[:, 2:] == node[:, None]
        return torch.where(node == 0, torch.zeros_like(node), hit.float().argmax(1) + 2)

    def step(self, state: OPState, actions: torch.Tensor) -> OPState:
        b, m = state.ids.shape
        ar = torch.arange(b)
        end = actions == 0
        # Ending (or having ended) drops remaining token 2, unvisited; there is always one, as
        # the decoder stops once only the depot and origin are left.
        token = torch.where(end, torch.full_like(actions, 2), actions)
        move = _dist(state.coords[ar, 1], state.coords[ar, token])
        budget = torch.where(end, state.budget, state.budget - move)
        moved = move_to_slot([state.coords, state.prizes, state.ids], token, 1)
        keep = torch.ones(b, m, dtype=torch.bool)
        keep[ar, token] = False
        plain = [remove_tokens(x, keep) for x in (state.coords, state.prizes, state.ids)]
        coords, prizes, ids = (torch.where(_bcast(end, p), p, q) for p, q in zip(plain, moved))
        prizes[:, 1] = 0.0
        return OPState(coords, prizes, budget, ids, state.ended | end)

    def done(self, state: OPState) -> bool:
        return state.size <= 2 or bool(state.ended.all())

    def _reachable(self, state: OPState) -> torch.Tensor:
        go = _dist(state.coords[:, 1:2], state.coords)
        back = _dist(state.coords, state.coords[:, :1])
        return go + back <= state.budget[:, None] + EPS

    def features(self, state: OPState) -> torch.Tensor:
        xy, span = normalize_coords(state.coords)
        b, m = state.ids.shape
        go = _dist(state.coords[:, 1:2], state.coords)
        back = _dist(state.coords, state.coords[:, :1])
        slack = (state.budget[:, None] - go - back) / span[:, None]
        flags = torch.zeros(b, m, 2)
        flags[:, 0, 0] = 1.0
        flags[:, 1, 1] = 1.0
        budget = (state.budget / span)[:, None].expand(b, m)
        return torch.cat([xy, state.prizes[..., None], flags, budget[..., None], slack[..., None]], -1)

    def mask(self, state: OPState) -> torch.Tensor:
        ok = self._reachable(state) & ~state.ended[:, None]
        ok[:, :2] = False
        ok[:, 0] = True  # ending is always allowed
        return ok[:, :, None]

    def record(self, state: OPState, actions: torch.Tensor) -> torch.Tensor:
        ids = state.ids[torch.arange(state.batch), actions]
        # After the end nothing more is visited: record the depot (0) for every no-op.
        return torch.where(state.ended | (actions == 0), torch.zeros_like(ids), ids)[:, None]

    def solution(self, instance: OPInstance, records: np.ndarray) -> list[int]:
        tour = []
        for v in records[:, 0]:
            if v == 0:
                break
            tour.append(int(v))
        return tour

    def knn(self, state: OPState, k: int) -> tuple[OPState, torch.Tensor] | None:
        if state.size - 2 <= k:
            return None
        pos = nearest_tokens(state.coords, 1, 2, k)
        ar = torch.arange(state.batch)[:, None]
        sub = OPState(
            state.coords[ar, pos], state.prizes[ar, pos], state.budget, state.ids[ar, pos],
            state.ended,
        )
        return sub, pos


def _bcast(flag: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return flag.reshape(-1, *([1] * (like.dim() - 1)))


PROBLEM = OP()
