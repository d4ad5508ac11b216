"""Hardness labels from (status, time, gap) and the `orlearn milp hardness` verb."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orlearn.errors import OrlearnError
from orlearn.milp.hardness import (
    LEVELS,
    Thresholds,
    distribution_level,
    hardness_level,
    level_counts,
    level_from_time,
)


@pytest.mark.parametrize(
    ("status", "seconds", "limit", "level"),
    [
        ("optimal", 0.5, 3600, "easy"),
        ("optimal", 99.9, 3600, "easy"),
        ("optimal", 100.0, 3600, "medium"),
        ("infeasible", 999.0, 3600, "medium"),
        ("optimal", 1000.0, 3600, "hard"),
        ("optimal", 3500.0, 3600, "hard"),
        ("time_limit", 3600.0, 3600, "very-hard"),
        ("time_limit", 1200.0, 1200, ">=hard"),
        ("time_limit", 300.0, 300, ">=medium"),
        ("time_limit", 60.0, 60, "unknown"),
        ("node_limit", 5.0, 3600, "unknown"),
        ("error", 1.0, 3600, "error"),
    ],
)
def test_levels(status, seconds, limit, level):
    assert hardness_level(status, seconds, 0.1, time_limit=limit) == level


def test_scaled_thresholds():
    quick = Thresholds(scale=0.01)
    assert hardness_level("optimal", 0.5, time_limit=36, thresholds=quick) == "easy"
    assert hardness_level("optimal", 5.0, time_limit=36, thresholds=quick) == "medium"
    assert hardness_level("optimal", 20.0, time_limit=36, thresholds=quick) == "hard"
    assert hardness_level("time_limit", 36.0, 0.2, time_limit=36, thresholds=quick) == "very-hard"
    with pytest.raises(OrlearnError):
        Thresholds(scale=0)
    with pytest.raises(OrlearnError):
        level_from_time(-1.0, True)


@given(st.floats(0, 10_000), st.floats(0, 10_000))
def test_solved_levels_are_monotone(a, b):
    la, lb = level_from_time(min(a, b), True), level_from_time(max(a, b), True)
    assert LEVELS.index(la) <= LEVELS.index(lb)


def test_distribution_level_and_counts():
    assert distribution_level([("optimal", 10.0, 3600), ("optimal", 50.0, 3600)]) == "easy"
    assert distribution_level([("optimal", 10.0, 3600), ("optimal", 500.0, 3600)]) == "medium"
    # one unsolved run makes the mean a lower bound
    assert distribution_level([("optimal", 10.0, 600), ("time_limit", 600.0, 600)]) == ">=medium"
    assert distribution_level([("error", 1.0, 10)]) == "error"
    assert level_counts(["hard", "easy", "easy", "unknown"]) == {"easy": 2, "hard": 1, "unknown": 1}
