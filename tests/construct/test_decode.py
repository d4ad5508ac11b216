"""Decoding: every solution feasible, beam never worse than greedy, k-NN on large instances, 2-opt."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.construct.decode import improve, solve, two_opt
from orlearn.construct.problems import NAMES, get_problem


@settings(max_examples=15, deadline=None)
@given(name=st.sampled_from(NAMES), n=st.integers(3, 12), seed=st.integers(0, 10_000),
       beam=st.sampled_from([1, 3]), knn=st.sampled_from([None, 2, 4]))
def test_every_decoded_solution_is_feasible(h, name, n, seed, beam, knn):
    p = get_problem(name)
    instances = p.generate(n, 3, seed)
    model = h.tiny_model(name, seed % 7)
    for inst, res in zip(instances, solve(p, model, instances, beam=beam, knn=knn)):
        assert p.check(inst, res.solution) is None
        assert res.objective == pytest.approx(p.objective(inst, res.solution))


@settings(max_examples=8, deadline=None)
@given(name=st.sampled_from(NAMES), seed=st.integers(0, 10_000))
def test_beam_is_never_worse_than_greedy(h, name, seed):
    p = get_problem(name)
    instances = p.generate(10, 3, seed)
    model = h.tiny_model(name, seed % 5)
    greedy = solve(p, model, instances)
    beam = solve(p, model, instances, beam=4)
    sign = 1 if p.sense == "min" else -1
    for g, b in zip(greedy, beam):
        assert sign * b.objective <= sign * g.objective + 1e-9


def test_knn_handles_an_instance_far_larger_than_training(h):
    p = get_problem("tsp")
    inst = p.generate(60, 1, 0)
    res = solve(p, h.tiny_model("tsp"), inst, knn=6)[0]
    assert p.check(inst[0], res.solution) is None


def test_two_opt_improves_and_keeps_a_tour():
    p = get_problem("tsp")
    inst = p.generate(40, 1, 1)[0]
    tour = list(np.random.default_rng(0).permutation(40))
    better = two_opt(inst.distances(), tour)
    assert sorted(better) == list(range(40))
    assert p.objective(inst, better) < p.objective(inst, tour)
    cvrp = get_problem("cvrp")
    c = cvrp.generate(12, 1, 0)[0]
    routes = [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]
    routes = [r for r in routes if c.demands[r].sum() <= c.capacity] or [[i] for i in range(1, 13)]
    if cvrp.check(c, routes) is None:
        out = improve(cvrp, c, routes)
        assert cvrp.check(c, out) is None
        assert cvrp.objective(c, out) <= cvrp.objective(c, routes) + 1e-9
