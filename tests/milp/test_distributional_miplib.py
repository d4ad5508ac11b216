"""The Distributional MIPLIB CSV loader on a small CSV built here."""

import csv

import pytest

from orlearn.errors import OrlearnError
from orlearn.milp.distributional_miplib import csv_to_files, iter_csv_instances
from orlearn.milp.io import model_bytes, read_manifest, read_model
from orlearn.milp.registry import get_distribution


@pytest.fixture()
def csv_file(tmp_path):
    tiny = get_distribution("cauctions/small").with_params(n_items=8, n_bids=15)
    mps = model_bytes(tiny.sample(0), "mps").decode()
    lp = model_bytes(tiny.sample(1), "lp").decode()
    path = tmp_path / "CA-easy.csv"
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["Unnamed: 0", "MILP", "format", "split"])
        writer.writerow([0, mps, "mps", "train"])
        writer.writerow([1, lp, "lp", "train"])
        writer.writerow([2, repr(mps.encode()), "MPS", "test"])  # bytes literal, as some exports
    return path, tiny


def test_iterate_and_write(tmp_path, csv_file):
    path, tiny = csv_file
    rows = list(iter_csv_instances(path))
    assert [(r.row, r.format, r.name) for r in rows] == [
        (0, "mps", "CA-easy_00000"), (1, "lp", "CA-easy_00001"), (2, "mps", "CA-easy_00002"),
    ]  # fmt: skip
    assert rows[2].text == rows[0].text and rows[0].metadata["split"] == "train"
    paths = csv_to_files(path, tmp_path / "out")
    assert [p.name for p in paths] == [
        "CA-easy_00000.mps.gz", "CA-easy_00001.lp.gz", "CA-easy_00002.mps.gz",
    ]  # fmt: skip
    expected = tiny.sample(0)
    expected.hideOutput()
    expected.optimize()
    for p in (paths[0], paths[2]):
        model = read_model(p)
        model.optimize()
        assert model.getObjVal() == pytest.approx(expected.getObjVal())
    assert read_model(paths[1]).getNVars() == tiny.sample(1).getNVars()
    entries = read_manifest(tmp_path / "out")
    assert [e["split"] for e in entries] == ["train", "train", "test"]
    assert entries[0]["distribution"] == "csv:CA-easy"
    plain = csv_to_files(path, tmp_path / "plain", compress=False, limit=1)
    assert [p.name for p in plain] == ["CA-easy_00000.mps"]


def test_bad_csv(tmp_path):
    with pytest.raises(OrlearnError, match="no such file"):
        list(iter_csv_instances(tmp_path / "none.csv"))
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(OrlearnError, match="missing column"):
        list(iter_csv_instances(bad))
    bad.write_text("MILP,format\nNAME x,xls\n")
    with pytest.raises(OrlearnError, match="unknown format"):
        list(iter_csv_instances(bad))
    bad.write_text("MILP,format\n,mps\n")
    with pytest.raises(OrlearnError, match="empty MILP"):
        list(iter_csv_instances(bad))
    bad.write_text("MILP,format\n")
    with pytest.raises(OrlearnError, match="no instances"):
        csv_to_files(bad, tmp_path / "o")


def test_text_that_is_not_a_model_is_refused(tmp_path, csv_file, capsys):
    from orlearn.cli import main

    path, _ = csv_file
    rows = list(csv.reader(path.open(newline="")))
    rows.append([3, "Dear reader,\nthis cell holds a letter, not a model.\n", "mps", "test"])
    bad = tmp_path / "with_text.csv"
    with open(bad, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    out = tmp_path / "o"
    assert main(["milp", "convert", str(bad), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("orlearn: error: ") and "row 3: the MILP text is not a valid MPS file" in err
    assert "\n" not in err
    # the three good rows before it are written and listed; the bad one left no file
    assert {p.name for p in out.iterdir()} == {e["file"] for e in read_manifest(out)} | {"manifest.json"}
    assert len(read_manifest(out)) == 3
