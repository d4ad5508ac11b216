"""`orlearn construct` verbs: solve (gap on a real instance, JSON lines), generate, bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch

from orlearn.cli import main
from orlearn.construct.model import build_model
from orlearn.construct.problems import get_problem
from orlearn.policy_file import PolicyFile, save_policy

INSTANCES = Path(__file__).resolve().parents[2] / "instances" / "construct"
TINY = {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 32}


def _policy(tmp_path, problem):
    torch.manual_seed(0)
    model = build_model(get_problem(problem), TINY)
    return save_policy(tmp_path / f"{problem}.pt", PolicyFile(
        kind=f"construct/{problem}", feature_version=1, hyperparameters=TINY,
        state_dict=model.state_dict(), metadata={"config": {"n": 20}}))


def test_solve_a_tsplib_instance_reports_gap_and_writes_solutions(tmp_path, capsys):
    policy = _policy(tmp_path, "tsp")
    out = tmp_path / "sol.jsonl"
    rc = main(["construct", "solve", str(INSTANCES / "tsplib" / "eil51.tsp"), "--problem", "tsp",
               "--policy", str(policy), "--beam", "2", "--two-opt", "--out", str(out)])
    assert rc == 0
    rec = json.loads(out.read_text().splitlines()[0])
    assert rec["optimum"] == 426 and sorted(rec["solution"]) == list(range(51))
    assert rec["objective"] >= 426 and rec["two_opt"]["objective"] <= rec["objective"]
    assert "eil51" in capsys.readouterr().out


def test_generate_then_solve_a_folder(tmp_path):
    policy = _policy(tmp_path, "kp")
    folder = tmp_path / "sets"
    assert main(["construct", "generate", "--problem", "kp", "--n", "30", "--count", "3",
                 "--out", str(folder / "kp30.npz")]) == 0
    out = tmp_path / "kp.jsonl"
    assert main(["construct", "solve", str(folder), "--problem", "kp", "--policy", str(policy),
                 "--out", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 3


def test_bad_input_exits_2(tmp_path, capsys):
    tsp_policy = _policy(tmp_path, "tsp")
    vrp = INSTANCES / "cvrplib" / "X-n101-k25.vrp"
    # a checkpoint made for another problem
    out = tmp_path / "never.jsonl"
    assert main(["construct", "solve", str(vrp), "--problem", "cvrp", "--policy", str(tsp_policy),
                 "--out", str(out)]) == 2
    assert "construct/tsp" in capsys.readouterr().err
    assert not out.exists()  # nothing solved, no file
    # a file of another problem, a missing file, a malformed file
    assert main(["construct", "solve", str(vrp), "--problem", "tsp", "--policy", str(tsp_policy)]) == 2
    assert main(["construct", "solve", str(tmp_path / "nope.tsp"), "--problem", "tsp"]) == 2
    broken = tmp_path / "broken.tsp"
    shutil.copy(INSTANCES / "tsplib" / "eil51.tsp", broken)
    broken.write_text(broken.read_text().replace("DIMENSION : 51", "DIMENSION : 60"))
    assert main(["construct", "solve", str(broken), "--problem", "tsp", "--policy", str(tsp_policy)]) == 2
    assert "orlearn: error:" in capsys.readouterr().err


def test_solve_writes_nothing_unless_asked_and_logs_progress(tmp_path, monkeypatch, capsys):
    policy = _policy(tmp_path, "tsp")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("ORLEARN_THREADS", "2")
    before = torch.get_num_threads()
    rc = main(["construct", "solve", str(INSTANCES / "tsplib" / "eil51.tsp"), "--problem", "tsp",
               "--policy", str(policy)])
    assert rc == 0
    assert list(work.iterdir()) == []  # no solution file in the current directory
    assert torch.get_num_threads() == before  # threads were set for the solve only
    captured = capsys.readouterr()
    assert "eil51" in captured.out and "2 torch threads" in captured.out  # ORLEARN_THREADS
    # no terminal here: progress is whole lines on stderr
    assert "tsp greedy: 1/1, 0:00:" in captured.err


def _kp_set(tmp_path, count):
    path = tmp_path / "kp.npz"
    assert main(["construct", "generate", "--problem", "kp", "--n", "10", "--count", str(count),
                 "--out", str(path)]) == 0
    return path


def test_ctrl_c_says_what_was_kept(tmp_path, monkeypatch, capsys):
    import orlearn.construct

    policy, data = _policy(tmp_path, "kp"), _kp_set(tmp_path, 3)
    real_solve = orlearn.construct.solve

    def interrupted_after(done):
        def fake(*args, on_result=None, **kwargs):
            def report(i, result):
                if i == done:
                    raise KeyboardInterrupt
                on_result(i, result)
            return real_solve(*args, on_result=report, batch_size=1, **{k: v for k, v in kwargs.items() if k != "batch_size"})
        return fake

    out = tmp_path / "kp.jsonl"
    capsys.readouterr()
    monkeypatch.setattr(orlearn.construct, "solve", interrupted_after(2))
    args = ["construct", "solve", str(data), "--problem", "kp", "--policy", str(policy), "-q"]
    assert main([*args, "--out", str(out)]) == 130
    assert f"2 of 3 solutions are kept in {out}" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 2
    monkeypatch.setattr(orlearn.construct, "solve", interrupted_after(0))
    assert main([*args, "--out", str(out)]) == 130
    assert "no solution was written" in capsys.readouterr().err
    assert main(args) == 130
    assert "no solution was written" in capsys.readouterr().err


def test_generate_names_the_label_cache_it_writes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["construct", "generate", "--problem", "kp", "--n", "8", "--count", "2",
                 "--out", "kp.npz", "--label-time", "0.1"]) == 0
    cache = tmp_path / "runs" / "construct" / "labels" / "kp"
    assert f"expert labels cached in {cache}" in capsys.readouterr().out
    assert len(list(cache.glob("*.json"))) == 2


def test_bad_threads_and_batch_size_exit_2(tmp_path, monkeypatch, capsys):
    target = str(INSTANCES / "tsplib" / "eil51.tsp")
    assert main(["construct", "solve", target, "--problem", "tsp", "--threads", "0"]) == 2
    assert "--threads must be at least 1" in capsys.readouterr().err
    assert main(["construct", "solve", target, "--problem", "tsp", "--batch-size", "0"]) == 2
    monkeypatch.setenv("ORLEARN_THREADS", "many")
    assert main(["construct", "solve", target, "--problem", "tsp"]) == 2
    assert "ORLEARN_THREADS" in capsys.readouterr().err


def test_train_flags_for_the_perceiver_fail_fast_on_bad_input(tmp_path, capsys):
    out = str(tmp_path / "p.pt")
    assert main(["construct", "train", "--problem", "kp", "--arch", "perceiver", "--out", out]) == 2
    assert "perceiver architecture is defined for tsp, cvrp" in capsys.readouterr().err
    assert main(["construct", "train", "--problem", "cvrp", "--distribution", "clustered",
                 "--out", out]) == 2
    assert "no 'clustered' instances for cvrp" in capsys.readouterr().err
    assert main(["construct", "train", "--problem", "tsp", "--init", str(tmp_path / "none.best"),
                 "--out", out]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["construct", "train", "--problem", "tsp", "--latent-len", "8", "--out", out]) == 2
    assert "perceiver architecture only" in capsys.readouterr().err
