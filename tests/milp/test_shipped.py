"""The shipped test splits in instances/milp: complete, hashed, reproducible, test seeds only."""

from pathlib import Path

import pytest

from orlearn.milp.io import gzip_bytes, model_bytes, read_manifest, read_model, sha256_file
from orlearn.milp.registry import get_distribution, split_of_seed

ROOT = Path(__file__).resolve().parents[2] / "instances" / "milp"
SETS = {
    "setcover_small_test": ("setcover/small", 20),
    "cauctions_small_test": ("cauctions/small", 20),
    "facility_small_test": ("facility/small", 20),
    "indset_small_test": ("indset/small", 20),
    "setcover_medium_test": ("setcover/medium", 10),
    "cauctions_medium_test": ("cauctions/medium", 10),
    "indset_medium_test": ("indset/medium", 10),
}


@pytest.mark.parametrize("folder", sorted(SETS))
def test_manifest_complete(folder):
    name, n = SETS[folder]
    entries = read_manifest(ROOT / folder)
    assert len(entries) == n
    for e in entries:
        assert e["distribution"] == name and e["split"] == "test"
        assert split_of_seed(e["seed"]) == "test"
        assert e["generator_version"] == get_distribution(name).version
        assert sha256_file(e["path"]) == e["sha256"]


def test_total_size_is_small():
    total = sum(p.stat().st_size for p in ROOT.parent.rglob("*") if p.is_file())
    assert total < 30e6


@pytest.mark.parametrize("folder", ["setcover_small_test", "indset_small_test"])
def test_first_instance_regenerates_identically(folder):
    entry = read_manifest(ROOT / folder)[0]
    model = get_distribution(entry["distribution"]).sample(entry["seed"])
    assert gzip_bytes(model_bytes(model)) == Path(entry["path"]).read_bytes()
    assert read_model(entry["path"]).getNVars() == model.getNVars()
