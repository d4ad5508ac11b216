"""orlearn.construct.solve, the public entry point: results as they come, torch threads for the
call only."""

from __future__ import annotations

import torch

from orlearn.construct import solve
from orlearn.construct.model import build_model
from orlearn.construct.problems import get_problem
from orlearn.policy_file import PolicyFile, save_policy

TINY = {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32}


def test_threads_hold_for_the_call_and_results_arrive_as_solved(tmp_path):
    torch.manual_seed(0)
    model = build_model(get_problem("kp"), TINY)
    policy = save_policy(tmp_path / "kp.pt", PolicyFile(
        kind="construct/kp", feature_version=1, hyperparameters=TINY,
        state_dict=model.state_dict(), metadata={"config": {"n": 20}}))
    instances = get_problem("kp").generate(12, 3, 0)
    seen = []
    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    try:
        results = solve("kp", instances, policy=policy, batch_size=1, threads=other,
                        on_result=lambda i, r: seen.append((i, r, torch.get_num_threads())))
        after = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert after == before
    assert [i for i, _, _ in seen] == [0, 1, 2] and all(t == other for _, _, t in seen)
    assert [r for _, r, _ in seen] == results
