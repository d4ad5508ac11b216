"""Comparing branching rules over a batch: shifted geometric means, wins, tables, profiles.

Conventions (those of the learned-branching literature, e.g. Gasse et al. 2019):

* Only instances (x seeds) that every compared rule has a result for are compared, and only
  those where no rule's solve ended in error (a crash, an unreadable file): an error says
  nothing about how fast a rule is, so errors are counted apart (``errors``) and the instance
  leaves the comparison for every rule.
* ``time``: 1-shifted geometric mean of SCIP solving time in seconds over all compared
  instances; an unsolved one (time or node limit) counts with its time limit (when there is
  none: the time it ran).
* ``nodes``: 10-shifted geometric mean of the node count over the instances every rule solved.
* ``wins``: instances where the rule solved fastest (ties: each tied rule wins).
* ``time ratio``: the rule's time mean over the first rule's (< 1 is faster than the first).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from orlearn.solver.result import SolveResult

TIME_SHIFT = 1.0
NODE_SHIFT = 10.0


def shifted_geometric_mean(values: Iterable[float], shift: float = 1.0) -> float:
    """``exp(mean(log(v + shift))) - shift``; nan for no values. Needs ``v + shift > 0``."""
    values = list(values)
    if not values:
        return math.nan
    if shift < 0 or any(v + shift <= 0 for v in values):
        raise ValueError("shifted geometric mean needs v + shift > 0 for every value")
    return math.exp(math.fsum(math.log(v + shift) for v in values) / len(values)) - shift


def ratio_interval(
    values: Sequence[float], base: Sequence[float], shift: float = 1.0, *,
    resamples: int = 2000, seed: int = 0, level: float = 0.95,
) -> tuple[float, float]:  # fmt: skip
    """Bootstrap interval of ``shifted_geometric_mean(values) / shifted_geometric_mean(base)``
    over paired instances (``values[i]`` and ``base[i]`` come from one instance and are resampled
    together): how far a benchmark's ratio can move with another draw of as many instances.
    Percentile interval at ``level``, seeded; (nan, nan) for fewer than two pairs."""
    import random

    if len(values) != len(base):
        raise ValueError("values and base must pair up")
    pairs = list(zip(values, base))
    if len(pairs) < 2:
        return (math.nan, math.nan)
    rng = random.Random(seed)
    ratios = []
    for _ in range(resamples):
        sample = rng.choices(pairs, k=len(pairs))
        ratios.append(shifted_geometric_mean([p[0] for p in sample], shift)
                      / shifted_geometric_mean([p[1] for p in sample], shift))  # fmt: skip
    ratios.sort()
    tail = (1.0 - level) / 2.0
    return (ratios[int(tail * resamples)], ratios[math.ceil((1.0 - tail) * resamples) - 1])


def unsolved_gaps(results: Iterable[SolveResult]) -> dict[str, list[float]]:
    """Per rule, the gaps (in %) it left on the instances it did not solve, e.g. at a time
    limit; a rule with no solution there (gap None) is absent from its list."""
    gaps: dict[str, list[float]] = {}
    for r in results:
        if not r.solved:
            gaps.setdefault(r.rule, [])
            if r.gap is not None:
                gaps[r.rule].append(100.0 * r.gap)
    return gaps


@dataclass
class RuleSummary:
    """One row of a comparison table."""

    rule: str
    instances: int  # compared: every rule has a result and none ended in error
    solved: int
    errors: int  # solves that ended in error (their instances are not compared)
    time: float
    nodes: float
    wins: int
    time_ratio: float
    fallbacks: int | None = None  # learned rules: nodes where the policy fell back to SCIP


def _instance_id(result: SolveResult) -> tuple[str, int, str, str, float | None]:
    key = result.key()
    return key[0], key[4], key[2], key[3], key[5]  # instance, seed, settings, params, limit


def _time(result: SolveResult) -> float:
    if result.solved:
        return max(0.0, result.solving_time)
    if result.time_limit is not None:
        return result.time_limit
    return max(0.0, result.solving_time, result.wall_time)


def _compared(by_rule: dict[str, dict[tuple, SolveResult]], order: Sequence[str]) -> list[tuple]:
    """The instances every rule has a result for, none of them an error, in a stable order."""
    common = set.intersection(*(set(by_rule.get(rule, {})) for rule in order))
    ok = {i for i in common if all(by_rule[r][i].status != "error" for r in order)}
    return sorted(ok, key=str)


def summarize(
    results: Iterable[SolveResult], rules: Sequence[str] | None = None
) -> list[RuleSummary]:
    """One :class:`RuleSummary` per rule (in ``rules`` order, else first-seen order)."""
    by_rule: dict[str, dict[tuple, SolveResult]] = {}
    for result in results:
        by_rule.setdefault(result.rule, {})[_instance_id(result)] = result
    order = list(rules) if rules is not None else list(by_rule)
    if not order:
        return []
    ids = _compared(by_rule, order)
    common = set.intersection(*(set(by_rule.get(rule, {})) for rule in order))
    errored = common - set(ids)
    all_solved = [i for i in ids if all(by_rule[r][i].solved for r in order)]

    wins = dict.fromkeys(order, 0)
    for i in ids:
        times = {r: by_rule[r][i].solving_time for r in order if by_rule[r][i].solved}
        if times:
            best = min(times.values())
            for rule, value in times.items():
                if value <= best * (1 + 1e-9) + 1e-12:
                    wins[rule] += 1

    rows = []
    for rule in order:
        chosen = [by_rule[rule][i] for i in ids]
        time_mean = shifted_geometric_mean([_time(r) for r in chosen], TIME_SHIFT)
        node_mean = shifted_geometric_mean(
            [by_rule[rule][i].nodes for i in all_solved], NODE_SHIFT
        )
        stats = [r.branching_stats for r in chosen if "fallbacks" in r.branching_stats]
        rows.append(
            RuleSummary(
                rule=rule,
                instances=len(chosen),
                solved=sum(r.solved for r in chosen),
                errors=sum(by_rule[rule][i].status == "error" for i in errored),
                time=time_mean,
                nodes=node_mean,
                wins=wins[rule],
                time_ratio=math.nan,
                fallbacks=sum(int(s["fallbacks"]) for s in stats) if stats else None,
            )
        )
    base = rows[0].time
    for row in rows:
        row.time_ratio = row.time / base if base and not math.isnan(base) else math.nan
    return rows


def rule_labels(rules: Sequence[str]) -> dict[str, str]:
    """Short names for table columns and headers: a rule given as a policy file path shows as its
    file name (the full path stays in the result records), unless two rules share that name."""
    names = {rule: Path(rule).name if rule.endswith(".pt") else rule for rule in rules}
    counts: dict[str, int] = {}
    for name in names.values():
        counts[name] = counts.get(name, 0) + 1
    return {rule: name if counts[name] == 1 else rule for rule, name in names.items()}


def _cells(summary: Sequence[RuleSummary]) -> tuple[list[str], list[list[str]]]:
    labels = rule_labels([row.rule for row in summary])
    first = labels[summary[0].rule] if summary else ""
    ratio = f"time / {first}" if len(first) <= 16 else "time / first rule"
    header = ["rule", "solved", "time (s)", "nodes", "wins", ratio]
    with_errors = any(row.errors for row in summary)
    with_fallbacks = any(row.fallbacks is not None for row in summary)
    if with_errors:
        header.append("errors")
    if with_fallbacks:
        header.append("fallbacks")

    def num(value: float, digits: int) -> str:
        return "-" if math.isnan(value) else f"{value:.{digits}f}"

    rows = []
    for row in summary:
        cells = [
            labels[row.rule],
            f"{row.solved}/{row.instances}",
            num(row.time, 2),
            num(row.nodes, 1),
            str(row.wins),
            num(row.time_ratio, 2),
        ]
        if with_errors:
            cells.append(str(row.errors))
        if with_fallbacks:
            cells.append("-" if row.fallbacks is None else str(row.fallbacks))
        rows.append(cells)
    return header, rows


def summary_markdown(summary: Sequence[RuleSummary]) -> str:
    """The comparison as a GitHub markdown table."""
    header, rows = _cells(summary)
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    note = _errors_note(summary)
    return "\n".join(lines) + "\n" + (f"\n{note}\n" if note else "")


def _errors_note(summary: Sequence[RuleSummary]) -> str:
    if not any(row.errors for row in summary):
        return ""
    return ("errors: solves that ended in error; an instance with an error under any rule is "
            "left out of solved, time, nodes and wins for every rule")


def summary_table(summary: Sequence[RuleSummary], title: str = "") -> object:
    """The comparison as a ``rich.table.Table`` (print it with a rich Console)."""
    from rich.table import Table

    header, rows = _cells(summary)
    table = Table(title=title or None, caption=_errors_note(summary) or None)
    for index, name in enumerate(header):
        # A long rule name wraps (fold) instead of being cut with an ellipsis.
        table.add_column(name, justify="left" if index == 0 else "right", overflow="fold")
    for cells in rows:
        table.add_row(*cells)
    return table


def performance_profile(
    results: Iterable[SolveResult],
    path: str | Path,
    rules: Sequence[str] | None = None,
    max_ratio: float = 10.0,
) -> Path | None:
    """Draw a performance profile (Dolan & More 2002) of solving time; returns the PNG path.

    For each rule: the fraction of compared instances it solved within ``tau`` times the best
    rule's time, for ``tau`` from 1 to ``max_ratio`` (log scale). None without matplotlib.
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    by_rule: dict[str, dict[tuple, SolveResult]] = {}
    for result in results:
        by_rule.setdefault(result.rule, {})[_instance_id(result)] = result
    order = list(rules) if rules is not None else list(by_rule)
    ids = _compared(by_rule, order)
    ratios: dict[str, list[float]] = {rule: [] for rule in order}
    for i in ids:
        times = {r: max(by_rule[r][i].solving_time, 1e-3) for r in order if by_rule[r][i].solved}
        best = min(times.values()) if times else math.inf
        for rule in order:
            ratios[rule].append(times[rule] / best if rule in times else math.inf)
    taus = [max_ratio ** (k / 200) for k in range(201)]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = rule_labels(order)
    for rule in order:
        values = ratios[rule]
        fractions = [sum(v <= tau for v in values) / max(1, len(values)) for tau in taus]
        ax.step(taus, fractions, where="post", label=labels[rule])
    ax.set_xscale("log")
    ax.set_xlabel("time / best time (tau)")
    ax.set_ylabel("fraction of instances solved")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
