"""`orlearn demo`: a tiny end-to-end run on instances laid out as the shipped ones."""

from __future__ import annotations

import json

from orlearn.cli import main


def test_demo_end_to_end(tmp_path, monkeypatch, capsys, demo_root):
    root = demo_root(tmp_path)
    monkeypatch.setenv("ORLEARN_DATA", str(root))
    out = tmp_path / "demo.jsonl"
    assert main(["demo", "--per-set", "1", "-o", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "demo: 2 instances from 2 sets" in printed and "pscost" in printed
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 4
    assert {r["rule"] for r in records} == {"relpscost", "pscost"}
    assert all(r["settings"] == "gasse" and r["status"] == "optimal" for r in records)
