"""From a constructed solution to values of a user's model variables (SCIP or Pyomo).

A user's MILP names its decisions its own way; the hooks take a mapping from orlearn's decision
keys to the model's variables and check that it covers exactly the decisions of the instance:

=========  ==========================================  =========================================
problem    instance                                    keys of ``variables``
=========  ==========================================  =========================================
``kp``     :class:`~orlearn.construct.problems.kp.     item ``i`` (0..n-1) -> binary "take i"
           KPInstance`
``mkp``    :class:`~orlearn.construct.multiknapsack.   ``(i, k)`` -> binary "item i in knapsack
           MultiKnapsackInstance`                      k", every item and knapsack
``tsp``    :class:`~orlearn.construct.problems.tsp.    ``(i, j)`` for every ordered pair i != j
           TSPInstance`                                (arc variables), or for every unordered
                                                       pair once, either way round (edge
                                                       variables)
``atsp``   :class:`~orlearn.construct.problems.atsp.   ``(i, j)`` for every ordered pair i != j
           ATSPInstance`
=========  ==========================================  =========================================

Every mapped variable gets 1 if the constructed solution uses that decision, else 0. Variables
the mapping does not name (MTZ order variables, flows) are the hook's concern, not this module's.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

from orlearn.errors import OrlearnError

SUPPORTED = ("kp", "mkp", "tsp", "atsp")


@dataclasses.dataclass
class Construction:
    """A constructed solution: the problem's own form, its objective, the 0/1 value of every
    decision key, and the policy's wall time (s)."""

    solution: Any
    objective: float
    values: dict[Hashable, float]
    seconds: float


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which decision keys a mapping uses (``undirected``: TSP edges given once per pair)."""

    problem: str
    n: int
    undirected: bool = False


def layout(problem: str, instance: Any, keys: Iterable[Hashable]) -> Layout:
    """Check that ``keys`` are exactly the decisions of ``instance`` (see the module table);
    raises :class:`OrlearnError` naming what was expected."""
    if problem not in SUPPORTED:
        raise OrlearnError(f"unknown problem '{problem}' for a solver hook (choose from {', '.join(SUPPORTED)})")
    expected_type = _instance_type(problem)
    if not isinstance(instance, expected_type):
        raise OrlearnError(
            f"{problem} needs a {expected_type.__module__}.{expected_type.__name__}, got {type(instance).__name__}"
        )
    keys = list(keys)
    n = int(instance.n)
    if problem == "kp":
        expected: set = set(range(n))
        what = f"{n} items 0..{n - 1}"
    elif problem == "mkp":
        expected = {(i, k) for i in range(n) for k in range(instance.m)}
        what = f"{n * instance.m} (item, knapsack) pairs for {n} items and {instance.m} knapsacks"
    else:
        expected = {(i, j) for i in range(n) for j in range(n) if i != j}
        what = f"{len(expected)} arcs (i, j), i != j, of {n} nodes"
        if problem == "tsp" and len(keys) == len(expected) // 2:
            edges = {frozenset(nk) for nk in map(_normalise, keys) if nk in expected}
            if len(edges) == len(keys) and all(len(e) == 2 for e in edges):
                return Layout(problem, n, undirected=True)
            raise OrlearnError(
                f"tsp variables: {len(keys)} keys look like edges, but they are not every "
                f"unordered pair of the {n} nodes exactly once"
            )
        if problem == "tsp":
            what += f", or {len(expected) // 2} edges (one key per unordered pair)"
    normalised = [_normalise(k) for k in keys]
    if len(keys) != len(expected) or set(normalised) != expected:
        extra = next((k for k, nk in zip(keys, normalised) if nk not in expected), None)
        detail = f"; unexpected key {extra!r}" if extra is not None else ""
        raise OrlearnError(f"{problem} variables: expected {what}, got {len(keys)} keys{detail}")
    return Layout(problem, n)


def construct(
    shape: Layout, instance: Any, *, policy: str | Path | None = None, beam: int = 1
) -> Construction:
    """Run the constructive policy (the shipped one of the problem by default) on ``instance``
    and express the solution as 0/1 values of the decision keys of ``shape``."""
    from orlearn.construct import multiknapsack, solve
    from orlearn.construct.problems import get_problem

    start = time.perf_counter()
    if shape.problem == "mkp":
        solution: Any = multiknapsack.construct(instance, policy=policy, beam=beam)
        objective = multiknapsack.objective(instance, solution)
        used: set = {(i, k) for k, items in enumerate(solution) for i in items}
        error = multiknapsack.check(instance, solution)
    else:
        problem = get_problem(shape.problem)
        solution = solve(shape.problem, [instance], policy=policy, beam=beam)[0].solution
        objective = problem.objective(instance, solution)
        error = problem.check(instance, solution)
        if shape.problem == "kp":
            used = set(solution)
        else:
            tour = list(solution)
            used = {(a, b) for a, b in zip(tour, tour[1:] + tour[:1])}
    if error is not None:  # a policy bug, not the user's: say so rather than hand SCIP garbage
        raise RuntimeError(f"the constructed {shape.problem} solution is infeasible: {error}")
    seconds = time.perf_counter() - start
    values: dict[Hashable, float] = {}
    if shape.undirected:
        edges = {frozenset(a) for a in used}
        for i in range(shape.n):
            for j in range(i + 1, shape.n):
                values[frozenset((i, j))] = 1.0 if frozenset((i, j)) in edges else 0.0
    elif shape.problem == "kp":
        values = {i: 1.0 if i in used else 0.0 for i in range(shape.n)}
    elif shape.problem == "mkp":
        values = {(i, k): 1.0 if (i, k) in used else 0.0 for i in range(shape.n) for k in range(instance.m)}
    else:
        values = {(i, j): 1.0 if (i, j) in used else 0.0 for i in range(shape.n) for j in range(shape.n) if i != j}
    return Construction(solution, float(objective), values, seconds)


def value_of(shape: Layout, values: dict[Hashable, float], key: Hashable) -> float:
    """The value of a user's key (edge keys may come either way round)."""
    return values[frozenset(_pair(key))] if shape.undirected else values[_normalise(key)]


def _instance_type(problem: str) -> type:
    from orlearn.construct.multiknapsack import MultiKnapsackInstance
    from orlearn.construct.problems.atsp import ATSPInstance
    from orlearn.construct.problems.kp import KPInstance
    from orlearn.construct.problems.tsp import TSPInstance

    return {"kp": KPInstance, "mkp": MultiKnapsackInstance, "tsp": TSPInstance, "atsp": ATSPInstance}[problem]


def _is_pair(key: Any) -> bool:
    return isinstance(key, tuple) and len(key) == 2


def _pair(key: Any) -> tuple[int, int]:
    return int(key[0]), int(key[1])


def _normalise(key: Any) -> Hashable:
    # Keys may be numpy integers or floats like 3.0: compare them as Python ints.
    if _is_pair(key):
        try:
            return _pair(key)
        except (TypeError, ValueError):
            return key
    try:
        return int(key) if int(key) == key else key
    except (TypeError, ValueError):
        return key
