"""One module per problem (generator, reader, BQ state, masks, checker, objective)."""

from __future__ import annotations

import importlib

from orlearn.construct.problems.base import Problem
from orlearn.errors import OrlearnError

NAMES = ("tsp", "atsp", "cvrp", "op", "kp")


def get_problem(name: str) -> Problem:
    """The problem object of ``name`` (one of :data:`NAMES`)."""
    if name not in NAMES:
        raise OrlearnError(f"unknown problem '{name}' (choose from {', '.join(NAMES)})")
    return importlib.import_module(f"orlearn.construct.problems.{name}").PROBLEM


__all__ = ["NAMES", "Problem", "get_problem"]
