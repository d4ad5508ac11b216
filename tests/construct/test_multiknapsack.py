"""Multiple knapsack: the sequential KP-policy construction is feasible; the checker catches
every kind of violation."""

from __future__ import annotations

import numpy as np
import pytest

from orlearn.construct import multiknapsack as mk


def test_generator_is_seeded_and_prefix_stable():
    a = mk.generate(30, 3, 4, 7)
    b = mk.generate(30, 3, 2, 7)
    assert np.array_equal(a[1].values, b[1].values) and np.array_equal(a[1].capacities, b[1].capacities)
    assert a[0].m == 3 and all(20 <= c <= 30 for c in a[0].capacities)


def test_construction_is_feasible_and_fills_every_knapsack():
    inst = mk.generate(200, 3, 1, 0)[0]
    assignment = mk.construct(inst)
    assert mk.check(inst, assignment) is None
    # 200 items of mean weight 0.5 outweigh the <= 90 of capacity: every knapsack is nearly full.
    for k, items in enumerate(assignment):
        assert inst.weights[items].sum() > inst.capacities[k] - 1.0
    assert mk.objective(inst, assignment) == pytest.approx(inst.values[sum(assignment, [])].sum())


def test_a_knapsack_no_item_fits_stays_empty():
    inst = mk.MultiKnapsackInstance(np.array([1.0, 0.5]), np.array([2.0, 1.0]), np.array([0.5, 3.0]))
    assert mk.construct(inst) == [[], [0, 1]]


def test_check_reports_violations():
    inst = mk.MultiKnapsackInstance(np.array([1.0, 1.0, 1.0]), np.array([1.0, 1.0, 1.0]), np.array([1.5, 1.5]))
    assert mk.check(inst, [[0], [1]]) is None
    assert "expected 2 knapsacks" in mk.check(inst, [[0]])
    assert "not used by another" in mk.check(inst, [[0], [0]])
    assert "capacity" in mk.check(inst, [[0, 1], [2]])
    assert "distinct" in mk.check(inst, [[5], []])
