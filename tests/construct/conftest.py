"""Shared helpers for the construct tests (fixture ``h``): tiny models, random rollouts."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from orlearn.construct.model import build_model
from orlearn.construct.problems import get_problem

INSTANCES = Path(__file__).resolve().parents[2] / "instances" / "construct"
TINY = {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32}


def tiny_model(problem: str, seed: int = 0):
    torch.manual_seed(seed)
    model = build_model(get_problem(problem), TINY)
    model.eval()
    return model


def random_rollout(problem: str, instances, seed: int) -> list:
    """States and recorded rows of a uniformly random feasible rollout (all instances in step)."""
    prob = get_problem(problem)
    gen = torch.Generator().manual_seed(seed)
    state = prob.initial_state(instances)
    states, rows = [state], []
    while not prob.done(state):
        mask = prob.mask(state).reshape(state.batch, -1).float()
        action = torch.multinomial(mask, 1, generator=gen)[:, 0]
        rows.append(prob.record(state, action))
        state = prob.step(state, action)
        states.append(state)
    return states, torch.stack(rows, 1) if rows else torch.zeros(len(instances), 0, 1, dtype=torch.long)


def assert_same_state(a, b) -> None:
    for name, va in vars(a).items():
        vb = getattr(b, name)
        assert va.shape == vb.shape, name
        if va.dtype.is_floating_point:
            assert torch.allclose(va, vb, atol=1e-5), name
        else:
            assert torch.equal(va, vb), name


@pytest.fixture(scope="session")
def h() -> SimpleNamespace:
    return SimpleNamespace(
        INSTANCES=INSTANCES, tiny_model=tiny_model, random_rollout=random_rollout,
        assert_same_state=assert_same_state,
    )
