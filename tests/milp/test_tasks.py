"""orlearn.milp.tasks: where generated sets go, CSV conversion."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from orlearn.milp import tasks
from orlearn.milp.io import model_bytes
from orlearn.milp.registry import get_distribution


def test_generate_dir_is_where_registry_names_are_generated():
    assert tasks.generate_dir("setcover/small", "valid") == Path("data/instances/setcover/small/valid")


def test_convert_csv_files_writes_every_file(tmp_path):
    tiny = get_distribution("setcover/small").with_params(n_rows=10, n_cols=15, density=0.2)
    for name in ("A", "B"):
        with open(tmp_path / f"{name}.csv", "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["MILP", "format"])
            writer.writerow([model_bytes(tiny.sample(0), "lp").decode(), "lp"])
    paths = tasks.convert_csv_files([tmp_path / "A.csv", tmp_path / "B.csv"], tmp_path / "out", compress=False)
    assert sorted(p.name for p in paths) == ["A_00000.lp", "B_00000.lp"]
    assert len(json.loads((tmp_path / "out" / "manifest.json").read_text())["instances"]) == 2
