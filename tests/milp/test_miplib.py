"""The shipped MIPLIB 3 instances: files, optima table, and optima reproduced by SCIP."""

import csv
from pathlib import Path

import pytest

from orlearn.milp.io import resolve_instances
from orlearn.solver.scip import solve

MIPLIB = Path(__file__).resolve().parents[2] / "instances" / "miplib"


def optima() -> dict[str, dict[str, str]]:
    with open(MIPLIB / "optima.csv", newline="") as fh:
        return {row["name"]: row for row in csv.DictReader(fh)}


def test_table_matches_files():
    table = optima()
    assert len(table) == 37
    files = resolve_instances([MIPLIB])
    assert sorted(p.name for p in files) == sorted(row["file"] for row in table.values())
    assert (MIPLIB / "README.md").is_file() and (MIPLIB / "LICENSE-SCIP").is_file()


@pytest.mark.parametrize("name", ["vpm1", "p0033", "egout", "flugpl", "gt2", "gen", "p0548"])
def test_optimum_reproduced(name):
    row = optima()[name]
    result = solve(MIPLIB / row["file"], time_limit=60)
    assert result.status == "optimal"
    assert result.primal_bound == pytest.approx(float(row["optimal_value"]), rel=1e-6, abs=1e-9)
