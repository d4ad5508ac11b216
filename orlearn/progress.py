"""Progress display for long work, shared by every capability.

On a terminal: a rich progress bar (done / total, elapsed, ETA, a short status). Without one
(output piped or sent to a log file), rich would print nothing until the end and then a single
line cut at 80 columns; there, plain whole lines go to stderr instead, one every
``interval`` seconds and one when the work ends, so a log file shows how the work went.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

#: Seconds between two progress lines when there is no terminal.
LOG_INTERVAL = 30.0


@contextmanager
def progress_bar(
    description: str,
    total: int | None,
    *,
    disable: bool = False,
    interval: float = LOG_INTERVAL,
    stream: TextIO | None = None,
) -> Iterator[Callable[..., None]]:
    """Show done / total, elapsed time and ETA; yields ``advance(n=1, **fields)``.

    ``fields`` may set ``status`` (a short text shown after the bar, e.g. the current loss).
    ``stream`` (default stderr) receives the plain lines written when stdout is not a terminal.
    """
    if disable:
        yield lambda n=1, **fields: None
        return
    if not Console().is_terminal:
        with _progress_lines(description, total, interval, stream or sys.stderr) as advance:
            yield advance
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
    )
    with Progress(*columns, transient=False) as progress:
        task = progress.add_task(description, total=total, status="")

        def advance(n: int = 1, **fields: Any) -> None:
            progress.update(task, advance=n, **fields)

        yield advance


@contextmanager
def _progress_lines(
    description: str, total: int | None, interval: float, stream: TextIO
) -> Iterator[Callable[..., None]]:
    start = time.monotonic()
    done, written, last, status = 0, -1, start, ""

    def line() -> None:
        nonlocal written, last
        elapsed = time.monotonic() - start
        parts = [f"{description}: {done}" + (f"/{total}" if total else "")]
        parts.append(f"{_clock(elapsed)} elapsed")
        if total and 0 < done < total:
            parts.append(f"eta {_clock(elapsed * (total - done) / done)}")
        if status:
            parts.append(status)
        stream.write(", ".join(parts) + "\n")
        stream.flush()
        last, written = time.monotonic(), done

    def advance(n: int = 1, **fields: object) -> None:
        nonlocal done, status
        done += n
        if "status" in fields:
            status = str(fields["status"])
        if time.monotonic() - last >= interval:
            line()

    try:
        yield advance
    finally:
        if done and written != done:  # nothing done: nothing to say
            line()


def _clock(seconds: float) -> str:
    return str(timedelta(seconds=round(seconds)))
