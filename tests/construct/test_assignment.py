"""Decision maps: exactly the instance's decisions, numpy keys, TSP edges either way round."""

from __future__ import annotations

import numpy as np
import pytest

from orlearn.construct import assignment
from orlearn.construct.multiknapsack import generate
from orlearn.construct.problems import get_problem
from orlearn.errors import OrlearnError


def test_layouts_of_each_problem():
    tsp = get_problem("tsp").generate(4, 1, 0)[0]
    arcs = [(i, j) for i in range(4) for j in range(4) if i != j]
    assert not assignment.layout("tsp", tsp, arcs).undirected
    edges = [(j, i) for i in range(4) for j in range(i + 1, 4)]
    assert assignment.layout("tsp", tsp, edges).undirected
    mkp = generate(3, 2, 1, 0)[0]
    assert assignment.layout("mkp", mkp, [(i, k) for i in range(3) for k in range(2)]).problem == "mkp"
    kp = get_problem("kp").generate(3, 1, 0)[0]
    assert assignment.layout("kp", kp, np.arange(3)).n == 3


@pytest.mark.parametrize(
    ("problem", "keys", "message"),
    [
        ("tsp", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (1, 0)], "not every unordered pair"),
        ("tsp", [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), ("a", "b")], "not every unordered pair"),
        ("tsp", [(i, i) for i in range(12)], "unexpected key \\(0, 0\\)"),
        ("atsp", [(0, 1)], "expected 12 arcs"),
        ("kp", ["x", "y", "z", "w"], "expected 4 items"),
    ],
)
def test_wrong_keys_name_what_was_expected(problem, keys, message):
    inst = get_problem(problem).generate(4, 1, 0)[0]
    with pytest.raises(OrlearnError, match=message):
        assignment.layout(problem, inst, keys)


def test_an_instance_of_another_problem_is_refused():
    tsp = get_problem("tsp").generate(4, 1, 0)[0]
    with pytest.raises(OrlearnError, match="atsp needs a .*ATSPInstance, got TSPInstance"):
        assignment.layout("atsp", tsp, [(i, j) for i in range(4) for j in range(4) if i != j])


def test_tour_values_cover_every_key():
    tsp = get_problem("tsp").generate(5, 1, 0)[0]
    shape = assignment.layout("tsp", tsp, [(i, j) for i in range(5) for j in range(i + 1, 5)])
    built = assignment.construct(shape, tsp)
    ones = [e for e in built.values if built.values[e] == 1.0]
    assert len(ones) == 5  # a tour of 5 nodes uses 5 edges
    tour = built.solution
    assert assignment.value_of(shape, built.values, (tour[1], tour[0])) == 1.0
    assert built.objective == pytest.approx(get_problem("tsp").objective(tsp, tour))
