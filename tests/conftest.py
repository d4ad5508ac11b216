"""Fixtures shared across the test suite."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

import pyscipopt
import pytest


def _write_market_split(path: Path, m: int, n: int, seed: int) -> Path:
    """Write a Cornuejols-Dawande market split instance (min total slack of m equality rows).

    With m = 2 and n <= 40 a zero-slack solution is found at once; m >= 4, n >= 30 takes SCIP
    minutes, which tests use when they need a solve that is still running.
    """
    rng = random.Random(seed)
    model = pyscipopt.Model(path.stem)
    model.hideOutput()
    x = [model.addVar(vtype="B") for _ in range(n)]
    slack = []
    for _ in range(m):
        a = [rng.randint(0, 99) for _ in range(n)]
        plus, minus = model.addVar(lb=0), model.addVar(lb=0)
        model.addCons(pyscipopt.quicksum(a[j] * x[j] for j in range(n)) + plus - minus == sum(a) // 2)
        slack += [plus, minus]
    model.setObjective(pyscipopt.quicksum(slack))
    model.writeProblem(str(path), verbose=False)
    return path


@pytest.fixture
def market_split() -> Callable[[Path, int, int, int], Path]:
    """``market_split(path, m, n, seed)`` writes a market split instance and returns its path."""
    return _write_market_split
