"""`orlearn milp generate|hardness|convert|solve` end to end on tiny inputs: tables, JSONL,
resume, exit codes, bad input."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyscipopt
import pytest

from orlearn.cli import main
from orlearn.milp.io import model_bytes, read_manifest
from orlearn.milp.registry import get_distribution

MIPLIB = Path(__file__).resolve().parents[2] / "instances" / "miplib"


@pytest.fixture
def folder(tmp_path, market_split) -> Path:
    root = tmp_path / "instances"
    root.mkdir()
    for k in range(3):
        market_split(root / f"ms{k}.mps", 2, 12, k)
    return root


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_solve_compares_rules_and_resumes(folder, tmp_path, capsys):
    out = tmp_path / "r.jsonl"
    md = tmp_path / "table.md"
    png = tmp_path / "profile.png"
    argv = ["milp", "solve", str(folder), "-b", "relpscost", "-b", "pscost", "--settings", "gasse",
            "-j", "2", "--time-limit", "30", "-o", str(out), "-q", "--markdown", str(md),
            "--profile", str(png)]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "relpscost" in printed and "pscost" in printed and "3/3" in printed
    records = lines(out)
    assert len(records) == 6
    assert {(Path(r["instance"]).name, r["rule"]) for r in records} == {
        (f"ms{k}.mps", rule) for k in range(3) for rule in ("relpscost", "pscost")
    }
    assert all(r["status"] == "optimal" and r["settings"] == "gasse" for r in records)
    assert md.read_text().startswith("| rule | solved |")
    assert png.exists()
    assert main(argv) == 0  # the rerun finds everything done
    assert len(lines(out)) == 6


def test_solve_one_file_with_params_and_seed(folder, tmp_path):
    out = tmp_path / "r.jsonl"
    assert main(["milp", "solve", str(folder / "ms0.mps"), "--param", "limits/nodes=1", "--seed", "4",
                 "-o", str(out), "-q"]) == 0
    (record,) = lines(out)
    assert record["params"] == {"limits/nodes": 1} and record["seed"] == 4
    assert record["status"] in {"node_limit", "optimal"}


def test_statuses_and_errors_in_one_batch(folder, tmp_path, capsys):
    infeasible = pyscipopt.Model("infeasible")
    x = infeasible.addVar(vtype="I", ub=5)
    infeasible.addCons(2 * x == 3)
    infeasible.hideOutput()
    infeasible.writeProblem(str(folder / "infeasible.lp"), verbose=False)
    (folder / "corrupt.mps").write_text("ROWS\n nonsense here\n")
    out = tmp_path / "r.jsonl"
    # An unreadable instance file is bad input (exit 2, as the README says), and the other
    # instances are still solved.
    assert main(["milp", "solve", str(folder), "-o", str(out), "-q"]) == 2
    status = {Path(r["instance"]).name: r["status"] for r in lines(out)}
    assert status == {"corrupt.mps": "error", "infeasible.lp": "infeasible", "ms0.mps": "optimal",
                      "ms1.mps": "optimal", "ms2.mps": "optimal"}
    assert [Path(r["instance"]).name for r in lines(out) if r["bad_input"]] == ["corrupt.mps"]
    captured = capsys.readouterr()
    (line,) = [ln for ln in captured.err.splitlines() if "corrupt.mps" in ln]
    assert line.startswith("orlearn: error: ") and "corrupt.mps [relpscost]" in line
    # The summary leaves the errored instance out and says so.
    assert "left out of solved" in captured.out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["-b", "nosuch"], "unknown branching rule 'nosuch'; valid: "),
        (["--param", "limits/tim=3"], "unknown SCIP parameter 'limits/tim'"),
        (["--param", "limits/time=-3"], "SCIP refuses limits/time=-3"),
        (["--time-limit", "0"], "time limit must be a positive number"),
        (["--time-limit", "-1"], "time limit must be a positive number"),
        (["--settings", "fast"], "unknown settings 'fast'"),
        (["--jobs", "0"], "--jobs must be at least 1"),
        (["--threads", "0"], "--threads must be at least 1"),
    ],
)
def test_bad_input_exits_2_with_one_line(folder, tmp_path, capsys, extra, message):
    out = tmp_path / "r.jsonl"
    assert main(["milp", "solve", str(folder), "-o", str(out), "-q", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("orlearn: error: ") and message in err
    assert "\n" not in err
    assert not out.exists()


def test_missing_path_exits_2(tmp_path, capsys):
    assert main(["milp", "solve", str(tmp_path / "nowhere.mps"), "-o", str(tmp_path / "r.jsonl")]) == 2
    assert capsys.readouterr().err.startswith("orlearn: error: ")


def test_bad_input_keeps_earlier_results(folder, tmp_path):
    out = tmp_path / "r.jsonl"
    assert main(["milp", "solve", str(folder), "-o", str(out), "-q"]) == 0
    before = out.read_text()
    assert main(["milp", "solve", str(folder), "-o", str(out), "-q", "-b", "nosuch"]) == 2
    assert out.read_text() == before


def test_ctrl_c_exits_130_and_leaves_a_valid_file(tmp_path, market_split):
    hard = tmp_path / "hard"
    hard.mkdir()
    # One instance that solves at once (so a line is written), then three that take minutes: the
    # interrupt always lands mid-batch, however slowly a loaded machine runs the test.
    market_split(hard / "a_easy.mps", 2, 6, 0)
    for k in range(3):
        market_split(hard / f"hard{k}.mps", 4, 30, k)
    out = tmp_path / "r.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-c", "import sys; from orlearn.cli import main; sys.exit(main())",
         "milp", "solve", str(hard), "--time-limit", "120",
         "-o", str(out), "-q"],
        start_new_session=True, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
        # A shell that starts a job in the background makes it ignore SIGINT, and the child would
        # inherit that: restore the default so the child sees Ctrl-C as a terminal sends it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_text().count("\n"):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "interrupted" in err
    records = lines(out)  # every line parses
    assert 1 <= len(records) < 4 and records[0]["status"] == "optimal"


def test_registry_name_with_n(tmp_path):
    out = tmp_path / "r.jsonl"
    cache = tmp_path / "cache"
    assert main(["milp", "solve", "mknapsack/small", "-n", "1", "--split", "valid", "--cache-dir",
                 str(cache), "--time-limit", "0.5", "-o", str(out), "-q"]) == 0
    (record,) = lines(out)
    assert Path(record["instance"]).is_relative_to(cache / "mknapsack/small/valid")
    assert record["status"] in {"optimal", "time_limit"}


def test_learned_rule_side_by_side(folder, tmp_path, capsys):
    """A (random) GNN policy file from orlearn.branching, solved in forked workers with torch."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("orlearn.branching.plugin")
    from orlearn.branching.model import BranchingGNN
    from orlearn.branching.observation import FEATURE_VERSION
    from orlearn.policy_file import PolicyFile, save_policy

    torch.manual_seed(0)
    gnn = BranchingGNN(emb=8)
    policy = save_policy(tmp_path / "random.pt", PolicyFile(
        kind="branching", feature_version=FEATURE_VERSION,
        hyperparameters=gnn.hyperparameters(), state_dict=gnn.state_dict(),
        extra={"normalization": gnn.normalization()},
    ))
    out = tmp_path / "r.jsonl"
    assert main(["milp", "solve", str(folder / "ms0.mps"), "-b", "relpscost", "-b", str(policy),
                 "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert "fallbacks" in captured.out
    # progress (no terminal here: whole lines on stderr) names the policy by its file name
    assert captured.err.splitlines()[-1].endswith("ms0.mps random.pt: optimal")
    records = {r["rule"]: r for r in lines(out)}
    learned, default = records[str(policy)], records["relpscost"]
    assert learned["status"] == default["status"] == "optimal"
    assert learned["primal_bound"] == default["primal_bound"]
    assert learned["branching_stats"]["learned_calls"] > 0
    assert default["branching_stats"] == {}
    bad = tmp_path / "missing.pt"
    assert main(["milp", "solve", str(folder), "-b", str(bad), "-o", str(out), "-q"]) == 2


def test_generate(tmp_path, capsys):
    assert main(["milp", "generate", "--list"]) == 0
    assert "setcover/small" in capsys.readouterr().out
    out = tmp_path / "set"
    assert (
        main(["milp", "generate", "indset/small", "--split", "valid", "-n", "2", "-o", str(out), "-q"]) == 0
    )
    entries = read_manifest(out)
    assert [e["seed"] for e in entries] == [1_000_000_000, 1_000_000_001]
    assert main(["milp", "generate", "nope/small", "-o", str(out)]) == 2
    assert "unknown distribution" in capsys.readouterr().err
    assert main(["milp", "generate", "indset/small", "-n", "0", "-o", str(out)]) == 2


def test_hardness(tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    files = [str(MIPLIB / "vpm1.mps.gz"), str(MIPLIB / "p0033.mps.gz")]
    jsonl = tmp_path / "h.jsonl"
    argv = ["milp", "hardness", *files, "--time-limit", "30", "-o", str(jsonl), "--csv", str(labels), "-q"]
    assert main(argv) == 0
    with open(labels, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["level"] for r in rows] == ["easy", "easy"]
    assert [r["status"] for r in rows] == ["optimal", "optimal"]
    assert "the set is easy" in capsys.readouterr().out
    assert main(["milp", "hardness", str(tmp_path / "missing.mps")]) == 2
    assert main(["milp", "hardness", *files, "--time-scale", "0"]) == 2


def test_convert(tmp_path):
    tiny = get_distribution("setcover/small").with_params(n_rows=10, n_cols=15, density=0.2)
    path = tmp_path / "SC.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["MILP", "format"])
        writer.writerow([model_bytes(tiny.sample(0), "lp").decode(), "lp"])
    assert main(["milp", "convert", str(path), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert (tmp_path / "out" / "SC_00000.lp.gz").is_file()
    assert main(["milp", "convert", str(tmp_path / "none.csv"), "-o", str(tmp_path / "out")]) == 2
