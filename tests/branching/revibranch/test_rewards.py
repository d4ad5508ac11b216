"""Reward redistribution sums to the terminal reward; tree returns are subtree sums."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.branching.revibranch.episode import Episode
from orlearn.branching.revibranch.rewards import (
    decision_returns,
    decision_stakes,
    redistribute,
    terminal_reward,
    tree_returns,
)
from orlearn.branching.rules.rl import Decision
from orlearn.errors import OrlearnError


@st.composite
def trees(draw: st.DrawFn) -> tuple[list[int], list[float], list[float]]:
    """Random decision trees (parents before children), costs and gains."""
    n = draw(st.integers(1, 40))
    parents = [-1] + [draw(st.integers(-1, t - 1)) for t in range(1, n)]
    costs = draw(st.lists(st.integers(0, 1000).map(float), min_size=n, max_size=n))
    gains = draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
    return parents, costs, gains


@settings(max_examples=200, deadline=None)
@given(trees(), st.floats(-1e7, 0), st.floats(0, 5))
def test_redistributed_rewards_sum_to_terminal(tree, terminal, beta) -> None:
    _, costs, gains = tree
    r = redistribute(costs, gains, terminal, beta)
    assert math.isclose(math.fsum(r), terminal, rel_tol=1e-12, abs_tol=1e-9)
    # A negative terminal reward stays negative at every step (up to rounding at its scale).
    assert np.all(r <= 1e-12 * max(1.0, abs(terminal)))


@settings(max_examples=100, deadline=None)
@given(trees(), st.floats(-1e6, -1))
def test_tree_returns_are_subtree_sums(tree, terminal) -> None:
    parents, costs, gains = tree
    r = redistribute(costs, gains, terminal, 1.0)
    g = tree_returns(r, parents)
    for t in range(len(parents)):
        below = [u for u in range(len(parents)) if _is_descendant(u, t, parents)]
        assert math.isclose(g[t], math.fsum(r[u] for u in below), rel_tol=1e-9, abs_tol=1e-6)
    tops = [t for t, p in enumerate(parents) if p < 0]
    assert math.isclose(math.fsum(g[t] for t in tops), terminal, rel_tol=1e-9)


def _is_descendant(u: int, t: int, parents: list[int]) -> bool:
    while u >= 0:
        if u == t:
            return True
        u = parents[u]
    return False


def test_beta_zero_gives_the_tree_mdp_return() -> None:
    # Without the gain term each return is minus the processed nodes in the decision's subtree.
    parents = [-1, 0, 0, 1]
    local = [1.0, 2.0, 3.0, 2.0]  # processed nodes charged to each decision: 8 in all
    g = tree_returns(redistribute(local, [0.3, 0.9, 0.1, 0.5], -8.0, beta=0.0), parents)
    np.testing.assert_allclose(g, [-8.0, -4.0, -3.0, -2.0])


def test_weak_gain_takes_more_blame() -> None:
    r = redistribute([5.0, 5.0], [0.0, 1.0], -100.0, beta=1.0)
    assert r[0] < r[1]  # same share of the tree, no dual-bound progress: more of the penalty
    np.testing.assert_allclose(r, [-100 * 2 / 3, -100 / 3])


def test_zero_costs_fall_back_to_uniform_and_bad_input_is_refused() -> None:
    np.testing.assert_allclose(redistribute([0, 0, 0, 0], [1, 1, 1, 1], -4.0), [-1.0] * 4)
    with pytest.raises(ValueError):
        redistribute([1.0], [0.5, 0.5], -1.0)
    with pytest.raises(ValueError):
        redistribute([1.0], [0.5], -1.0, beta=-1)
    with pytest.raises(ValueError):
        tree_returns([1.0, 1.0], [1, -1])  # a parent after its child


def _decision(node: int, parent: int, local_nodes: int, local_lp: int) -> Decision:
    return Decision(
        node=node, parent=parent, depth=0, state=np.zeros(2, np.float32),
        cand=np.zeros((1, 1), np.float16), candidates=np.zeros(1, np.int64), action=0,
        variable="x", lp_bound=0.0, children=(), local_nodes=local_nodes, local_lp=local_lp,
    )  # fmt: skip


def test_episode_returns_with_and_without_redistribution() -> None:
    ep = Episode(
        instance="i", seed=0, status="optimal", nodes=5, lp_iterations=100,
        decisions=[_decision(1, -1, 3, 60), _decision(2, 1, 2, 40)],
    )  # fmt: skip
    assert terminal_reward(ep, "lp") == -100.0
    np.testing.assert_allclose(decision_returns(ep, "nodes", beta=0.0), [-5.0, -2.0])
    np.testing.assert_allclose(decision_returns(ep, "lp", beta=0.0), [-100.0, -40.0])
    np.testing.assert_allclose(decision_returns(ep, "nodes", redistribution=False), [-5.0, -5.0])
    with pytest.raises(OrlearnError, match="unknown reward"):
        terminal_reward(ep, "time")


def test_stakes_are_subtree_sizes_whatever_the_targets() -> None:
    """The trust region's scale is the decision's subtree, the same for every ablation."""
    ep = Episode(
        instance="i", seed=0, status="optimal", nodes=5, lp_iterations=100,
        decisions=[_decision(1, -1, 3, 60), _decision(2, 1, 2, 40)],
    )  # fmt: skip
    for d, (n, lp) in zip(ep.decisions, [(5, 100), (2, 40)]):
        d.subtree_nodes, d.subtree_lp = n, lp
    np.testing.assert_allclose(decision_stakes(ep, "nodes"), -decision_returns(ep, "nodes", beta=0.0))
    np.testing.assert_allclose(decision_stakes(ep, "lp"), [100.0, 40.0])
    with pytest.raises(OrlearnError, match="unknown reward"):
        decision_stakes(ep, "time")
