"""orlearn.branching.tasks: a collection run resumes and counts what it did."""

from __future__ import annotations

import orlearn.branching.collect as collect_module
from orlearn.branching.collect import Episode
from orlearn.branching.tasks import run_collection


def test_run_collection_skips_done_shards_and_reports_samples_and_failures(tmp_path, monkeypatch):
    done = tmp_path / "done.pt"
    done.write_bytes(b"")
    episodes = [
        Episode("a.mps", "setcover/small", str(done)),
        Episode("b.mps", "setcover/small", str(tmp_path / "b.pt")),
        Episode("c.mps", "indset/small", str(tmp_path / "c.pt")),
        Episode("d.mps", "indset/small", str(tmp_path / "d.pt")),
    ]

    def fake_collect(todo, **kwargs):
        assert [e.instance for e in todo] == ["b.mps", "c.mps", "d.mps"]
        yield todo[0], {"samples": 5}, None
        yield todo[1], {"samples": 2}, None
        yield todo[2], None, "crashed"

    monkeypatch.setattr(collect_module, "collect", fake_collect)
    report = run_collection(episodes, progress=False)
    assert (report.run, report.already_done) == (2, 1)
    assert report.samples == {"indset/small": 2, "setcover/small": 5}
    assert report.failed == ["d.mps: crashed"]
