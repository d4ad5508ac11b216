"""orlearn.decision_rules.tasks: case loading, TS-DDR train-evaluate, SDDP, JSON results."""

from __future__ import annotations

import json

import numpy as np
import pytest

from orlearn.decision_rules import tasks
from orlearn.errors import OrlearnError


def test_load_problem_and_default_penalty():
    case, problem = tasks.load_problem("case3", 2, "single")
    assert problem.n_stages == 2
    assert tasks.default_penalty(case) == pytest.approx(2 * case.water_value_bound())


def test_evaluation_scenarios_are_seeded_apart_from_training():
    _, problem = tasks.load_problem("case3", 2)
    a, b = (tasks.evaluation_scenarios(problem, 3, seed=1) for _ in range(2))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, tasks.evaluation_scenarios(problem, 3, seed=2))
    drawn = problem.uncertainty.sample(3, np.random.default_rng(1))
    assert not np.array_equal(a, drawn)


def test_train_then_evaluate_with_the_policys_penalty(tmp_path):
    out = tmp_path / "p.pt"
    trained = tasks.train_policy("case3", out, stages=2, arch="linear", iterations=2, batch=1)
    assert trained.path == out and out.is_file() and trained.curves == out.with_suffix(".png")
    assert trained.curves.is_file() and (tmp_path / "p.ckpt").is_file()
    card = json.loads(out.with_suffix(".json").read_text())["metadata"]
    assert card["penalty"] == pytest.approx(tasks.default_penalty(tasks.load_problem("case3")[0]))
    results = tasks.evaluate_policy("case3", out, stages=2, scenarios=3, baselines=True)
    assert list(results) == ["policy (rollout)", "myopic", "wait-and-see"]
    tasks.save_evaluations(tmp_path / "e.json", results)
    saved = json.loads((tmp_path / "e.json").read_text())
    assert set(saved["myopic"]) == {"mean", "stderr", "seconds_per_scenario", "failures"}


def test_run_sddp_simulates_its_policy():
    result, simulated = tasks.run_sddp("case3", stages=2, iterations=2, simulations=3)
    assert result.iterations == 2 and len(simulated.costs) == 3 and simulated.failures == 0
    with pytest.raises(OrlearnError, match="--time-limit must be positive"):
        tasks.run_sddp("case3", time_limit=0)
