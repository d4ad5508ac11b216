"""orlearn.construct.tasks: gaps, timed 2-opt, solving a set to JSON lines, generating a set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from orlearn.construct import tasks
from orlearn.construct.io import load_set, read_instances
from orlearn.construct.model import build_model
from orlearn.construct.problems import get_problem
from orlearn.errors import OrlearnError
from orlearn.policy_file import PolicyFile, save_policy

INSTANCES = Path(__file__).resolve().parents[2] / "instances" / "construct"
TINY = {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32}


def _policy(tmp_path: Path, problem: str) -> Path:
    torch.manual_seed(0)
    model = build_model(get_problem(problem), TINY)
    return save_policy(tmp_path / f"{problem}.pt", PolicyFile(
        kind=f"construct/{problem}", feature_version=1, hyperparameters=TINY,
        state_dict=model.state_dict(), metadata={"config": {"n": 20}}))  # fmt: skip


def test_gap_percent_is_positive_when_worse_for_both_senses():
    assert tasks.gap_percent(110.0, 100.0, "min") == pytest.approx(10.0)
    assert tasks.gap_percent(90.0, 100.0, "max") == pytest.approx(10.0)
    assert tasks.gap_percent(90.0, None, "min") is None
    assert tasks.gap_percent(90.0, 0.0, "min") is None


def test_solve_set_with_two_opt_writes_one_line_per_instance(tmp_path):
    problem = get_problem("tsp")
    instances = read_instances(problem, INSTANCES / "tsplib" / "eil51.tsp")
    writer = tasks.SolutionWriter(tmp_path / "out" / "sol.jsonl")
    seen = []
    try:
        solved = tasks.solve_set("tsp", instances, two_opt=True, writer=writer, on_solved=seen.append,
                                 policy=_policy(tmp_path, "tsp"), batch_size=4, threads=1)  # fmt: skip
    finally:
        writer.close()
    (item,) = solved
    assert seen == solved and item.name == "eil51" and writer.written == 1
    assert item.gap == pytest.approx((item.objective - 426) / 426 * 100)
    assert item.two_opt is not None and item.two_opt.objective <= item.objective
    assert item.two_opt.seconds >= 0 and item.two_opt_gap <= item.gap
    record = json.loads((tmp_path / "out" / "sol.jsonl").read_text())
    assert record["optimum"] == 426 and record["two_opt"]["objective"] == item.two_opt.objective


def test_a_writer_without_a_path_writes_nothing(tmp_path):
    writer = tasks.SolutionWriter(None)
    writer.write({"a": 1})
    writer.close()
    assert writer.written == 0 and writer.path is None


def test_generate_set_saves_and_optionally_labels(tmp_path):
    made = tasks.generate_set("kp", 8, 2, tmp_path / "kp.npz", seed=3)
    assert made.count == 2 and made.label_cache is None
    assert len(load_set(made.path, get_problem("kp"))) == 2
    labelled = tasks.generate_set("kp", 8, 2, tmp_path / "kp2.npz", label_time=0.1,
                                  cache_dir=tmp_path / "labels")  # fmt: skip
    assert labelled.label_cache == (tmp_path / "labels" / "kp").resolve()
    assert len(list(labelled.label_cache.glob("*.json"))) == 2
    with pytest.raises(OrlearnError, match="--count must be at least 1"):
        tasks.generate_set("kp", 8, 0, tmp_path / "none.npz")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((2, 64, 10, None, ()), "--n must be >= 3"),
        ((10, 0, 10, None, ()), "--batch-size and --epochs >= 1"),
        ((10, 64, 10, 0, ()), "--knn must be at least 1"),
        ((10, 64, 10, None, (None, 0)), "model sizes must be at least 1"),
    ],
)
def test_check_train_options(args, message):
    with pytest.raises(OrlearnError, match=message):
        tasks.check_train_options(*args)
    tasks.check_train_options(10, 64, 10, 5, (None, 16))
