import numpy as np
import pytest

from orlearn.decision_rules import SDDP
from orlearn.decision_rules.exact import exact_value_1d


def test_sddp_reaches_the_tutorial_optimum(tutorial):
    sddp = SDDP(tutorial)
    result = sddp.train(20, seed=0)
    assert result.lower_bound == pytest.approx(8333.0 + 1 / 3, rel=1e-6)
    assert all(
        b <= a + 1e-6 for a, b in zip(result.lower_bounds[1:], result.lower_bounds)
    )  # never decreases
    # the simulated cost of the converged policy agrees with the bound
    costs = sddp.simulate(tutorial.uncertainty.sample(300, np.random.default_rng(1)))
    assert abs(costs.mean() - result.lower_bound) < 3 * costs.std() / np.sqrt(len(costs))


def test_sddp_lower_bound_converges_to_the_exact_case3_optimum(case3_short):
    exact = exact_value_1d(case3_short).value
    sddp = SDDP(case3_short)
    result = sddp.train(25, seed=0)
    assert result.lower_bound <= exact * (1 + 1e-9)
    assert result.lower_bound == pytest.approx(exact, rel=2e-3)
    resumed = sddp.train(5, seed=0)  # training again continues from the cuts it has
    assert resumed.iterations == 30 and resumed.lower_bound >= result.lower_bound - 1e-6
