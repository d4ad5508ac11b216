"""The optional LKH-3 reference of scripts/bench_construct.py (elkai, extra `bench`)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from orlearn.construct.problems import get_problem

ROOT = Path(__file__).resolve().parents[2]


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_construct", ROOT / "scripts" / "bench_construct.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_lkh_reaches_the_tsplib_optimum_and_caches(tmp_path):
    pytest.importorskip("elkai")
    bench = _bench_module()
    tsp = get_problem("tsp")
    eil51 = tsp.read(ROOT / "instances" / "construct" / "tsplib" / "eil51.tsp")
    tour = bench.lkh_tour(eil51, 1)
    assert tsp.check(eil51, tour) is None and tour[0] == 0
    assert tsp.objective(eil51, tour) == 426  # TSPLIB's optimum, rounded distances
    # random unit-square instances: scaled coordinates, a valid tour at least as short as PyVRP's
    inst = tsp.generate(60, 1, seed=3)[0]
    first = bench.lkh_references([inst], 1, str(tmp_path))[0]
    assert tsp.check(inst, first) is None
    pyvrp = tsp.expert(inst, 0.5, 0)
    assert tsp.objective(inst, first) <= tsp.objective(inst, pyvrp) * (1 + 1e-6)
    cached = list((tmp_path / "tsp_lkh").glob("*.json"))
    assert len(cached) == 1
    assert bench.lkh_references([inst], 1, str(tmp_path))[0] == first
    assert bench._lkh_seconds([inst], 1, str(tmp_path)) >= 0


def test_missing_elkai_is_a_clear_exit(monkeypatch, capsys):
    bench = _bench_module()
    monkeypatch.setitem(sys.modules, "elkai", None)  # import elkai raises ImportError
    assert bench.main(["--tsp-ref", "lkh", "--tsp", "--cvrp", "--kp", "--no-op"]) == 2
    err = capsys.readouterr().err
    assert "elkai" in err and "orlearn[bench]" in err
