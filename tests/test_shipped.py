"""Shipped data is found in a source checkout, under ORLEARN_DATA, and is listed for wheels."""

import fnmatch
from pathlib import Path

import pytest

from orlearn.shipped import shipped_path, shipped_root

ROOT = Path(__file__).resolve().parents[1]


def test_source_checkout_finds_the_shipped_folders():
    assert shipped_root() == ROOT
    assert (shipped_path("policies", "branching") / "mixed.pt").is_file()
    assert shipped_path("instances", "milp").is_dir()


def test_orlearn_data_overrides_the_root(tmp_path, monkeypatch):
    monkeypatch.setenv("ORLEARN_DATA", str(tmp_path))
    assert shipped_path("policies") == tmp_path / "policies"


def test_every_shipped_file_goes_into_the_wheel():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = [p for ps in config["tool"]["setuptools"]["data-files"].values() for p in ps]
    missing = [
        path.relative_to(ROOT).as_posix()
        for top in ("instances", "policies")
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and not path.name.endswith(".ckpt")  # training checkpoints stay out of the wheel
        and not any(fnmatch.fnmatch(path.relative_to(ROOT).as_posix(), p) for p in patterns)
    ]
    assert not missing, f"add to pyproject's data-files: {missing[:5]}"
