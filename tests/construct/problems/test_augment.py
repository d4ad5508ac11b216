"""Problem.augment: a random equivalent copy of an instance and its solution, whose trajectory
replays step by step to a solution of the same objective."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.construct.problems import NAMES, get_problem


@settings(max_examples=16, deadline=None)
@given(name=st.sampled_from(NAMES), n=st.integers(4, 9), seed=st.integers(0, 10_000))
def test_augmented_copies_keep_objective_and_replay(h, name, n, seed):
    p = get_problem(name)
    instances = p.generate(n, 2, seed)
    _, rows = h.random_rollout(name, instances, seed)
    sols = [p.solution(i, r) for i, r in zip(instances, rows.numpy())]
    rng = np.random.default_rng(seed)
    pairs = [p.augment(i, s, rng) for i, s in zip(instances, sols)]
    for (inst, sol), (a_inst, a_sol) in zip(zip(instances, sols), pairs):
        assert p.check(a_inst, a_sol) is None
        assert p.objective(a_inst, a_sol) == pytest.approx(p.objective(inst, sol))
        assert len(p.trajectory(a_inst, a_sol)) == len(p.trajectory(inst, sol))
    a_insts = [a for a, _ in pairs]
    trajs = [p.trajectory(a, s) for a, s in pairs]
    if len({len(t) for t in trajs}) > 1:  # replay in one batch needs equal lengths
        return
    traj = torch.as_tensor(np.stack(trajs))
    state = p.initial_state(a_insts)
    rec = []
    for t in range(traj.shape[1]):
        if p.done(state):
            break
        action = p.target_actions(state, traj[:, t])
        if action.dtype == torch.bool:  # KP: any optimal item; take the first
            action = action.float().argmax(1)
        assert bool(p.mask(state).reshape(state.batch, -1)[torch.arange(2), action].all())
        rec.append(p.record(state, action))
        state = p.step(state, action)
    rec = torch.stack(rec, 1).numpy()
    for (a_inst, a_sol), r in zip(pairs, rec):
        assert p.objective(a_inst, p.solution(a_inst, r)) == pytest.approx(
            p.objective(a_inst, a_sol))


def test_tsp_augment_moves_the_start_and_keeps_the_plane():
    p = get_problem("tsp")
    inst = p.generate(12, 1, 5)[0]
    tour = list(range(12))
    rng = np.random.default_rng(0)
    starts = set()
    for _ in range(20):
        a_inst, a_tour = p.augment(inst, tour, rng)
        assert sorted(a_tour) == tour
        lo, hi = inst.coords.min(0), inst.coords.max(0)
        assert np.all(a_inst.coords >= lo.min() - 1e-12) and np.all(a_inst.coords <= hi.max() + 1e-12)
        starts.add(tuple(np.round(a_inst.coords[0], 6)))
    assert len(starts) > 5  # node 0 (the start) is a different point most of the time
