"""orlearn.solver.tasks: option checks, rule comparison, failed solves, hardness labels."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from orlearn.errors import OrlearnError
from orlearn.milp.hardness import Thresholds
from orlearn.solver import tasks
from orlearn.solver.result import SolveResult

MIPLIB = Path(__file__).resolve().parents[2] / "instances" / "miplib"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rules": ["nosuch"]}, "unknown branching rule"),
        ({"settings": "fast"}, "unknown settings 'fast'"),
        ({"params": ["limits/tim=3"]}, "unknown SCIP parameter"),
        ({"time_limit": 0}, "time limit must be a positive number"),
        ({"jobs": 0}, "--jobs must be at least 1"),
        ({"threads": 0}, "--threads must be at least 1"),
        ({"n": 0}, "-n must be at least 1"),
    ],
)
def test_check_solve_options_names_the_bad_one(kwargs, message):
    rules = kwargs.pop("rules", ["relpscost"])
    with pytest.raises(OrlearnError, match=message):
        tasks.check_solve_options(rules, **kwargs)


def test_check_solve_options_takes_the_default_rule():
    tasks.check_solve_options(None)  # relpscost


def test_compare_rules_summarizes_and_writes_the_table(tmp_path, market_split):
    files = [market_split(tmp_path / f"ms{k}.mps", 2, 10, k) for k in range(2)]
    out, md = tmp_path / "r.jsonl", tmp_path / "t" / "table.md"
    comparison = tasks.compare_rules(files, ["relpscost", "pscost"], output=out, progress=False,
                                     markdown=md)  # fmt: skip
    assert len(comparison.results) == 4 and comparison.profile is None
    assert [s.rule for s in comparison.summary] == ["relpscost", "pscost"]
    assert md.read_text().startswith("| rule | solved |")
    assert len(out.read_text().splitlines()) == 4
    assert tasks.exit_code(comparison.results) == 0 and tasks.error_lines(comparison.results) == []


def _failed(name: str, bad_input: bool) -> SolveResult:
    return SolveResult(instance=name, rule="pscost", status="error", message="boom", bad_input=bad_input)


def test_exit_code_and_error_lines():
    ok = SolveResult(instance="a", rule="pscost", status="optimal")
    assert tasks.exit_code([ok]) == 0
    assert tasks.exit_code([ok, _failed("b", False)]) == 1
    assert tasks.exit_code([_failed("b", False), _failed("c", True)]) == 2
    lines = tasks.error_lines([_failed(f"i{k}", k == 0) for k in range(7)], limit=5)
    assert lines[0] == "error: i0 [pscost]: boom" and lines[1] == "solve failed: i1 [pscost]: boom"
    assert lines[-1] == "... and 2 more errors" and len(lines) == 6


def test_label_hardness_and_its_csv(tmp_path):
    files = [MIPLIB / "p0033.mps.gz"]
    report = tasks.label_hardness(files, Thresholds(), time_limit=30, progress=False)
    assert [(r.status, r.level) for r in report.rows] == [("optimal", "easy")]
    assert report.counts == {"easy": 1} and report.overall == "easy"
    tasks.write_hardness_csv(report.rows, tmp_path / "h.csv")
    with open(tmp_path / "h.csv", newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert row["level"] == "easy" and row["instance"].endswith("p0033.mps.gz")


def test_check_hardness_options():
    with pytest.raises(OrlearnError, match="--time-limit must be positive"):
        tasks.check_hardness_options(0)
    with pytest.raises(OrlearnError, match="-n must be at least 1"):
        tasks.check_hardness_options(10, 0)


def test_a_learned_rule_needs_the_callers_resolver():
    # The solver knows SCIP's rules only; orlearn.branching's resolver makes "gnn" a rule.
    from orlearn.branching.plugin import plugin_for

    with pytest.raises(OrlearnError, match="unknown branching rule 'gnn'"):
        tasks.check_solve_options(["gnn"])
    tasks.check_solve_options(["gnn", "relpscost"], resolve=plugin_for)
