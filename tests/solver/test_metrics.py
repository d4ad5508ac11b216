"""Shifted geometric means, the per-rule summary and its renderings, performance profiles."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from orlearn.solver.metrics import (
    performance_profile,
    ratio_interval,
    shifted_geometric_mean,
    summarize,
    summary_markdown,
    summary_table,
    unsolved_gaps,
)
from orlearn.solver.result import SolveResult

times = st.lists(st.floats(min_value=0, max_value=1e5, allow_nan=False), min_size=1, max_size=30)


def test_shifted_geometric_mean_by_hand():
    assert shifted_geometric_mean([1, 3], 1) == pytest.approx(math.sqrt(2 * 4) - 1)
    assert shifted_geometric_mean([10, 1000], 10) == pytest.approx(math.sqrt(20 * 1010) - 10)
    assert shifted_geometric_mean([0, 0, 0], 1) == pytest.approx(0)
    assert math.isnan(shifted_geometric_mean([], 1))
    with pytest.raises(ValueError):
        shifted_geometric_mean([-2.0], 1)


@given(times, st.floats(min_value=0.1, max_value=100))
def test_mean_lies_between_min_and_arithmetic_mean(values, shift):
    mean = shifted_geometric_mean(values, shift)
    tol = 1e-9 * (1 + max(values))
    assert min(values) - tol <= mean <= sum(values) / len(values) + tol


@given(st.floats(min_value=0, max_value=1e6), st.integers(1, 20), st.floats(0.1, 10))
def test_mean_of_a_constant_is_the_constant(value, n, shift):
    assert shifted_geometric_mean([value] * n, shift) == pytest.approx(value, rel=1e-9, abs=1e-9)


@given(times, st.floats(min_value=0, max_value=1e3))
def test_mean_grows_with_the_values(values, extra):
    bigger = [v + extra for v in values]
    assert shifted_geometric_mean(bigger, 1) >= shifted_geometric_mean(values, 1) - 1e-9


@given(times)
def test_mean_ignores_order(values):
    assert shifted_geometric_mean(values, 1) == pytest.approx(
        shifted_geometric_mean(list(reversed(values)), 1)
    )


def res(instance, rule, time, nodes, status="optimal", limit=10.0, **kw):
    return SolveResult(instance=instance, rule=rule, status=status, solving_time=time,
                       wall_time=time, nodes=nodes, time_limit=limit, **kw)


RESULTS = [
    res("a", "A", 1.0, 10), res("a", "B", 3.0, 30),
    res("b", "A", 7.0, 100), res("b", "B", 1.0, 5),
    res("c", "A", 10.0, 500, status="time_limit"), res("c", "B", 4.0, 40),
    res("d", "B", 0.5, 1),  # A never ran on d: d is not compared
]


def test_summary_by_hand():
    a, b = summarize(RESULTS, ["A", "B"])
    assert (a.rule, a.instances, a.solved, a.wins) == ("A", 3, 2, 1)
    assert (b.rule, b.instances, b.solved, b.wins) == ("B", 3, 3, 2)
    assert a.time == pytest.approx((2 * 8 * 11) ** (1 / 3) - 1)  # the unsolved one counts 10 s
    assert b.time == pytest.approx((4 * 2 * 5) ** (1 / 3) - 1)
    # nodes: only on a and b, which both rules solved (10-shifted)
    assert a.nodes == pytest.approx(math.sqrt(20 * 110) - 10)
    assert b.nodes == pytest.approx(math.sqrt(40 * 15) - 10)
    assert a.time_ratio == 1
    assert b.time_ratio == pytest.approx(b.time / a.time)
    assert a.fallbacks is None and a.errors == 0


def test_ties_win_for_both():
    a, b = summarize([res("a", "A", 2.0, 1), res("a", "B", 2.0, 1), res("b", "B", 1.0, 1),
                      res("b", "A", 3.0, 1)])
    assert (a.wins, b.wins) == (1, 2)


def test_errors_are_counted_apart_and_leave_the_comparison():
    # An error (crash, unreadable file) is not a solve that hit the time limit: instance b
    # leaves the comparison for both rules, and the error is counted on its own.
    rows = summarize([
        res("a", "A", 2.0, 1), res("a", "B", 2.0, 1),
        res("b", "A", 0.1, 1, status="error"), res("b", "B", 5.0, 1),
    ])
    a, b = rows
    assert (a.instances, a.solved, a.errors) == (1, 1, 1)
    assert (b.instances, b.solved, b.errors) == (1, 1, 0)
    assert a.time == pytest.approx(2.0) and b.time == pytest.approx(2.0)
    assert (a.wins, b.wins) == (1, 1)
    markdown = summary_markdown(rows)
    assert markdown.splitlines()[0].endswith("| errors |")
    assert "left out of solved, time, nodes and wins" in markdown
    console = Console(record=True, width=100)
    console.print(summary_table(rows))
    assert "left out of solved" in console.export_text()


def test_fallbacks_column_and_renderings(tmp_path):
    results = [
        res("a", "gnn", 1.0, 10, branching_stats={"learned_calls": 9, "fallbacks": 2}),
        res("a", "relpscost", 2.0, 10),
        res("b", "gnn", 1.0, 10, branching_stats={"learned_calls": 5, "fallbacks": 1}),
        res("b", "relpscost", 1.0, 10),
    ]
    summary = summarize(results)
    assert [row.fallbacks for row in summary] == [3, None]
    markdown = summary_markdown(summary)
    assert markdown.splitlines()[0] == (
        "| rule | solved | time (s) | nodes | wins | time / gnn | fallbacks |"
    )
    assert markdown.splitlines()[2] == "| gnn | 2/2 | 1.00 | 10.0 | 2 | 1.00 | 3 |"
    assert markdown.splitlines()[3].startswith("| relpscost | 2/2 | 1.45 | 10.0 | 1 | 1.45 | - |")
    console = Console(record=True, width=120)
    console.print(summary_table(summary, title="t"))
    text = console.export_text()
    assert "gnn" in text and "relpscost" in text and "fallbacks" in text
    png = performance_profile(results, tmp_path / "profile.png")
    assert png is not None and png.read_bytes()[:4] == b"\x89PNG"


def test_empty_summary():
    assert summarize([]) == []


def test_rule_paths_show_as_file_names_and_are_never_cut():
    long_dir = "/data/" + "a_very_long_folder_name/" * 4
    path = long_dir + "setcover_policy_trained_on_a_thousand_instances.pt"
    results = [res("a", path, 1.0, 10), res("a", "relpscost", 2.0, 10)]
    console = Console(record=True, width=80)  # what a pipe or a log file gets
    console.print(summary_table(summarize(results, [path, "relpscost"])))
    text = console.export_text()
    first_column = "".join(line.split("\u2502")[1].strip() for line in text.splitlines()
                           if line.startswith("\u2502"))
    assert first_column == "setcover_policy_trained_on_a_thousand_instances.ptrelpscost"
    assert "a_very_long_folder_name" not in text and "\u2026" not in text
    assert "time / first rule" in "".join(text.split("\u2503"))
    # two policies with the same file name keep their paths
    other = "/elsewhere/setcover_policy_trained_on_a_thousand_instances.pt"
    markdown = summary_markdown(summarize(results + [res("a", other, 1.5, 10)], [path, "relpscost", other]))
    assert other in markdown and path in markdown


@given(st.lists(st.floats(0.0, 1e4), min_size=2, max_size=30), st.floats(0.1, 10.0))
def test_ratio_interval_of_a_scaled_set_is_the_scale(base, factor):
    """With shift 0 every resample's ratio is exactly the factor."""
    base = [b + 1.0 for b in base]
    low, high = ratio_interval([factor * b for b in base], base, 0.0, resamples=200)
    assert low == pytest.approx(factor) and high == pytest.approx(factor)


def test_ratio_interval_brackets_the_ratio_and_narrows_with_more_instances():
    import random

    rng = random.Random(1)
    base = [rng.uniform(10, 1000) for _ in range(400)]
    values = [b * rng.uniform(0.6, 1.2) for b in base]  # about 0.9 x the base

    def width(n):
        low, high = ratio_interval(values[:n], base[:n], 10.0)
        ratio = shifted_geometric_mean(values[:n], 10.0) / shifted_geometric_mean(base[:n], 10.0)
        assert low <= ratio <= high
        return high - low

    assert width(400) < width(25)
    assert all(math.isnan(x) for x in ratio_interval([1.0], [2.0]))  # one pair: no interval
    with pytest.raises(ValueError):
        ratio_interval([1.0, 2.0], [1.0])


def test_unsolved_gaps_lists_each_rules_gap_where_it_stopped_short():
    results = [
        res("a", "relpscost", 10.0, 50, status="time_limit", gap=0.0357),
        res("a", "gnn", 10.0, 80, status="time_limit", gap=0.0121),
        res("b", "gnn", 10.0, 40, status="time_limit"),  # no solution: no gap
        res("b", "relpscost", 3.0, 9, gap=0.0),
    ]
    gaps = unsolved_gaps(results)
    assert gaps["relpscost"] == pytest.approx([3.57]) and gaps["gnn"] == pytest.approx([1.21])
    assert unsolved_gaps([results[3]]) == {}
