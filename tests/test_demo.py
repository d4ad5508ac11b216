"""The demo's choice of instances and rules (orlearn.demo)."""

from __future__ import annotations

from pathlib import Path

import pytest

import orlearn.demo as demo
from orlearn.errors import OrlearnError


def test_demo_takes_the_first_instances_of_every_set(tmp_path, demo_root):
    root = demo_root(tmp_path)
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


def test_shipped_instances_are_found():
    root = Path(demo.__file__).resolve().parents[1]
    if not (root / demo.INSTANCE_DIR).is_dir():  # installed without the repository
        return
    chosen = demo.demo_instances(root / demo.INSTANCE_DIR, 3)
    assert chosen and all(p.is_file() for p in chosen)


def test_a_per_set_below_one_is_bad_input(tmp_path, demo_root):
    with pytest.raises(OrlearnError, match="--per-set must be at least 1"):
        demo.demo_instances(demo_root(tmp_path) / demo.INSTANCE_DIR, 0)


def test_the_title_counts_instances_and_sets():
    paths = [Path("a/x.mps"), Path("a/y.mps"), Path("b/z.mps")]
    assert demo.demo_title(paths) == "demo: 3 instances from 2 sets"
