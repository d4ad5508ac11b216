"""The learned-branching jobs the ``orlearn branching`` verbs run, as library functions.

:func:`run_collection` runs the imitation-data episodes not yet on disk with a progress bar and
counts what they gave; the command line only prints the :class:`CollectionReport`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from orlearn.branching.collect import Episode


@dataclass
class CollectionReport:
    """What a collection run did: episodes run now, found done (shard on disk), failed (one
    ``instance: error`` line each), and new samples per distribution."""

    run: int = 0
    already_done: int = 0
    failed: list[str] = field(default_factory=list)
    samples: dict[str, int] = field(default_factory=dict)


def run_collection(
    episodes: Sequence[Episode],
    *,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    progress: bool = True,
) -> CollectionReport:
    """Run the episodes whose shard does not exist yet (a rerun resumes) and report them."""
    from orlearn.branching.collect import collect
    from orlearn.progress import progress_bar

    todo = [e for e in episodes if not Path(e.shard).is_file()]
    samples: Counter[str] = Counter()
    failed: list[str] = []
    with progress_bar("collecting", len(todo), disable=not progress) as advance:
        for episode, stats, error in collect(todo, jobs=jobs, executor=executor, address=address):
            if error is not None:
                failed.append(f"{episode.instance}: {error}")
            else:
                samples[episode.distribution] += stats["samples"]
            advance(status=f"{sum(samples.values())} samples")
    return CollectionReport(
        run=len(todo) - len(failed),
        already_done=len(episodes) - len(todo),
        failed=failed,
        samples=dict(sorted(samples.items())),
    )
