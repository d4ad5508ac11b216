"""The multiple knapsack problem, solved constructively with the single-knapsack (KP) policy.

Items have one value and one weight; there are several knapsacks of their own capacities; each
item goes into at most one knapsack. The constructive scheme fills the knapsacks one after the
other, largest capacity first, each with the KP policy over the items still unassigned. This is
the first phase of the classical greedy heuristics for the problem (Martello and Toth's MTHM
fills knapsack after knapsack in the same way, with the ratio greedy where this uses the policy):
every knapsack is a standard 0/1 knapsack over what is left, which is what the KP policy was
trained on, and the result is feasible by construction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from orlearn.construct.problems.kp import KPInstance
from orlearn.errors import OrlearnError


@dataclasses.dataclass
class MultiKnapsackInstance:
    """``values`` and ``weights`` (n,) of the items, ``capacities`` (m,) of the knapsacks."""

    values: np.ndarray
    weights: np.ndarray
    capacities: np.ndarray
    name: str = ""

    @property
    def n(self) -> int:
        return int(self.values.shape[0])

    @property
    def m(self) -> int:
        return int(self.capacities.shape[0])


def generate(n: int, m: int, count: int, seed: int) -> list[MultiKnapsackInstance]:
    """``count`` random instances: values and weights uniform on [0, 1] (the KP distribution),
    ``m`` capacities uniform on [20, 30] (around the KP capacity 25 the policy was trained on)."""
    if n < 1 or m < 1:
        raise OrlearnError("a multiple knapsack needs at least one item and one knapsack")
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        vw = rng.random((2, n))
        caps = rng.uniform(20.0, 30.0, m)
        out.append(MultiKnapsackInstance(vw[0], vw[1], caps, name=f"mkp{n}x{m}-{seed}-{i}"))
    return out


def objective(instance: MultiKnapsackInstance, assignment: Sequence[Sequence[int]]) -> float:
    """Total value of the items in the knapsacks; ``assignment[k]`` lists knapsack k's items."""
    return float(sum(instance.values[list(items)].sum() for items in assignment))


def check(instance: MultiKnapsackInstance, assignment: Sequence[Sequence[int]]) -> str | None:
    """None if ``assignment`` is feasible, else the first violation."""
    if len(assignment) != instance.m:
        return f"expected {instance.m} knapsacks, got {len(assignment)}"
    seen: set[int] = set()
    for k, items in enumerate(assignment):
        items = list(items)
        if any(i < 0 or i >= instance.n for i in items) or seen & set(items) or len(set(items)) != len(items):
            return f"knapsack {k}: items must be distinct indices not used by another knapsack"
        seen |= set(items)
        if instance.weights[items].sum() > instance.capacities[k] + 1e-9:
            return f"knapsack {k}: the items exceed its capacity"
    return None


def construct(
    instance: MultiKnapsackInstance, *, policy: str | Path | None = None, beam: int = 1
) -> list[list[int]]:
    """Fill the knapsacks, largest first, with the KP policy (the shipped one by default) over
    the items not yet assigned; a knapsack that no remaining item fits stays empty."""
    from orlearn.construct import solve

    if np.any(instance.weights <= 0) or np.any(instance.values < 0) or np.any(instance.capacities <= 0):
        raise OrlearnError("multiple knapsack: weights and capacities must be > 0 and values >= 0")
    assignment: list[list[int]] = [[] for _ in range(instance.m)]
    left = np.arange(instance.n)
    for k in np.argsort(-instance.capacities, kind="stable"):
        fits = left[instance.weights[left] <= instance.capacities[k]]
        if fits.size == 0:
            continue
        sub = KPInstance(instance.values[fits], instance.weights[fits], float(instance.capacities[k]))
        chosen = solve("kp", [sub], policy=policy, beam=beam)[0].solution
        assignment[int(k)] = sorted(int(fits[i]) for i in chosen)
        left = np.setdiff1d(left, assignment[int(k)])
    return assignment
