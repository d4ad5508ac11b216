"""Progress without a terminal: whole lines, periodic, with a final one; nothing when disabled."""

from __future__ import annotations

import io

from orlearn.progress import progress_bar


def test_without_a_terminal_progress_is_whole_lines():
    stream = io.StringIO()
    with progress_bar("solving", 3, interval=0.0, stream=stream) as advance:
        for k in range(3):
            advance(status=f"instance {k}: optimal")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("solving: 1/3, 0:00:00 elapsed, eta ")
    assert lines[0].endswith("instance 0: optimal")
    assert lines[-1] == "solving: 3/3, 0:00:00 elapsed, instance 2: optimal"


def test_lines_are_periodic_and_the_last_one_is_always_written():
    stream = io.StringIO()
    with progress_bar("training", 100, interval=3600.0, stream=stream) as advance:
        for _ in range(100):
            advance()
    assert stream.getvalue().splitlines() == ["training: 100/100, 0:00:00 elapsed"]


def test_disabled_progress_writes_nothing(capsys):
    stream = io.StringIO()
    with progress_bar("x", 2, disable=True, stream=stream) as advance:
        advance(2)
    assert stream.getvalue() == "" and capsys.readouterr() == ("", "")


def test_work_that_stops_before_any_progress_writes_no_line():
    stream = io.StringIO()
    try:
        with progress_bar("solving", 5, interval=0.0, stream=stream):
            raise RuntimeError("stopped")
    except RuntimeError:
        pass
    assert stream.getvalue() == ""
