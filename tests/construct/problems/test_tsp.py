"""TSP instance distributions: uniform and clustered (Gaussian mixtures)."""

from __future__ import annotations

import numpy as np
import pytest

from orlearn.construct.problems import get_problem
from orlearn.errors import OrlearnError


def _mean_nearest_neighbour(coords: np.ndarray) -> float:
    d = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.fill_diagonal(d, np.inf)
    return float(d.min(1).mean())


def test_clustered_instances_are_seeded_prefix_stable_and_clustered():
    tsp = get_problem("tsp")
    a = tsp.sample(100, 6, 3, "clustered")
    b = tsp.sample(100, 2, 3, "clustered")
    assert all(np.array_equal(x.coords, y.coords) for x, y in zip(a, b))
    assert all(x.coords.min() >= 0 and x.coords.max() <= 1 + 1e-12 for x in a)
    assert np.isclose(max(np.ptp(x.coords, 0).max() for x in a), 1.0)
    uniform = tsp.sample(100, 6, 3)
    # Clusters put nodes much closer to their nearest neighbour than uniform points are.
    clustered_nn = np.mean([_mean_nearest_neighbour(x.coords) for x in a])
    uniform_nn = np.mean([_mean_nearest_neighbour(x.coords) for x in uniform])
    assert clustered_nn < 0.8 * uniform_nn


def test_unknown_distribution_is_a_clear_error():
    with pytest.raises(OrlearnError, match="no 'clustered' instances for cvrp"):
        get_problem("cvrp").sample(10, 1, 0, "clustered")
