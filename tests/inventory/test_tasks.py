"""orlearn.inventory.tasks: overrides, test-run sizes, defaults, train-test-save, evaluate."""

from __future__ import annotations

from pathlib import Path

import pytest

from orlearn.errors import OrlearnError
from orlearn.inventory import tasks

SMALL = {"epochs": 1, "train_samples": 32, "batch_size": 32, "train_periods": 20, "dev_samples": 32}
TEST = {"test_samples": 32, "test_periods": 30, "test_warmup": 5}


def test_setting_overrides_put_the_common_options_under_their_keys():
    overrides = tasks.setting_overrides(["problem_params.n_extra_echelons=1"], lead_time=3, stores=2)
    assert overrides == {"problem_params.n_extra_echelons": 1, "store_params.lead_time.value": 3,
                         "problem_params.n_stores": 2}  # fmt: skip
    assert tasks.setting_overrides() == {}


def test_evaluation_size_quick_full_and_partial():
    assert tasks.evaluation_size() == tasks.QUICK_TEST
    assert tasks.evaluation_size(test_samples=8)["test_samples"] == 8
    assert tasks.evaluation_size(True) == dict.fromkeys(tasks.QUICK_TEST)
    with pytest.raises(OrlearnError, match="--full-test"):
        tasks.evaluation_size(True, test_samples=8)
    with pytest.raises(OrlearnError, match="--test-periods must be at least 1"):
        tasks.evaluation_size(test_periods=0)
    with pytest.raises(OrlearnError, match="--test-warmup must be >= 0"):
        tasks.evaluation_size(test_warmup=-1)


def test_defaults():
    assert tasks.default_learning_rate("gnn") == 2e-3
    assert tasks.default_learning_rate("vanilla") == 3e-3
    assert tasks.default_learning_rate("base_stock") == 3e-2
    assert tasks.default_output("one_store_lost", "gnn") == Path("runs/inventory/one_store_lost_gnn.pt")


def test_train_policy_then_evaluate_it(tmp_path):
    out = tmp_path / "bs.pt"
    trained = tasks.train_policy("one_store_backlogged", "base_stock", output=out, test=TEST, **SMALL)
    assert trained.path == out and out.is_file() and trained.curves.is_file()
    assert trained.test_cost is not None and trained.test_cost > 0
    record = tasks.evaluate_target(str(out), test=TEST)
    assert record["setting"] == "one_store_backlogged" and record["scenarios"] == 32
    skipped = tasks.train_policy("one_store_backlogged", "base_stock", output=tmp_path / "b2.pt",
                                 test={**TEST, "test_samples": 0}, **SMALL)  # fmt: skip
    assert skipped.test_cost is None
    with pytest.raises(OrlearnError, match="must end in .pt"):
        tasks.train_policy("one_store_backlogged", "base_stock", output=tmp_path / "x.pth", **SMALL)


def test_evaluate_target_refuses_an_untrained_network():
    with pytest.raises(OrlearnError, match="evaluate takes a policy file"):
        tasks.evaluate_target("one_store_lost", "gnn", test=TEST)
    with pytest.raises(OrlearnError, match="at least 1 for evaluate"):
        tasks.evaluate_target("one_store_lost", "base_stock", test={**TEST, "test_samples": 0})


def test_run_bench_refuses_a_pattern_that_matches_nothing(tmp_path):
    with pytest.raises(OrlearnError, match="--only 'zzzz' matches no quick benchmark case"):
        tasks.run_bench(tmp_path / "b.jsonl", only=["zzzz"])
    assert not (tmp_path / "b.jsonl").exists()
