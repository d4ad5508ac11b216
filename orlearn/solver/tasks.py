"""What ``orlearn milp solve`` and ``orlearn milp hardness`` run, as library functions: check
solve options, compare rules over an instance set (summary, Markdown table, performance profile),
report failed solves, and label instances by hardness.

Rules that are not SCIP's go to the caller's resolver (``resolve=``, e.g.
:func:`orlearn.branching.plugin_for`), so this module, like the rest of ``orlearn.solver``, knows
nothing of branching.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orlearn.errors import OrlearnError

if TYPE_CHECKING:
    from orlearn.milp.hardness import Thresholds
    from orlearn.solver.metrics import RuleSummary
    from orlearn.solver.result import SolveResult
    from orlearn.solver.rules import Resolver

#: The rule solved when none is given: SCIP's default (reliability pseudo-cost branching).
DEFAULT_RULES = ("relpscost",)
#: How many failed solves :func:`error_lines` describes before it counts the rest.
SHOWN_ERRORS = 5


def check_solve_options(
    rules: Sequence[str],
    *,
    settings: str = "default",
    params: Sequence[str] = (),
    time_limit: float | None = None,
    jobs: int = 1,
    threads: int | None = None,
    n: int | None = None,
    resolve: Resolver | None = None,
) -> None:
    """Raise :class:`OrlearnError` on a bad rule (``resolve`` loads a learned one), settings preset, SCIP parameter, time limit,
    job count, thread count (or ``ORLEARN_THREADS``) or instance count, before anything is
    generated or solved."""
    from orlearn.solver.rules import validate_rule
    from orlearn.solver.settings import parse_params, validate_settings, validate_time_limit
    from orlearn.threads import resolve_threads

    for rule in rules or DEFAULT_RULES:
        validate_rule(rule, resolve)
    validate_settings(settings)
    parse_params(params)
    validate_time_limit(time_limit)
    if jobs < 1:
        raise OrlearnError(f"--jobs must be at least 1, got {jobs}")
    resolve_threads(threads, "small")
    if n is not None and n < 1:
        raise OrlearnError(f"-n must be at least 1, got {n}")


@dataclass
class Comparison:
    """The solves of a rule comparison, their per-rule summary, and the profile drawn (None when
    none was asked for or matplotlib is missing)."""

    results: list[SolveResult]
    summary: list[RuleSummary]
    profile: Path | None = None


def compare_rules(
    instances: Sequence[Path],
    rules: Sequence[str] = DEFAULT_RULES,
    *,
    settings: str = "default",
    params: Sequence[str] = (),
    seeds: Sequence[int] = (0,),
    time_limit: float | None = None,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    output: str | Path = "results.jsonl",
    retry_errors: bool = False,
    threads: int | None = None,
    progress: bool = True,
    markdown: str | Path | None = None,
    profile: str | Path | None = None,
    resolve: Resolver | None = None,
) -> Comparison:
    """Solve every instance under every rule (resuming from ``output``), summarize per rule, and
    optionally write the summary as a Markdown table and draw a performance profile (PNG).

    ``threads`` is the torch thread count per learned-rule solve (default: ``ORLEARN_THREADS``,
    else 1, since several solves run at once). ``resolve`` turns a rule that is not SCIP's into
    a plugin (see :mod:`orlearn.solver.rules`)."""
    from orlearn.solver.batch import solve_batch
    from orlearn.solver.metrics import performance_profile, summarize, summary_markdown
    from orlearn.threads import resolve_threads

    rules = list(rules or DEFAULT_RULES)
    results = solve_batch(
        instances,
        rules,
        resolve=resolve,
        settings=settings,
        params=list(params),
        seeds=list(seeds) or [0],
        time_limit=time_limit,
        jobs=jobs,
        executor=executor,
        address=address,
        output=output,
        retry_errors=retry_errors,
        threads=resolve_threads(threads, "small"),
        progress=progress,
    )
    summary = summarize(results, rules)
    if markdown:
        Path(markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown).write_text(summary_markdown(summary))
    drawn = performance_profile(results, profile, rules) if profile else None
    return Comparison(list(results), summary, drawn)


def error_lines(results: Iterable[SolveResult], limit: int = SHOWN_ERRORS) -> list[str]:
    """One line per failed solve (the first ``limit``), then how many more there were."""
    failed = [r for r in results if r.status == "error"]
    lines = [
        f"{'error' if r.bad_input else 'solve failed'}: {r.instance} [{r.rule}]: {r.message}"
        for r in failed[:limit]
    ]
    if len(failed) > limit:
        lines.append(f"... and {len(failed) - limit} more errors")
    return lines


def exit_code(results: Iterable[SolveResult]) -> int:
    """2 when a solve failed on its input (an unreadable instance, an unusable policy), 1 when
    one failed otherwise (crash, time-out of a worker), 0 when none failed."""
    failed = [r for r in results if r.status == "error"]
    if any(r.bad_input for r in failed):
        return 2
    return 1 if failed else 0


def check_hardness_options(time_limit: float, n: int | None = None) -> None:
    """Raise :class:`OrlearnError` on a time limit that is not positive or an instance count
    below 1, before any instance is generated."""
    if time_limit <= 0:
        raise OrlearnError(f"--time-limit must be positive, got {time_limit}")
    if n is not None and n < 1:
        raise OrlearnError(f"-n must be at least 1, got {n}")


@dataclass
class HardnessRow:
    """One labelled solve: the instance, SCIP's status, seconds, gap (None: no gap) and level."""

    instance: str
    status: str
    solving_time: float
    gap: float | None
    level: str


@dataclass
class HardnessReport:
    """Labels of an instance set: one row per solve, the count per level, the set's level."""

    results: list[SolveResult]
    rows: list[HardnessRow]
    counts: dict[str, int]
    overall: str


def label_hardness(
    instances: Sequence[Path],
    thresholds: Thresholds,
    *,
    time_limit: float = 3600.0,
    jobs: int = 1,
    output: str | Path | None = None,
    progress: bool = True,
) -> HardnessReport:
    """Solve each instance with SCIP defaults (relpscost) and label it easy .. very-hard; the
    whole set gets the level of its mean solve time (Distributional MIPLIB)."""
    from orlearn.milp.hardness import distribution_level, hardness_level, level_counts
    from orlearn.solver.batch import solve_batch

    check_hardness_options(time_limit)
    results = solve_batch(
        instances, DEFAULT_RULES, settings="default", time_limit=time_limit, jobs=jobs,
        output=output, progress=progress,
    )  # fmt: skip
    rows = [
        HardnessRow(
            r.instance, r.status, r.solving_time, r.gap,
            hardness_level(r.status, r.solving_time, r.gap, time_limit=r.time_limit,
                           thresholds=thresholds),
        )  # fmt: skip
        for r in results
    ]
    counts = level_counts(row.level for row in rows)
    overall = distribution_level(
        ((r.status, r.solving_time, r.time_limit) for r in results), thresholds
    )
    return HardnessReport(list(results), rows, counts, overall)


def write_hardness_csv(rows: Iterable[HardnessRow], path: str | Path) -> None:
    """Write ``instance,status,solving_time,gap,level`` rows (an empty gap cell: no gap)."""
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["instance", "status", "solving_time", "gap", "level"])
        writer.writerows((r.instance, r.status, r.solving_time, r.gap, r.level) for r in rows)
