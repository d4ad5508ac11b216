"""Tiny set cover instances that SCIP has to branch on (presolve and heuristics off)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

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


class Spy(pyscipopt.Branchrule):
    """Calls ``fn(model)`` at every branching node (up to ``limit``) and lets SCIP branch."""

    def __init__(self, fn, limit: int = 10**9):
        self.fn = fn
        self.limit = limit
        self.records: list = []
        self.errors: list = []

    def branchexeclp(self, allowaddcons):
        if len(self.records) < self.limit:
            try:
                self.records.append(self.fn(self.model))
            except Exception as exc:  # surfaced by the test, never inside SCIP
                self.errors.append(exc)
        return {"result": pyscipopt.SCIP_RESULT.DIDNOTRUN}


def spy_on(model: pyscipopt.Model, fn, limit: int = 10**9, priority: int = 10**7) -> Spy:
    spy = Spy(fn, limit)
    model.includeBranchrule(spy, "test-spy", "", priority, -1, 1.0)
    return spy


@pytest.fixture(scope="session")
def random_policy(tmp_path_factory) -> Path:
    """An untrained GNN saved as a valid branching policy file."""
    import torch

    from orlearn.branching.model import BranchingGNN
    from orlearn.branching.observation import FEATURE_VERSION
    from orlearn.policy_file import PolicyFile, save_policy

    torch.manual_seed(0)
    model = BranchingGNN(emb=16)
    path = tmp_path_factory.mktemp("policy") / "random.pt"
    save_policy(
        path,
        PolicyFile(
            kind="branching",
            feature_version=FEATURE_VERSION,
            hyperparameters=model.hyperparameters(),
            state_dict=model.state_dict(),
            extra={"normalization": model.normalization()},
        ),
    )
    return path


@pytest.fixture(scope="session")
def tiny():
    """The helpers above, for test modules (conftest is not importable under importlib mode)."""
    return SimpleNamespace(
        setcover=tiny_setcover, configure=configure, spy_on=spy_on, hard_params=hard_params
    )
