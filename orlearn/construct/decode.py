"""Inference: greedy and beam search over the BQ-MDP, batched; k-NN restriction for large
instances; 2-opt as a separate, separately reported improvement step."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from orlearn.construct.model import BQPolicy, policy_logits
from orlearn.construct.problems import Problem

log = logging.getLogger(__name__)


@dataclasses.dataclass
class Decoded:
    """One instance's result: solution, objective, and wall time per instance (s)."""

    solution: Any
    objective: float
    seconds: float


def _choose(problem: Problem, model: BQPolicy, state: Any, knn: int | None) -> torch.Tensor:
    """Log-probabilities (B, L * A) of every action of the full state; with ``knn`` the
    network sees only the k candidates nearest the current position."""
    restricted = problem.knn(state, knn) if knn else None
    if restricted is None:
        logits = policy_logits(model, problem, state)
    else:
        sub, pos = restricted
        a = problem.actions_per_token
        sub_logits = policy_logits(model, problem, sub).reshape(sub.batch, sub.size, a)
        logits = torch.full((state.batch, state.size, a), float("-inf"))
        logits.scatter_(1, pos[:, :, None].expand(-1, -1, a), sub_logits)
        logits = logits.reshape(state.batch, -1)
    # A row with no feasible action only occurs for dead beams (score -inf); keep it finite.
    dead = torch.isinf(logits).all(1)
    if bool(dead.any()):
        logits[dead, 0] = 0.0
    return torch.log_softmax(logits, dim=1)


@torch.no_grad()
def _beam_batch(
    problem: Problem, model: BQPolicy, instances: Sequence[Any], width: int, knn: int | None
) -> list[list[tuple[float, np.ndarray]]]:
    """Beam search on equal-size instances: for each instance, its (log-prob, records) beams."""
    b = len(instances)
    state = problem.initial_state(instances)
    state = state.select(torch.arange(b).repeat_interleave(width))
    score = torch.full((b, width), float("-inf"))
    score[:, 0] = 0.0  # all beams start identical: expand only the first
    score = score.reshape(-1)
    records: list[torch.Tensor] = []
    while not problem.done(state):
        logp = _choose(problem, model, state, knn)
        n_act = logp.shape[1]
        cand = (score[:, None] + logp).reshape(b, width * n_act)
        top = cand.topk(min(width, width * n_act), dim=1)
        k = top.values.shape[1]
        parent = (top.indices // n_act) + torch.arange(b)[:, None] * width
        action = top.indices % n_act
        if k < width:  # fewer actions than beams: pad with dead copies
            pad = width - k
            parent = torch.cat([parent, parent[:, :1].expand(b, pad)], 1)
            action = torch.cat([action, action[:, :1].expand(b, pad)], 1)
            top_values = torch.cat([top.values, torch.full((b, pad), float("-inf"))], 1)
        else:
            top_values = top.values
        parent, action = parent.reshape(-1), action.reshape(-1)
        state = state.select(parent)
        records = [r[parent] for r in records]
        records.append(problem.record(state, action))
        state = problem.step(state, action)
        score = top_values.reshape(-1)
    hist = torch.stack(records, 1).numpy() if records else np.zeros((b * width, 0, 1), np.int64)
    sc = score.reshape(b, width).numpy()
    return [[(float(sc[i, j]), hist[i * width + j]) for j in range(width)] for i in range(b)]


def solve(
    problem: Problem,
    model: BQPolicy,
    instances: Sequence[Any],
    *,
    beam: int = 1,
    knn: int | None = None,
    batch_size: int = 64,
    on_result: Callable[[int, Decoded], None] | None = None,
) -> list[Decoded]:
    """Construct a solution for every instance: greedy (``beam`` 1) or beam search. Instances of
    equal size are decoded together in batches of ``batch_size`` (beam search divides it by the
    width). Beam search returns the best feasible of its beams and the greedy solution, so it is
    never worse than greedy. ``on_result(i, decoded)`` is called as soon as instance ``i``'s
    batch is done (for progress and for writing results as they come)."""
    model.eval()
    results: list[Decoded | None] = [None] * len(instances)
    groups: dict[int, list[int]] = {}
    for i, inst in enumerate(instances):
        groups.setdefault(problem.size_of(inst), []).append(i)
    sign = 1.0 if problem.sense == "min" else -1.0
    for idx in groups.values():
        per_batch = max(1, batch_size // max(beam, 1))
        for start in range(0, len(idx), per_batch):
            chunk = idx[start : start + per_batch]
            insts = [instances[i] for i in chunk]
            t0 = time.perf_counter()
            candidates = [_beam_batch(problem, model, insts, 1, knn)]
            if beam > 1:
                candidates.append(_beam_batch(problem, model, insts, beam, knn))
            elapsed = (time.perf_counter() - t0) / len(chunk)
            for j, i in enumerate(chunk):
                best: tuple[float, Any] | None = None
                for beams in candidates:
                    for logp, rec in beams[j]:
                        if not np.isfinite(logp):
                            continue
                        sol = problem.solution(insts[j], rec)
                        if problem.check(insts[j], sol) is not None:
                            continue
                        obj = problem.objective(insts[j], sol)
                        if best is None or sign * obj < sign * best[0]:
                            best = (obj, sol)
                if best is None:  # cannot happen with consistent masks; keep it loud
                    raise RuntimeError(f"no feasible solution decoded for instance {i}")
                decoded = Decoded(best[1], best[0], elapsed)
                results[i] = decoded
                if on_result is not None:
                    on_result(i, decoded)
    return [r for r in results if r is not None]


def two_opt(dist: np.ndarray, tour: Sequence[int], *, max_seconds: float = 10.0) -> list[int]:
    """Best-improvement 2-opt on a closed tour (symmetric ``dist``) until no move improves or
    ``max_seconds`` pass; a local-improvement step kept apart from the learned construction."""
    t = np.asarray(tour, dtype=np.int64)
    n = len(t)
    if n < 4:
        return t.tolist()
    deadline = time.perf_counter() + max_seconds
    while time.perf_counter() < deadline:
        a, b = t, np.roll(t, -1)
        # Reversing t[i+1..j] replaces edges (a_i,b_i), (a_j,b_j) by (a_i,a_j), (b_i,b_j).
        delta = (
            dist[a[:, None], a[None, :]]
            + dist[b[:, None], b[None, :]]
            - dist[a, b][:, None]
            - dist[a, b][None, :]
        )
        delta = np.triu(delta, 2)
        delta[0, n - 1] = 0.0
        i, j = np.unravel_index(np.argmin(delta), delta.shape)
        if delta[i, j] >= -1e-9:
            break
        t[i + 1 : j + 1] = t[i + 1 : j + 1][::-1].copy()
    return t.tolist()


def improve(problem: Problem, instance: Any, solution: Any, *, max_seconds: float = 10.0) -> Any:
    """2-opt on a TSP tour, or on each CVRP route (depot included); other problems unchanged."""
    if problem.name == "tsp":
        return two_opt(instance.distances(), solution, max_seconds=max_seconds)
    if problem.name == "cvrp":
        d = instance.distances()
        routes = []
        for route in solution:
            t = two_opt(d, [0, *route], max_seconds=max_seconds)
            k = t.index(0)
            routes.append(t[k + 1 :] + t[:k])
        return routes
    return solution
