"""Hardness labels in the style of Distributional MIPLIB (Huang et al., 2024).

W. Huang, T. Huang, A.M. Ferber, B. Dilkina, "Distributional MIPLIB: a Multi-Domain Library for
Advancing ML-Guided MILP Methods", arXiv:2406.06954 (2024). Distributional MIPLIB classifies
distributions by how long a default solver run takes, with a one-hour limit:

==========  ==========================================================
easy        solved in under 100 s
medium      solved in 100 s to 1000 s
hard        solved, but only after 1000 s or more
very-hard   not solved within the 3600 s limit (the final gap is kept)
==========  ==========================================================

The paper timed Gurobi; orlearn times SCIP with its default settings, so the labels are SCIP's
view of the same scale. ``scale`` multiplies every threshold (e.g. 0.1 for a quick look with a
360 s limit). A run stopped by a limit shorter than the full 3600 s (scaled) gives a censored
label: ``>=hard`` (not solved within 1000 s), ``>=medium`` (not solved within 100 s) or
``unknown`` (stopped before 100 s). A failed run is ``error``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from orlearn.errors import OrlearnError

EASY_MAX_S = 100.0
MEDIUM_MAX_S = 1000.0
FULL_LIMIT_S = 3600.0
LEVELS = ("easy", "medium", "hard", "very-hard")
SOLVED_STATUSES = ("optimal", "infeasible", "unbounded", "infeasible_or_unbounded")


@dataclass(frozen=True)
class Thresholds:
    """The level boundaries in seconds, all multiplied by ``scale``."""

    scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise OrlearnError(f"the time scale must be positive, got {self.scale}")

    @property
    def easy_max(self) -> float:
        return EASY_MAX_S * self.scale

    @property
    def medium_max(self) -> float:
        return MEDIUM_MAX_S * self.scale

    @property
    def full_limit(self) -> float:
        return FULL_LIMIT_S * self.scale


def level_from_time(seconds: float, solved: bool, thresholds: Thresholds = Thresholds()) -> str:
    """Level of a run that took ``seconds``: finished (``solved``) or stopped at that time."""
    if seconds < 0:
        raise OrlearnError(f"solve time must be non-negative, got {seconds}")
    if solved:
        if seconds < thresholds.easy_max:
            return "easy"
        return "medium" if seconds < thresholds.medium_max else "hard"
    if seconds >= thresholds.full_limit * (1 - 1e-6):
        return "very-hard"
    if seconds >= thresholds.medium_max:
        return ">=hard"
    return ">=medium" if seconds >= thresholds.easy_max else "unknown"


def hardness_level(
    status: str,
    solving_time: float,
    gap: float | None = None,
    *,
    time_limit: float | None = None,
    thresholds: Thresholds = Thresholds(),
) -> str:
    """Level of one solve from its status ("optimal", "time_limit", ...), solving time (s) and
    final gap; ``time_limit`` (s) is the limit the run had (for a stopped run it bounds the true
    time from below; defaults to the solving time). ``gap`` is recorded by callers, not used:
    Distributional MIPLIB's levels depend on time only and report the gap of very hard runs."""
    del gap
    if status == "error":
        return "error"
    if status in SOLVED_STATUSES:
        return level_from_time(solving_time, True, thresholds)
    # only a time-limited run is known to need at least its limit; a run stopped by another limit
    # (nodes, gap, memory, user) needs at least the time it ran
    stopped_at = max(solving_time, time_limit or 0.0) if status == "time_limit" else solving_time
    return level_from_time(stopped_at, False, thresholds)


def distribution_level(
    runs: Iterable[tuple[str, float, float | None]], thresholds: Thresholds = Thresholds()
) -> str:
    """Level of a whole distribution from its runs ``(status, solving_time, time_limit)``: the
    level of the mean solve time (Huang et al. label distributions by average time); unsolved
    runs count with the time they were stopped at, so the mean is then a lower bound."""
    times, all_solved, n = 0.0, True, 0
    for status, seconds, limit in runs:
        if status == "error":
            continue
        n += 1
        solved = status in SOLVED_STATUSES
        all_solved &= solved
        times += seconds if solved or status != "time_limit" else max(seconds, limit or 0.0)
    if n == 0:
        return "error"
    return level_from_time(times / n, all_solved, thresholds)


def level_counts(levels: Iterable[str]) -> dict[str, int]:
    """How many runs got each level, in the order easy .. very-hard, then the others."""
    counts = Counter(levels)
    order = [*LEVELS, ">=medium", ">=hard", "unknown", "error"]
    return {level: counts[level] for level in order if counts[level]}
