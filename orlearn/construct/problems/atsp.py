"""Asymmetric TSP: generator, TSPLIB .atsp reader, BQ state (the remaining distance sub-matrix).

The reduced state is the path-ATSP from the origin to the destination through the remaining
nodes, given by the sub-matrix over [origin, destination, remaining...]. Token features are row
and column statistics of that matrix; the matrix itself enters every attention layer as a learned
bias, since no coordinates exist.
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
    header_int,
    lookup_optimum,
    move_to_slot,
    path_length,
    read_tsplib,
    remove_tokens,
    swap_labels,
    token_position,
)
from orlearn.construct.problems.experts import pyvrp_routes
from orlearn.errors import OrlearnError


@dataclasses.dataclass
class ATSPInstance:
    """``dist`` (n, n), zero diagonal, not necessarily symmetric."""

    dist: np.ndarray
    name: str = ""
    optimum: float | None = None

    @property
    def n(self) -> int:
        return int(self.dist.shape[0])


@dataclasses.dataclass
class ATSPState(BatchState):
    dist: torch.Tensor  # (B, m, m) over [origin, destination, remaining...]
    ids: torch.Tensor  # (B, m)


def _gather(dist: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    ar = torch.arange(dist.shape[0])[:, None, None]
    return dist[ar, pos[:, :, None], pos[:, None, :]]


class ATSP(Problem):
    name = "atsp"
    sense = "min"
    n_features = 6
    actions_per_token = 1
    attention_bias_channels = 2

    def generate(self, n: int, count: int, seed: int) -> list[ATSPInstance]:
        """Uniform [0, 1] arc lengths closed under shortest paths, so the triangle inequality
        holds (the "tmat" class used by MatNet and BQ-NCO)."""
        from scipy.sparse.csgraph import shortest_path

        if n < 3:
            raise OrlearnError("an ATSP needs at least 3 nodes")
        rng = np.random.default_rng(seed)
        out = []
        for i in range(count):
            d = rng.random((n, n))
            np.fill_diagonal(d, 0.0)
            out.append(ATSPInstance(shortest_path(d, method="FW"), name=f"atsp{n}-{seed}-{i}"))
        return out

    def read(self, path: str | Path) -> ATSPInstance:
        header, sections = read_tsplib(path)
        if header.get("TYPE", "ATSP").split()[0].upper() != "ATSP":
            raise OrlearnError(f"{path}: TYPE is {header.get('TYPE')}, expected ATSP")
        kind = header.get("EDGE_WEIGHT_TYPE", "").upper()
        fmt = header.get("EDGE_WEIGHT_FORMAT", "").upper()
        if kind != "EXPLICIT" or fmt != "FULL_MATRIX":
            raise OrlearnError(f"{path}: only EXPLICIT FULL_MATRIX weights are supported")
        n = header_int(header, "DIMENSION", path)
        values = sections.get("EDGE_WEIGHT_SECTION")
        if values is None or len(values) != n * n:
            raise OrlearnError(f"{path}: EDGE_WEIGHT_SECTION must hold {n}x{n} numbers")
        if n < 3:
            raise OrlearnError(f"{path}: DIMENSION {n} is too small for a tour")
        dist = np.asarray(values, dtype=np.float64).reshape(n, n)
        np.fill_diagonal(dist, 0.0)  # TSPLIB puts dummy values (9999, ...) there
        return ATSPInstance(dist, name=Path(path).stem,
                            optimum=lookup_optimum(path, "optima.csv", "optimal_value"))

    def objective(self, instance: ATSPInstance, solution: Sequence[int]) -> float:
        return path_length(instance.dist, solution)

    def check(self, instance: ATSPInstance, solution: Sequence[int]) -> str | None:
        if sorted(solution) != list(range(instance.n)):
            return "the tour does not visit every node exactly once"
        return None

    def expert(self, instance: ATSPInstance, time_limit: float, seed: int) -> list[int]:
        integral = np.all(instance.dist == np.round(instance.dist))
        dist = instance.dist.astype(np.int64) if integral else np.rint(instance.dist * 1e5).astype(np.int64)
        routes = pyvrp_routes(dist, time_limit, seed)
        return [0] + [v for r in routes for v in r]

    def augment(
        self, instance: ATSPInstance, solution: Sequence[int], rng: np.random.Generator
    ) -> tuple[ATSPInstance, list[int]]:
        # A random start node, relabelled 0 (arcs are directed: no reversal, no plane symmetry).
        perm = swap_labels(instance.n, 0, int(rng.integers(instance.n)))
        tour = perm[np.asarray(solution, dtype=np.int64)]
        return dataclasses.replace(instance, dist=instance.dist[perm][:, perm]), tour.tolist()

    def trajectory(self, instance: ATSPInstance, solution: Sequence[int]) -> np.ndarray:
        tour = np.asarray(solution, dtype=np.int64)
        tour = np.roll(tour, -int(np.flatnonzero(tour == 0)[0]))
        return tour[1:, None]

    def initial_state(self, instances: Sequence[ATSPInstance]) -> ATSPState:
        d = torch.as_tensor(np.stack([i.dist for i in instances]), dtype=torch.float32)
        b, n = d.shape[:2]
        ids = torch.cat([torch.zeros(b, 1, dtype=torch.long), torch.arange(n).expand(b, n)], 1)
        return ATSPState(_gather(d, ids), ids)

    def reduce(self, state: ATSPState, prefix: torch.Tensor) -> ATSPState:
        if prefix.shape[1] == 0:
            return state
        visited = prefix[:, :, 0]
        b, m = state.ids.shape
        hit = state.ids[:, 2:, None] == visited[:, None, :]
        last = hit[:, :, -1].float().argmax(1) + 2
        keep = ~hit.any(-1)
        rest = remove_tokens(torch.arange(2, m).expand(b, m - 2), keep)
        pos = torch.cat([last[:, None], torch.ones(b, 1, dtype=torch.long), rest], 1)
        return ATSPState(_gather(state.dist, pos), state.ids.gather(1, pos))

    def target_actions(self, state: ATSPState, rows: torch.Tensor) -> torch.Tensor:
        return token_position(state.ids, rows[:, 0])

    def step(self, state: ATSPState, actions: torch.Tensor) -> ATSPState:
        b, m = state.ids.shape
        (pos,) = move_to_slot([torch.arange(m).expand(b, m)], actions, 0)
        return ATSPState(_gather(state.dist, pos), state.ids.gather(1, pos))

    def done(self, state: ATSPState) -> bool:
        return state.size <= 2

    def _scaled(self, state: ATSPState) -> torch.Tensor:
        # Scale invariance: lengths relative to the largest arc of the sub-problem.
        return state.dist / state.dist.amax((1, 2), keepdim=True).clamp_min(1e-9)

    def features(self, state: ATSPState) -> torch.Tensor:
        d = self._scaled(state)
        b, m = state.ids.shape
        off = d + torch.eye(m) * 1e9  # ignore the diagonal in the minima
        flags = torch.zeros(b, m, 2)
        flags[:, 0, 0] = 1.0
        flags[:, 1, 1] = 1.0
        stats = torch.stack(
            [d[:, 0, :], d[:, :, 1], off.amin(2).clamp(max=1.0), off.amin(1).clamp(max=1.0)], -1
        )
        return torch.cat([flags, stats], -1)

    def attention_bias(self, state: ATSPState) -> torch.Tensor:
        d = self._scaled(state)
        return torch.stack([d, d.transpose(1, 2)], -1)

    def mask(self, state: ATSPState) -> torch.Tensor:
        m = torch.ones(state.batch, state.size, 1, dtype=torch.bool)
        m[:, :2] = False
        return m

    def record(self, state: ATSPState, actions: torch.Tensor) -> torch.Tensor:
        return state.ids[torch.arange(state.batch), actions][:, None]

    def solution(self, instance: ATSPInstance, records: np.ndarray) -> list[int]:
        return [0] + [int(v) for v in records[:, 0]]

    def knn(self, state: ATSPState, k: int) -> tuple[ATSPState, torch.Tensor] | None:
        if state.size - 2 <= k:
            return None
        b = state.batch
        near = state.dist[:, 0, 2:].topk(k, dim=1, largest=False).indices.sort(1).values + 2
        pos = torch.cat([torch.arange(2).expand(b, 2), near], 1)
        return ATSPState(_gather(state.dist, pos), state.ids.gather(1, pos)), pos


PROBLEM = ATSP()
