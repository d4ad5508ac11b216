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


def _write_knapsack(path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    model = pyscipopt.Model(path.stem)
    model.hideOutput()
    x = [model.addVar(vtype="B") for _ in range(15)]
    w = [rng.randint(5, 40) for _ in x]
    model.addCons(pyscipopt.quicksum(wi * xi for wi, xi in zip(w, x)) <= sum(w) // 2)
    model.setObjective(pyscipopt.quicksum((wi + rng.randint(0, 9)) * xi for wi, xi in zip(w, x)),
                       "maximize")
    model.writeProblem(str(path), verbose=False)
    return path


def _demo_root(tmp_path: Path) -> Path:
    """Three sets laid out as the shipped instances/milp/ (two small test sets, one medium)."""
    from orlearn.demo import INSTANCE_DIR

    for name in ("setcover_small_test", "facility_small_test", "setcover_medium_test"):
        folder = tmp_path / INSTANCE_DIR / name
        folder.mkdir(parents=True)
        for k in range(4):
            _write_knapsack(folder / f"{name}_{k}.mps", k)
        (folder / "manifest.json").write_text("[]")
    return tmp_path


@pytest.fixture
def demo_root() -> Callable[[Path], Path]:
    """``demo_root(tmp_path)`` lays out tiny knapsack sets as the demo finds them; returns the root."""
    return _demo_root
