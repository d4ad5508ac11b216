"""`orlearn generate`, `hardness` and `convert` end to end on tiny inputs."""

import csv
from pathlib import Path

from orlearn.cli import main
from orlearn.milp.io import model_bytes, read_manifest
from orlearn.milp.registry import get_distribution

MIPLIB = Path(__file__).resolve().parents[2] / "instances" / "miplib"


def test_generate(tmp_path, capsys):
    assert main(["generate", "--list"]) == 0
    assert "setcover/small" in capsys.readouterr().out
    out = tmp_path / "set"
    assert (
        main(["generate", "indset/small", "--split", "valid", "-n", "2", "-o", str(out), "-q"]) == 0
    )
    entries = read_manifest(out)
    assert [e["seed"] for e in entries] == [1_000_000_000, 1_000_000_001]
    assert main(["generate", "nope/small", "-o", str(out)]) == 2
    assert "unknown distribution" in capsys.readouterr().err
    assert main(["generate", "indset/small", "-n", "0", "-o", str(out)]) == 2


def test_hardness(tmp_path, capsys):
    labels = tmp_path / "labels.csv"
    files = [str(MIPLIB / "vpm1.mps.gz"), str(MIPLIB / "p0033.mps.gz")]
    jsonl = tmp_path / "h.jsonl"
    argv = ["hardness", *files, "--time-limit", "30", "-o", str(jsonl), "--csv", str(labels), "-q"]
    assert main(argv) == 0
    with open(labels, newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["level"] for r in rows] == ["easy", "easy"]
    assert [r["status"] for r in rows] == ["optimal", "optimal"]
    assert "the set is easy" in capsys.readouterr().out
    assert main(["hardness", str(tmp_path / "missing.mps")]) == 2
    assert main(["hardness", *files, "--time-scale", "0"]) == 2


def test_convert(tmp_path):
    tiny = get_distribution("setcover/small").with_params(n_rows=10, n_cols=15, density=0.2)
    path = tmp_path / "SC.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["MILP", "format"])
        writer.writerow([model_bytes(tiny.sample(0), "lp").decode(), "lp"])
    assert main(["convert", str(path), "-o", str(tmp_path / "out"), "-q"]) == 0
    assert (tmp_path / "out" / "SC_00000.lp.gz").is_file()
    assert main(["convert", str(tmp_path / "none.csv"), "-o", str(tmp_path / "out")]) == 2
