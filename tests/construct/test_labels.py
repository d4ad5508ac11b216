"""Expert labels: exact knapsack optimum, feasible routing labels, the on-disk cache."""

from __future__ import annotations

import itertools

import numpy as np

from orlearn.construct import labels
from orlearn.construct.problems import get_problem


def test_knapsack_label_is_the_brute_force_optimum():
    p = get_problem("kp")
    for inst in p.generate(12, 3, 0):
        inst.capacity = 3.0
        best = max(
            (inst.values[list(s)].sum(), s)
            for r in range(13)
            for s in itertools.combinations(range(12), r)
            if inst.weights[list(s)].sum() <= 3.0
        )[0]
        sol = p.expert(inst, 0, 0)
        assert p.check(inst, sol) is None
        assert p.objective(inst, sol) == np.float64(best) or abs(p.objective(inst, sol) - best) < 1e-6


def test_labels_are_feasible_and_cached(tmp_path, monkeypatch):
    instances = get_problem("cvrp").generate(6, 2, 1)
    first = labels.label_instances("cvrp", instances, time_limit=0.05, cache_dir=tmp_path,
                                   show_progress=False)
    assert all(get_problem("cvrp").check(i, s) is None for i, s in zip(instances, first))
    assert len(list((tmp_path / "cvrp").glob("*.json"))) == 2

    def fail(job):
        raise AssertionError("solved again instead of reading the cache")

    monkeypatch.setattr(labels, "_solve", fail)
    again = labels.label_instances("cvrp", instances, time_limit=0.05, cache_dir=tmp_path,
                                   show_progress=False)
    assert again == first


def test_op_label_respects_the_budget():
    p = get_problem("op")
    inst = p.generate(15, 1, 2)[0]
    sol = p.expert(inst, 0.1, 0)
    assert p.check(inst, sol) is None and p.objective(inst, sol) > 0


def test_cpu_clock_labels_have_their_own_cache_entries(tmp_path):
    instances = get_problem("tsp").generate(8, 2, 0)
    wall = labels.label_instances("tsp", instances, time_limit=0.05, cache_dir=tmp_path,
                                  show_progress=False)
    cpu = labels.label_instances("tsp", instances, time_limit=0.05, cache_dir=tmp_path,
                                 show_progress=False, clock="cpu")
    assert len(list((tmp_path / "tsp").glob("*.json"))) == 4
    assert all(sorted(s) == sorted(w) for s, w in zip(cpu, wall))
