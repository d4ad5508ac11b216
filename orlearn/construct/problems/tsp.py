"""Euclidean TSP: generator, TSPLIB reader, BQ state (origin, destination, remaining nodes).

The reduced state after visiting a path is the *path-TSP* from the path's last node (origin)
back to its first node (destination) through the unvisited nodes. Tokens: 0 = origin,
1 = destination, 2.. = remaining nodes in increasing node id; one action per remaining token.
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
    path_length,
    plane_symmetry,
    read_tsplib,
    remove_tokens,
    scaled_int,
    swap_labels,
    token_position,
    unit_square,
)
from orlearn.construct.problems.experts import pyvrp_routes
from orlearn.errors import OrlearnError


@dataclasses.dataclass
class TSPInstance:
    """``coords`` (n, 2); ``rounded``: TSPLIB EUC_2D metric (nint distances)."""

    coords: np.ndarray
    name: str = ""
    rounded: bool = False
    optimum: float | None = None

    @property
    def n(self) -> int:
        return int(self.coords.shape[0])

    def distances(self) -> np.ndarray:
        return euclidean(self.coords, self.rounded)


def clustered(
    n: int, count: int, seed: int, *, clusters: tuple[int, int] = (3, 8), std: float = 0.07
) -> list[TSPInstance]:
    """``count`` clustered TSP instances (a Gaussian mixture): a number of clusters drawn
    uniformly from ``clusters`` (both ends included), centres uniform in the unit square, each
    node in a random cluster at a normal offset of ``std`` per axis; every instance is then
    scaled uniformly into the unit square. Prefix-stable in ``count``, like ``generate``."""
    if n < 3:
        raise OrlearnError("a TSP needs at least 3 nodes")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        k = int(rng.integers(clusters[0], clusters[1] + 1))
        centres = rng.random((k, 2))
        coords = centres[rng.integers(k, size=n)] + rng.normal(0.0, std, (n, 2))
        lo = coords.min(0)
        coords = (coords - lo) / (coords - lo).max()
        out.append(TSPInstance(coords, name=f"tsp{n}-clustered-{seed}-{i}"))
    return out


@dataclasses.dataclass
class TSPState(BatchState):
    coords: torch.Tensor  # (B, m, 2) float
    ids: torch.Tensor  # (B, m) long: original node ids


class TSP(Problem):
    name = "tsp"
    sense = "min"
    n_features = 4
    actions_per_token = 1

    def generate(self, n: int, count: int, seed: int) -> list[TSPInstance]:
        if n < 3:
            raise OrlearnError("a TSP needs at least 3 nodes")
        rng = np.random.default_rng(seed)
        return [TSPInstance(rng.random((n, 2)), name=f"tsp{n}-{seed}-{i}") for i in range(count)]

    distributions = ("uniform", "clustered")

    def _sample(self, n: int, count: int, seed: int, distribution: str) -> list[TSPInstance]:
        return clustered(n, count, seed)

    def read(self, path: str | Path) -> TSPInstance:
        header, sections = read_tsplib(path)
        if header.get("TYPE", "TSP").split()[0].upper() != "TSP":
            raise OrlearnError(f"{path}: TYPE is {header.get('TYPE')}, expected TSP")
        kind = header.get("EDGE_WEIGHT_TYPE", "").upper()
        if kind != "EUC_2D":
            raise OrlearnError(f"{path}: EDGE_WEIGHT_TYPE {kind or '(missing)'} is not supported (EUC_2D only)")
        n = header_int(header, "DIMENSION", path)
        if n < 3:
            raise OrlearnError(f"{path}: DIMENSION {n} is too small for a tour")
        if "NODE_COORD_SECTION" not in sections:
            raise OrlearnError(f"{path}: missing NODE_COORD_SECTION")
        coords = node_table(sections["NODE_COORD_SECTION"], n, 2, "NODE_COORD_SECTION", path)
        return TSPInstance(coords, name=Path(path).stem, rounded=True,
                           optimum=lookup_optimum(path, "optima.csv", "optimal_value"))

    def objective(self, instance: TSPInstance, solution: Sequence[int]) -> float:
        return path_length(instance.distances(), solution)

    def check(self, instance: TSPInstance, solution: Sequence[int]) -> str | None:
        tour = list(solution)
        if sorted(tour) != list(range(instance.n)):
            return "the tour does not visit every node exactly once"
        return None

    def expert(self, instance: TSPInstance, time_limit: float, seed: int) -> list[int]:
        routes = pyvrp_routes(scaled_int(instance.distances(), instance.rounded), time_limit, seed)
        return [0] + [v for r in routes for v in r]

    def augment(
        self, instance: TSPInstance, solution: Sequence[int], rng: np.random.Generator
    ) -> tuple[TSPInstance, list[int]]:
        # A random start node (relabelled 0, where decoding starts), direction and plane symmetry.
        perm = swap_labels(instance.n, 0, int(rng.integers(instance.n)))
        tour = perm[np.asarray(solution, dtype=np.int64)]
        if rng.random() < 0.5:
            tour = tour[::-1]
        coords = plane_symmetry(instance.coords[perm], rng)
        return dataclasses.replace(instance, coords=coords), tour.tolist()

    def trajectory(self, instance: TSPInstance, solution: Sequence[int]) -> np.ndarray:
        tour = np.asarray(solution, dtype=np.int64)
        tour = np.roll(tour, -int(np.flatnonzero(tour == 0)[0]))  # decoding starts at node 0
        return tour[1:, None]

    def initial_state(self, instances: Sequence[TSPInstance]) -> TSPState:
        coords = torch.as_tensor(
            np.stack([unit_square(inst.coords) for inst in instances]), dtype=torch.float32
        )
        b, n = coords.shape[:2]
        coords = torch.cat([coords[:, :1], coords], 1)  # node 0 is origin and destination
        ids = torch.cat([torch.zeros(b, 1, dtype=torch.long), torch.arange(n).expand(b, n)], 1)
        return TSPState(coords, ids)

    def reduce(self, state: TSPState, prefix: torch.Tensor) -> TSPState:
        t = prefix.shape[1]
        if t == 0:
            return state
        visited = prefix[:, :, 0]
        b = state.batch
        last = token_position(state.ids, visited[:, -1])
        origin_c = state.coords[torch.arange(b), last][:, None]
        keep = ~(state.ids[:, 2:, None] == visited[:, None, :]).any(-1)
        coords = torch.cat([origin_c, state.coords[:, 1:2], remove_tokens(state.coords[:, 2:], keep)], 1)
        ids = torch.cat([visited[:, -1:], state.ids[:, 1:2], remove_tokens(state.ids[:, 2:], keep)], 1)
        return TSPState(coords, ids)

    def target_actions(self, state: TSPState, rows: torch.Tensor) -> torch.Tensor:
        return token_position(state.ids, rows[:, 0])

    def step(self, state: TSPState, actions: torch.Tensor) -> TSPState:
        return TSPState(*move_to_slot([state.coords, state.ids], actions, 0))

    def done(self, state: TSPState) -> bool:
        return state.size <= 2

    def features(self, state: TSPState) -> torch.Tensor:
        xy, _ = normalize_coords(state.coords)
        flags = torch.zeros(state.batch, state.size, 2)
        flags[:, 0, 0] = 1.0
        flags[:, 1, 1] = 1.0
        return torch.cat([xy, flags], -1)

    def mask(self, state: TSPState) -> torch.Tensor:
        m = torch.ones(state.batch, state.size, 1, dtype=torch.bool)
        m[:, :2] = False
        return m

    def record(self, state: TSPState, actions: torch.Tensor) -> torch.Tensor:
        return state.ids[torch.arange(state.batch), actions][:, None]

    def solution(self, instance: TSPInstance, records: np.ndarray) -> list[int]:
        return [0] + [int(v) for v in records[:, 0]]

    def knn(self, state: TSPState, k: int) -> tuple[TSPState, torch.Tensor] | None:
        if state.size - 2 <= k:
            return None
        pos = nearest_tokens(state.coords, 0, 2, k)
        ar = torch.arange(state.batch)[:, None]
        return TSPState(state.coords[ar, pos], state.ids[ar, pos]), pos


PROBLEM = TSP()
