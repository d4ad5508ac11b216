"""Importance-weighted reward redistribution and the returns the learner regresses on.

An episode ends with one terminal reward ``R``: ``-nodes`` (processed nodes, ``reward="nodes"``)
or ``-LP iterations`` (``reward="lp"``). It is spread over the recorded decisions
``t = 1..T`` as step rewards::

    iota_t = c_t * (1 + beta * (1 - g_t))          (importance of decision t)
    w_t    = iota_t / sum_u iota_u                 (uniform 1/T if every iota_u is 0)
    r_t    = R * w_t                               so that  sum_t r_t = R  exactly

where ``c_t`` is the decision's share of the final tree, i.e. the processed nodes (or LP
iterations) charged to it (the node itself and the nodes below it that no other recorded
decision branched: ``Decision.local_nodes`` / ``local_lp``), and ``g_t`` in [0, 1] is its
dual-bound gain (``Decision.gain``: the share of the node's gap its children closed).
``beta >= 0`` sets how much a weak dual-bound gain adds to a decision's blame; with ``beta = 0``
each decision carries exactly its share of the tree. To make the sum exact in floating point,
the last step gets ``R - sum_{t<T} r_t`` (math.fsum).

The learner's target for decision ``t`` is its tree-MDP return (Scavuzzo et al. 2022): the sum
of the step rewards in its subtree, ``G_t = sum_{u in subtree(t)} r_u``. With ``beta = 0`` and
node rewards, ``G_t = -(processed nodes below t)``, the tree-MDP return itself; the root's
return is always ``R``. Without redistribution (the ablation) the reward stays sparse: every
decision's return is the episode's terminal reward, ``G_t = R``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from orlearn.branching.revibranch.episode import Episode
from orlearn.errors import OrlearnError

REWARDS = ("nodes", "lp")


def terminal_reward(episode: Episode, reward: str = "nodes") -> float:
    """``-nodes`` or ``-LP iterations`` of a finished episode."""
    check_reward(reward)
    return -float(episode.nodes if reward == "nodes" else episode.lp_iterations)


def check_reward(reward: str) -> None:
    if reward not in REWARDS:
        raise OrlearnError(f"unknown reward '{reward}'; valid: {', '.join(REWARDS)}")


def redistribute(
    costs: Sequence[float], gains: Sequence[float], terminal: float, beta: float = 1.0
) -> np.ndarray:
    """Step rewards ``r_t`` (float64) that sum to ``terminal`` (formula in the module doc)."""
    c = np.asarray(costs, dtype=np.float64)
    g = np.clip(np.asarray(gains, dtype=np.float64), 0.0, 1.0)
    if c.shape != g.shape or c.ndim != 1:
        raise ValueError("costs and gains must be 1-D and of the same length")
    if beta < 0 or (c < 0).any():
        raise ValueError("costs and beta must be non-negative")
    if c.size == 0:
        return c
    importance = c * (1.0 + beta * (1.0 - g))
    total = importance.sum()
    w = importance / total if total > 0 else np.full(c.size, 1.0 / c.size)
    r = terminal * w
    r[-1] = terminal - math.fsum(r[:-1])
    return r


def tree_returns(rewards: Sequence[float], parents: Sequence[int]) -> np.ndarray:
    """``G_t``: the sum of ``rewards`` over each decision's subtree.

    ``parents[t]`` is the index of the decision above ``t`` (-1 for none) and always < ``t``
    (a decision is taken after the one above it).
    """
    g = np.array(rewards, dtype=np.float64)
    for t in range(len(g) - 1, -1, -1):
        p = parents[t]
        if p >= t:
            raise ValueError(f"decision {t} has parent {p}: parents must come first")
        if p >= 0:
            g[p] += g[t]
    return g


def decision_parents(episode: Episode) -> list[int]:
    """Index of each decision's parent decision in ``episode.decisions`` (-1: none)."""
    index = {d.node: i for i, d in enumerate(episode.decisions)}
    return [index.get(d.parent, -1) for d in episode.decisions]


def decision_returns(
    episode: Episode, reward: str = "nodes", *, redistribution: bool = True, beta: float = 1.0
) -> np.ndarray:
    """The learner's target for every decision of a complete episode (see the module doc)."""
    big_r = terminal_reward(episode, reward)
    n = len(episode.decisions)
    if not redistribution:
        return np.full(n, big_r)
    costs = [d.local_nodes if reward == "nodes" else d.local_lp for d in episode.decisions]
    gains = [d.gain for d in episode.decisions]
    return tree_returns(redistribute(costs, gains, big_r, beta), decision_parents(episode))


def decision_stakes(episode: Episode, reward: str = "nodes") -> np.ndarray:
    """Every decision's subtree: processed nodes (or LP iterations) below and at it.

    What the trust region scales with (:mod:`orlearn.branching.revibranch.policy`), the same
    for every ablation: the tree-MDP return's size, whatever the learner's targets are.
    """
    check_reward(reward)
    key = "subtree_nodes" if reward == "nodes" else "subtree_lp"
    return np.array([float(getattr(d, key)) for d in episode.decisions], dtype=np.float64)
