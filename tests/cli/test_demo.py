"""`orlearn demo`: instance choice, rule choice, and a tiny end-to-end run."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyscipopt

import orlearn.cli.demo as demo
from orlearn.cli import main


def write_knapsack(path: Path, seed: int) -> Path:
    rng = random.Random(seed)
    model = pyscipopt.Model(path.stem)
    model.hideOutput()
    x = [model.addVar(vtype="B") for _ in range(15)]
    w = [rng.randint(5, 40) for _ in x]
    model.addCons(pyscipopt.quicksum(wi * xi for wi, xi in zip(w, x)) <= sum(w) // 2)
    model.setObjective(pyscipopt.quicksum((wi + rng.randint(0, 9)) * xi for wi, xi in zip(w, x)),
                       "maximize")
    model.writeProblem(str(path), verbose=False)
    return path


def make_root(tmp_path: Path) -> Path:
    for name in ("setcover_small_test", "facility_small_test", "setcover_medium_test"):
        folder = tmp_path / demo.INSTANCE_DIR / name
        folder.mkdir(parents=True)
        for k in range(4):
            write_knapsack(folder / f"{name}_{k}.mps", k)
        (folder / "manifest.json").write_text("[]")
    return tmp_path


def test_demo_takes_the_first_instances_of_every_set(tmp_path):
    root = make_root(tmp_path)
    chosen = demo.demo_instances(root / demo.INSTANCE_DIR, 2)
    assert [p.name for p in chosen] == [
        "facility_small_test_0.mps", "facility_small_test_1.mps",
        "setcover_small_test_0.mps", "setcover_small_test_1.mps",
    ]


def test_demo_rules_switch_to_the_learned_policy_when_shipped(tmp_path):
    assert demo.demo_rules(tmp_path) == ["relpscost", "pscost"]
    (tmp_path / demo.LEARNED_POLICY).parent.mkdir(parents=True)
    (tmp_path / demo.LEARNED_POLICY).write_bytes(b"")
    assert demo.demo_rules(tmp_path) == ["gnn", "relpscost"]


def test_demo_end_to_end(tmp_path, monkeypatch, capsys):
    root = make_root(tmp_path)
    monkeypatch.setenv("ORLEARN_DATA", str(root))
    out = tmp_path / "demo.jsonl"
    assert main(["demo", "--per-set", "1", "-o", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "demo: 2 instances from 2 sets" in printed and "pscost" in printed
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4
    assert {r["rule"] for r in records} == {"relpscost", "pscost"}
    assert all(r["settings"] == "gasse" and r["status"] == "optimal" for r in records)


def test_shipped_instances_are_found():
    root = Path(demo.__file__).resolve().parents[2]
    if not (root / demo.INSTANCE_DIR).is_dir():  # installed without the repository
        return
    chosen = demo.demo_instances(root / demo.INSTANCE_DIR, 3)
    assert chosen and all(p.is_file() for p in chosen)
