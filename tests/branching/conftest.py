"""Tiny set cover instances that SCIP has to branch on (presolve and heuristics off)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyscipopt
import pytest


def tiny_setcover(seed: int, n_rows: int = 200, n_cols: int = 200, density: float = 0.04):
    """A random set cover (costs 1..100) small enough to solve in well under a second."""
    rng = np.random.default_rng(seed)
    model = pyscipopt.Model(f"tiny_setcover_{seed}")
    model.hideOutput()
    x = [model.addVar(vtype="B", obj=int(rng.integers(1, 101)), name=f"x{j}") for j in range(n_cols)]
    rows = [set(rng.choice(n_cols, 2, replace=False).tolist()) for _ in range(n_rows)]
    for _ in range(int(n_rows * n_cols * density) - 2 * n_rows):
        rows[int(rng.integers(n_rows))].add(int(rng.integers(n_cols)))
    for i, r in enumerate(rows):
        model.addCons(pyscipopt.quicksum(x[j] for j in sorted(r)) >= 1, name=f"c{i}")
    return model


def hard_params() -> dict:
    """SCIP parameters that leave the work to branching: no presolve, cuts or heuristics."""
    probe = pyscipopt.Model()
    params = {k: -1 for k in probe.getParams() if k.startswith("heuristics/") and k.endswith("/freq")}
    params.update({"presolving/maxrounds": 0, "separating/maxroundsroot": 0})
    return params


def configure(model: pyscipopt.Model) -> pyscipopt.Model:
    for key, value in {**hard_params(), "separating/maxrounds": 0}.items():
        model.setParam(key, value)
    return model


@pytest.fixture(scope="session")
def tiny_dir(tmp_path_factory) -> Path:
    """Eight tiny instances as MPS files (seeds chosen to need tens of nodes)."""
    d = tmp_path_factory.mktemp("tiny")
    for seed in range(1, 9):
        tiny_setcover(seed).writeProblem(str(d / f"tiny_{seed}.mps"), verbose=False)
    return d
