"""Generators, readers, objectives, checkers and the BQ state reduction of every problem."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.construct.problems import NAMES, get_problem
from orlearn.construct.problems.cvrp import default_capacity
from orlearn.errors import OrlearnError


@pytest.mark.parametrize("name", NAMES)
def test_generators_are_seeded_and_prefix_stable(name):
    p = get_problem(name)
    a, b = p.generate(12, 3, seed=5), p.generate(12, 5, seed=5)
    for x, y in zip(a, b[:3]):
        for f in vars(x):
            vx, vy = getattr(x, f), getattr(y, f)
            if isinstance(vx, np.ndarray):
                assert np.array_equal(vx, vy)
    assert p.size_of(a[0]) == 12


def test_generator_distributions():
    cvrp = get_problem("cvrp").generate(100, 2, 0)
    assert cvrp[0].capacity == 50 == default_capacity(100)
    assert cvrp[0].demands[0] == 0 and 1 <= cvrp[0].demands[1:].min() and cvrp[0].demands.max() <= 9
    op = get_problem("op").generate(100, 1, 0)[0]
    assert op.max_length == 4.0 and op.prizes[0] == 0
    far = int(np.argmax(np.linalg.norm(op.coords - op.coords[0], axis=1)))
    assert op.prizes[far] == 1.0  # distance-based prizes: the farthest node pays most
    kp = get_problem("kp").generate(50, 1, 0)[0]
    assert kp.capacity == 25 and 0 <= kp.values.min() and kp.weights.max() <= 1


def _tour(path):
    lines = path.read_text().split("TOUR_SECTION")[1].split()
    return [int(v) - 1 for v in lines if v not in ("-1", "EOF")]


@pytest.mark.parametrize("name", ["eil51", "kroA100"])
def test_tsplib_reader_and_rounded_metric_reproduce_the_optimum(h, name):
    p = get_problem("tsp")
    inst = p.read(h.INSTANCES / "tsplib" / f"{name}.tsp")
    tour = _tour(h.INSTANCES / "tsplib" / f"{name}.opt.tour")
    assert inst.rounded and inst.n == len(tour)
    assert p.check(inst, tour) is None
    assert p.objective(inst, tour) == inst.optimum  # 426 / 21282 with nint distances


def test_cvrplib_reader_reproduces_the_bks(h):
    p = get_problem("cvrp")
    inst = p.read(h.INSTANCES / "cvrplib" / "X-n101-k25.vrp")
    assert inst.n == 100 and inst.capacity == 206 and inst.optimum == 27591
    routes = [
        [int(v) for v in line.split(":")[1].split()]
        for line in (h.INSTANCES / "cvrplib" / "X-n101-k25.sol").read_text().splitlines()
        if line.startswith("Route")
    ]
    assert p.check(inst, routes) is None
    assert p.objective(inst, routes) == 27591


def test_atsp_reader(h):
    p = get_problem("atsp")
    inst = p.read(h.INSTANCES / "tsplib" / "br17.atsp")
    assert inst.n == 17 and inst.optimum == 39 and np.all(np.diag(inst.dist) == 0)
    assert p.read(h.INSTANCES / "tsplib" / "ftv33.atsp").n == 34


def test_checkers_reject_infeasible_solutions():
    tsp = get_problem("tsp")
    t = tsp.generate(5, 1, 0)[0]
    assert tsp.check(t, [0, 1, 2, 3, 4]) is None and tsp.check(t, [0, 1, 2, 3, 3])
    cvrp = get_problem("cvrp")
    c = cvrp.generate(10, 1, 0)[0]
    assert cvrp.check(c, [list(range(1, 11))])  # one route: total demand > capacity 20
    assert cvrp.check(c, [[i] for i in range(1, 11)]) is None
    op = get_problem("op")
    o = op.generate(10, 1, 0)[0]
    assert op.check(o, []) is None and op.check(o, [0])
    kp = get_problem("kp")
    k = kp.generate(200, 1, 0)[0]
    assert kp.check(k, list(range(200)))  # total weight ~100 > 25


def test_bad_input_gives_clear_errors(tmp_path, h):
    bad = tmp_path / "bad.tsp"
    bad.write_text("NAME: bad\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                   "NODE_COORD_SECTION\n1 0 0\n2 1 x\nEOF\n")
    with pytest.raises(OrlearnError, match="non-numeric"):
        get_problem("tsp").read(bad)
    bad.write_text("NAME: bad\nTYPE: TSP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\n"
                   "NODE_COORD_SECTION\n1 0 0\n2 1 1\nEOF\n")
    with pytest.raises(OrlearnError, match="NODE_COORD_SECTION"):
        get_problem("tsp").read(bad)
    with pytest.raises(OrlearnError, match="not found"):
        get_problem("tsp").read(tmp_path / "missing.tsp")
    vrp = tmp_path / "big.vrp"
    vrp.write_text("NAME: big\nTYPE: CVRP\nDIMENSION: 3\nEDGE_WEIGHT_TYPE: EUC_2D\nCAPACITY: 10\n"
                   "NODE_COORD_SECTION\n1 0 0\n2 1 1\n3 2 2\nDEMAND_SECTION\n1 0\n2 5\n3 11\n"
                   "DEPOT_SECTION\n1\n-1\nEOF\n")
    with pytest.raises(OrlearnError, match="more than the capacity"):
        get_problem("cvrp").read(vrp)
    kp = get_problem("kp")
    inst = kp.generate(5, 1, 0)[0]
    inst.capacity = 1e-3
    with pytest.raises(OrlearnError, match="no item fits"):
        kp.initial_state([inst])
    with pytest.raises(OrlearnError, match="unknown problem"):
        get_problem("vrptw")


# --- the BQ state reduction --------------------------------------------------------------------


@settings(max_examples=12, deadline=None)
@given(name=st.sampled_from(NAMES), n=st.integers(4, 9), seed=st.integers(0, 10_000),
       data=st.data())
def test_subproblem_of_subproblem_is_the_direct_subproblem(h, name, n, seed, data):
    """Stepping t times, reducing by the whole prefix, and reducing by a split prefix in two
    goes all give the same state."""
    p = get_problem(name)
    instances = p.generate(n, 2, seed)
    states, rows = h.random_rollout(name, instances, seed)
    t = data.draw(st.integers(0, rows.shape[1]))
    if name == "op" and t > 0:  # OP prefixes are visits; an end row (0) is not a prefix
        visits = int((rows[:, :, 0] != 0).all(0).long().cumprod(0).sum())
        t = min(t, visits)
    if name == "kp":  # KP prefixes are takes; -1 rows are no-ops after the end
        takes = int((rows[:, :, 0] >= 0).all(0).long().cumprod(0).sum())
        t = min(t, takes)
    s = data.draw(st.integers(0, t))
    root = p.initial_state(instances)
    direct = p.reduce(root, rows[:, :t])
    h.assert_same_state(direct, states[t])
    h.assert_same_state(p.reduce(p.reduce(root, rows[:, :s]), rows[:, s:t]), direct)


@pytest.mark.parametrize("name", ["tsp", "cvrp"])
def test_expert_trajectory_replays_to_the_expert_solution(name):
    p = get_problem(name)
    instances = p.generate(8, 2, 3)
    sols = [p.expert(i, 0.05, 0) for i in instances]
    rows = torch.as_tensor(np.stack([p.trajectory(i, s) for i, s in zip(instances, sols)]))
    state = p.initial_state(instances)
    rec = []
    for t in range(rows.shape[1]):
        action = p.target_actions(state, rows[:, t])
        assert bool(p.mask(state).reshape(state.batch, -1)[torch.arange(2), action].all())
        rec.append(p.record(state, action))
        state = p.step(state, action)
    assert p.done(state)
    rec = torch.stack(rec, 1).numpy()
    for inst, sol, r in zip(instances, sols, rec):
        assert p.objective(inst, p.solution(inst, r)) == pytest.approx(p.objective(inst, sol))
