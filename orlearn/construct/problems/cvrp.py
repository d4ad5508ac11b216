"""CVRP: generator, CVRPLIB reader, BQ state (depot, origin, remaining customers, capacity left).

The reduced state after a partial solution is the CVRP of the unserved customers that starts at
the last served customer with the vehicle's remaining capacity. Tokens: 0 = depot, 1 = origin,
2.. = remaining customers in increasing id. Two actions per customer: go there directly
(needs enough capacity) or go there via the depot (reloads to full capacity).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch

from orlearn.construct.problems.base import (
    BatchState,
    Problem,
    euclidean,
    header_int,
    lookup_optimum,
    move_to_slot,
    nearest_tokens,
    node_table,
    normalize_coords,
    plane_symmetry,
    read_tsplib,
    remove_tokens,
    scaled_int,
    token_position,
    unit_square,
)
from orlearn.construct.problems.experts import pyvrp_routes
from orlearn.errors import OrlearnError


def default_capacity(n: int) -> int:
    """Vehicle capacity of the standard random CVRP with ``n`` customers (Kool et al. 2019 up
    to 100; 80 / 100 / 250 for 200 / 500 / 1000 as in later work, BQ-NCO included)."""
    for limit, cap in ((10, 20), (20, 30), (50, 40), (100, 50), (200, 80), (500, 100)):
        if n <= limit:
            return cap
    return 250


@dataclasses.dataclass
class CVRPInstance:
    """``coords`` (n+1, 2) with the depot first; ``demands`` (n+1,) ints, depot 0."""

    coords: np.ndarray
    demands: np.ndarray
    capacity: int
    name: str = ""
    rounded: bool = False
    optimum: float | None = None

    @property
    def n(self) -> int:
        return int(self.coords.shape[0]) - 1

    def distances(self) -> np.ndarray:
        return euclidean(self.coords, self.rounded)


@dataclasses.dataclass
class CVRPState(BatchState):
    coords: torch.Tensor  # (B, m, 2)
    demands: torch.Tensor  # (B, m) float; 0 for the depot; the origin keeps its own (BQ-perceiver input)
    left: torch.Tensor  # (B,) capacity left in the vehicle
    capacity: torch.Tensor  # (B,)
    ids: torch.Tensor  # (B, m)
    first: torch.Tensor  # (B,) bool: nothing served yet (the vehicle is at the depot)


def validate(inst: CVRPInstance) -> None:
    """Reject instances no solution exists for, with a clear message."""
    if inst.n < 1:
        raise OrlearnError(f"CVRP {inst.name}: no customers")
    if inst.capacity <= 0 or np.any(inst.demands[1:] <= 0):
        raise OrlearnError(f"CVRP {inst.name}: capacity and customer demands must be positive")
    worst = int(np.argmax(inst.demands))
    if inst.demands[worst] > inst.capacity:
        raise OrlearnError(
            f"CVRP {inst.name}: customer {worst} demands {inst.demands[worst]:g}, more than the "
            f"capacity {inst.capacity}"
        )


class CVRP(Problem):
    name = "cvrp"
    sense = "min"
    n_features = 6
    actions_per_token = 2

    def generate(self, n: int, count: int, seed: int) -> list[CVRPInstance]:
        if n < 1:
            raise OrlearnError("a CVRP needs at least one customer")
        rng = np.random.default_rng(seed)
        out = []
        for i in range(count):
            coords = rng.random((n + 1, 2))
            demands = np.concatenate([[0], rng.integers(1, 10, n)]).astype(np.int64)
            out.append(CVRPInstance(coords, demands, default_capacity(n), name=f"cvrp{n}-{seed}-{i}"))
        return out

    def read(self, path: str | Path) -> CVRPInstance:
        header, sections = read_tsplib(path)
        if header.get("TYPE", "CVRP").split()[0].upper() != "CVRP":
            raise OrlearnError(f"{path}: TYPE is {header.get('TYPE')}, expected CVRP")
        kind = header.get("EDGE_WEIGHT_TYPE", "").upper()
        if kind != "EUC_2D":
            raise OrlearnError(f"{path}: EDGE_WEIGHT_TYPE {kind or '(missing)'} is not supported (EUC_2D only)")
        dim = header_int(header, "DIMENSION", path)
        capacity = header_int(header, "CAPACITY", path)
        for sec in ("NODE_COORD_SECTION", "DEMAND_SECTION"):
            if sec not in sections:
                raise OrlearnError(f"{path}: missing {sec}")
        coords = node_table(sections["NODE_COORD_SECTION"], dim, 2, "NODE_COORD_SECTION", path)
        demands = node_table(sections["DEMAND_SECTION"], dim, 1, "DEMAND_SECTION", path)[:, 0]
        depots = [int(v) for v in sections.get("DEPOT_SECTION", [1, -1]) if v != -1]
        if len(depots) != 1 or not 1 <= depots[0] <= dim:
            raise OrlearnError(f"{path}: exactly one depot (DEPOT_SECTION) is supported")
        order = [depots[0] - 1] + [i for i in range(dim) if i != depots[0] - 1]
        inst = CVRPInstance(
            coords[order], demands[order].astype(np.int64), capacity, name=Path(path).stem,
            rounded=True, optimum=lookup_optimum(path, "bks.csv", "bks"),
        )
        inst.demands[0] = 0
        validate(inst)
        return inst

    def objective(self, instance: CVRPInstance, solution: Sequence[Sequence[int]]) -> float:
        d = instance.distances()
        total = 0.0
        for route in solution:
            nodes = [0, *route, 0]
            total += float(sum(d[a, b] for a, b in zip(nodes[:-1], nodes[1:])))
        return total

    def check(self, instance: CVRPInstance, solution: Sequence[Sequence[int]]) -> str | None:
        served = [c for r in solution for c in r]
        if sorted(served) != list(range(1, instance.n + 1)):
            return "every customer must be served exactly once"
        for k, route in enumerate(solution):
            if instance.demands[list(route)].sum() > instance.capacity:
                return f"route {k} exceeds the capacity"
        return None

    def expert(self, instance: CVRPInstance, time_limit: float, seed: int) -> list[list[int]]:
        validate(instance)
        dist = scaled_int(instance.distances(), instance.rounded)
        return pyvrp_routes(
            dist, time_limit, seed, demands=instance.demands, capacity=instance.capacity
        )

    def augment(
        self, instance: CVRPInstance, solution: Sequence[Sequence[int]], rng: np.random.Generator
    ) -> tuple[CVRPInstance, list[list[int]]]:
        # Every route may run either way; a symmetric copy of the plane.
        routes = [list(r)[:: -1 if rng.random() < 0.5 else 1] for r in solution]
        return dataclasses.replace(instance, coords=plane_symmetry(instance.coords, rng)), routes

    def trajectory(self, instance: CVRPInstance, solution: Sequence[Sequence[int]]) -> np.ndarray:
        # Fullest routes first: the route left with slack is the last one, so the policy learns
        # to fill a vehicle before it returns.
        routes = sorted((list(r) for r in solution if r), key=lambda r: -instance.demands[r].sum())
        rows = []
        for k, route in enumerate(routes):
            for j, c in enumerate(route):
                rows.append((c, int(j == 0 and k > 0)))
        return np.asarray(rows, dtype=np.int64)

    def initial_state(self, instances: Sequence[CVRPInstance]) -> CVRPState:
        for inst in instances:
            validate(inst)
        coords = torch.as_tensor(np.stack([unit_square(i.coords) for i in instances]), dtype=torch.float32)
        dem = torch.as_tensor(np.stack([i.demands for i in instances]), dtype=torch.float32)
        b, n1 = dem.shape
        cap = torch.tensor([float(i.capacity) for i in instances])
        coords = torch.cat([coords[:, :1], coords], 1)  # the origin starts at the depot
        dem = torch.cat([torch.zeros(b, 1), dem], 1)
        ids = torch.cat([torch.zeros(b, 1, dtype=torch.long), torch.arange(n1).expand(b, n1)], 1)
        return CVRPState(coords, dem, cap.clone(), cap, ids, torch.ones(b, dtype=torch.bool))

    def reduce(self, state: CVRPState, prefix: torch.Tensor) -> CVRPState:
        t = prefix.shape[1]
        if t == 0:
            return state
        served, via = prefix[:, :, 0], prefix[:, :, 1].bool()
        hit = state.ids[:, 2:, None] == served[:, None, :]  # (B, m-2, t)
        dem = (state.demands[:, 2:, None] * hit).sum(1)  # (B, t) demand of each served customer
        pos = torch.arange(t).expand_as(via)
        last_via = torch.where(via, pos, torch.full_like(pos, -1)).amax(1)  # -1: no reload
        since = pos >= last_via.clamp_min(0)[:, None]
        left = torch.where(
            last_via >= 0, state.capacity - (dem * since).sum(1), state.left - dem.sum(1)
        )
        b = state.batch
        last = hit[:, :, -1].float().argmax(1) + 2
        keep = ~hit.any(-1)
        coords = torch.cat(
            [state.coords[:, :1], state.coords[torch.arange(b), last][:, None],
             remove_tokens(state.coords[:, 2:], keep)], 1,
        )
        demands = torch.cat(
            [torch.zeros(b, 1), dem[:, -1:], remove_tokens(state.demands[:, 2:], keep)], 1
        )
        ids = torch.cat([state.ids[:, :1], served[:, -1:], remove_tokens(state.ids[:, 2:], keep)], 1)
        return CVRPState(coords, demands, left, state.capacity, ids, torch.zeros(b, dtype=torch.bool))

    def target_actions(self, state: CVRPState, rows: torch.Tensor) -> torch.Tensor:
        return token_position(state.ids, rows[:, 0]) * 2 + rows[:, 1]

    def step(self, state: CVRPState, actions: torch.Tensor) -> CVRPState:
        token, via = actions // 2, (actions % 2).bool()
        ar = torch.arange(state.batch)
        left = torch.where(via, state.capacity, state.left) - state.demands[ar, token]
        coords, demands, ids = move_to_slot([state.coords, state.demands, state.ids], token, 1)
        return CVRPState(coords, demands, left, state.capacity, ids, torch.zeros_like(state.first))

    def done(self, state: CVRPState) -> bool:
        return state.size <= 2

    def features(self, state: CVRPState) -> torch.Tensor:
        xy, _ = normalize_coords(state.coords)
        b, m = state.ids.shape
        cap = state.capacity[:, None]
        flags = torch.zeros(b, m, 2)
        flags[:, 0, 0] = 1.0
        flags[:, 1, 1] = 1.0
        left = (state.left[:, None] / cap).expand(b, m)
        demands = state.demands.clone()
        demands[:, 1] = 0.0  # the transformer policies were trained without the origin's demand
        return torch.cat([xy, (demands / cap)[..., None], flags, left[..., None]], -1)

    def mask(self, state: CVRPState) -> torch.Tensor:
        b, m = state.ids.shape
        direct = state.demands <= state.left[:, None] + 1e-6
        via = (~state.first)[:, None].expand(b, m).clone()
        out = torch.stack([direct, via], -1)
        out[:, :2] = False
        return out

    def record(self, state: CVRPState, actions: torch.Tensor) -> torch.Tensor:
        token = actions // 2
        return torch.stack([state.ids[torch.arange(state.batch), token], actions % 2], 1)

    def solution(self, instance: CVRPInstance, records: np.ndarray) -> list[list[int]]:
        routes: list[list[int]] = []
        for c, via in records:
            if via or not routes:
                routes.append([])
            routes[-1].append(int(c))
        return routes

    def knn(self, state: CVRPState, k: int) -> tuple[CVRPState, torch.Tensor] | None:
        if state.size - 2 <= k:
            return None
        pos = nearest_tokens(state.coords, 1, 2, k)
        ar = torch.arange(state.batch)[:, None]
        sub = CVRPState(
            state.coords[ar, pos], state.demands[ar, pos], state.left, state.capacity,
            state.ids[ar, pos], state.first,
        )
        return sub, pos


PROBLEM = CVRP()
