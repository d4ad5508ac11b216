"""Shared fixtures: tiny multi-dimensional knapsacks that branch, and a tiny imitation policy."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyscipopt as scip
import pytest
import torch

from orlearn.branching.model import BranchingGNN
from orlearn.branching.observation import FEATURE_VERSION
from orlearn.milp.io import write_model
from orlearn.policy_file import PolicyFile, save_policy

# 16 items, 5 knapsacks: these seeds take 50-90 nodes with the tiny policy below (~0.5 s each).
SEEDS = (0, 2, 3, 4)


def knapsack(seed: int, n: int = 16, m: int = 5) -> scip.Model:
    """A random multi-dimensional 0-1 knapsack (maximisation), capacities a third of the weight."""
    rng = np.random.default_rng(seed)
    model = scip.Model(f"mkp_{seed}")
    x = [model.addVar(f"x{i}", vtype="B") for i in range(n)]
    w = rng.integers(10, 40, (m, n))
    for k in range(m):
        model.addCons(scip.quicksum(int(w[k, i]) * x[i] for i in range(n)) <= int(w[k].sum() // 3))
    value = w.mean(0) + rng.integers(0, 10, n)
    model.setObjective(scip.quicksum(float(value[i]) * x[i] for i in range(n)), "maximize")
    return model


@pytest.fixture(scope="session")
def instance_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("instances")
    for s in SEEDS:
        write_model(knapsack(s), out / f"mkp_{s}.mps.gz")
    return out


@pytest.fixture(scope="session")
def imitation_policy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained imitation GNN (emb 16) in the imitation policy-file format."""
    torch.manual_seed(0)
    gnn = BranchingGNN(emb=16)
    path = tmp_path_factory.mktemp("policies") / "imitation.pt"
    save_policy(
        path,
        PolicyFile(
            kind="branching", feature_version=FEATURE_VERSION,
            hyperparameters=gnn.hyperparameters(), state_dict=gnn.state_dict(),
            extra={"normalization": gnn.normalization()},
        ),
    )  # fmt: skip
    return path
