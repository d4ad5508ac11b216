"""Instance files: round trips, bad files, manifests, generate() and resolve_instances()."""

import gzip
import json

import pytest

from orlearn.errors import OrlearnError
from orlearn.milp.io import (
    generate,
    read_manifest,
    read_model,
    resolve_instances,
    sha256_file,
    write_model,
)
from orlearn.milp.registry import get_distribution


def tiny_model():
    return get_distribution("setcover/small").with_params(n_rows=12, n_cols=20, density=0.2)


@pytest.mark.parametrize("suffix", [".mps", ".mps.gz", ".lp", ".lp.gz"])
def test_round_trip(tmp_path, suffix):
    model = tiny_model().sample(1)
    path = write_model(model, tmp_path / f"m{suffix}")
    back = read_model(path)
    assert back.getNVars() == model.getNVars() and back.getNConss() == model.getNConss()
    model.hideOutput()
    model.optimize()
    back.optimize()
    assert back.getObjVal() == pytest.approx(model.getObjVal(), rel=1e-9)


def test_gzip_is_deterministic(tmp_path):
    a = write_model(tiny_model().sample(2), tmp_path / "a.mps.gz")
    b = write_model(tiny_model().sample(2), tmp_path / "b.mps.gz")
    assert a.read_bytes() == b.read_bytes()


def test_bad_files(tmp_path):
    with pytest.raises(OrlearnError, match="no such file"):
        read_model(tmp_path / "missing.mps")
    (tmp_path / "empty.mps").write_text("")
    with pytest.raises(OrlearnError, match="empty"):
        read_model(tmp_path / "empty.mps")
    (tmp_path / "bad.mps").write_text("this is not\nan MPS file\n")
    with pytest.raises(OrlearnError, match="not a valid MPS"):
        read_model(tmp_path / "bad.mps")
    (tmp_path / "bad.mps.gz").write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(OrlearnError, match="corrupt gzip"):
        read_model(tmp_path / "bad.mps.gz")
    (tmp_path / "trunc.mps.gz").write_bytes(gzip.compress(b"NAME x\nROWS\n" * 100)[:30])
    with pytest.raises(OrlearnError, match="corrupt gzip"):
        read_model(tmp_path / "trunc.mps.gz")
    # A valid gzip header over a damaged deflate stream: zlib's own error, not an OSError.
    (tmp_path / "damaged.mps.gz").write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage")
    with pytest.raises(OrlearnError, match="corrupt gzip file .*invalid block type"):
        read_model(tmp_path / "damaged.mps.gz")
    (tmp_path / "novars.lp").write_text("Minimize\n obj: \nSubject To\nEnd\n")
    with pytest.raises(OrlearnError, match="no variables"):
        read_model(tmp_path / "novars.lp")
    (tmp_path / "x.txt").write_text("x")
    with pytest.raises(OrlearnError, match="not an instance file"):
        read_model(tmp_path / "x.txt")


def test_generate_manifest_and_idempotence(tmp_path):
    paths = generate("indset/small", "test", 2, tmp_path)
    assert [p.name for p in paths] == [
        "indset_small_test_0000.mps.gz",
        "indset_small_test_0001.mps.gz",
    ]
    entries = read_manifest(tmp_path)
    assert [e["seed"] for e in entries] == [2_000_000_000, 2_000_000_001]
    for e in entries:
        assert e["split"] == "test" and e["distribution"] == "indset/small"
        assert e["generator_version"] == "indset-1" and e["sha256"] == sha256_file(e["path"])
    mtimes = [p.stat().st_mtime_ns for p in paths]
    again = generate("indset/small", "test", 3, tmp_path)
    assert again[:2] == paths and [p.stat().st_mtime_ns for p in paths] == mtimes
    assert len(read_manifest(tmp_path / "manifest.json")) == 3
    # a tampered file is regenerated
    paths[0].write_bytes(b"junk")
    generate("indset/small", "test", 1, tmp_path)
    assert sha256_file(paths[0]) == entries[0]["sha256"]


def test_resolve_instances(tmp_path):
    set_dir = tmp_path / "set"
    paths = generate("cauctions/small", "valid", 2, set_dir)
    assert resolve_instances([str(set_dir)]) == paths
    assert resolve_instances([set_dir / "manifest.json"]) == paths
    assert resolve_instances([paths[1], paths[0], paths[1]]) == [paths[1], paths[0]]
    cached = resolve_instances(["mknapsack/small"], n=2, split="train", cache_dir=tmp_path / "c")
    assert [p.parent for p in cached] == [tmp_path / "c" / "mknapsack/small" / "train"] * 2
    with pytest.raises(OrlearnError, match="no such file, directory or distribution"):
        resolve_instances(["nope/none"])
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(OrlearnError, match="no MPS/LP"):
        resolve_instances([tmp_path / "emptydir"])
    with pytest.raises(OrlearnError):
        resolve_instances([])
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"instances": [{"file": "gone.mps.gz"}]}))
    with pytest.raises(OrlearnError, match="missing"):
        resolve_instances([bad])
    bad.write_text("{not json")
    with pytest.raises(OrlearnError, match="manifest"):
        resolve_instances([bad])


def test_concurrent_generate_keeps_every_manifest_row(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        list(
            pool.map(lambda i: generate("mknapsack/small", "train", 1, tmp_path, start=i), range(4))
        )
    assert [e["index"] for e in read_manifest(tmp_path)] == [0, 1, 2, 3]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "manifest.json",
        *(f"mknapsack_small_train_{i:04d}.mps.gz" for i in range(4)),
    ]
