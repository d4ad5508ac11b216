import numpy as np
import pyomo.environ as pyo
import pytest

from orlearn.decision_rules import (
    DeterministicEquivalent,
    MultistageProblem,
    StageModel,
    StageSpec,
    StagewiseDiscrete,
)
from orlearn.decision_rules.hydro import hydro_problem
from orlearn.errors import OrlearnError


def _one_sided(f, x, eps):
    """Backward and forward differences of f at x along each coordinate."""
    base = f(x)
    back, fwd = np.empty(x.size), np.empty(x.size)
    for k in range(x.size):
        e = np.zeros(x.size)
        e[k] = eps
        back[k] = (base - f((x.ravel() - e).reshape(x.shape))) / eps
        fwd[k] = (f((x.ravel() + e).reshape(x.shape)) - base) / eps
    return back, fwd


@pytest.mark.parametrize("which, stages", [("case3", 12), ("bolivia", 3)])
def test_target_duals_match_finite_differences(request, which, stages):
    case = request.getfixturevalue(which)
    problem = hydro_problem(case, stages)
    de = DeterministicEquivalent(problem)
    rng = np.random.default_rng(3)
    w = problem.uncertainty.sample(1, rng)[0]
    span = problem.upper - problem.lower
    targets = problem.lower + span * rng.uniform(0.1, 0.9, size=span.shape)
    penalty = 0.3 * case.water_value_bound()  # some targets bind, some are abandoned
    sol = de.solve(w, targets, penalty)
    assert sol.penalty_cost > 0
    back, fwd = _one_sided(
        lambda x: de.solve(w, x, penalty).total_cost, targets, 1e-6 * max(1.0, span.max())
    )
    lam = sol.target_duals.ravel()
    tol = 1e-3 * (1 + np.abs(lam))
    # a subgradient lies between the one-sided derivatives (equal to both away from kinks)
    assert np.all(lam >= np.minimum(back, fwd) - tol) and np.all(lam <= np.maximum(back, fwd) + tol)
    assert np.abs(lam).max() > 0


def test_incoming_state_duals_are_cut_slopes(case3):
    problem = hydro_problem(case3, 2)
    stage = StageModel(problem, 1)
    w = problem.uncertainty.values[1][0]
    for x in (0.05, 0.2, 0.4):
        sol = stage.solve(np.array([x]), w)
        eps = 1e-7
        fd = (
            stage.solve(np.array([x + eps]), w).objective
            - stage.solve(np.array([x - eps]), w).objective
        ) / (2 * eps)
        assert sol.incoming_duals[0] == pytest.approx(fd, rel=1e-4, abs=1e-3)


def test_wait_and_see_is_below_any_target_solution(case3):
    problem = hydro_problem(case3, 12)
    de = DeterministicEquivalent(problem)
    w = problem.uncertainty.sample(1, np.random.default_rng(0))[0]
    free = de.solve(w)
    assert free.penalty_cost == 0 and np.all(free.target_duals == 0)
    strict = de.solve(w, np.full((12, 1), 0.27), 10 * case3.water_value_bound())
    assert free.operating_cost <= strict.operating_cost + 1e-6
    assert strict.stage_costs.sum() == pytest.approx(strict.operating_cost)


def test_tutorial_perfect_foresight_bound(tutorial):
    problem = tutorial
    de = DeterministicEquivalent(problem)
    # the expected wait-and-see cost over the 27 equally likely scenarios bounds 8333.33 below
    vals = [
        de.solve(np.array([[a], [b], [c]])).operating_cost
        for a in (0, 50, 100)
        for b in (0, 50, 100)
        for c in (0, 50, 100)
    ]
    assert np.mean(vals) <= 8333.34
    # dry year: the 200 units of water go to the dearest stages (150 in stage 3, 50 in stage 2)
    assert de.solve(np.zeros((3, 1))).operating_cost == pytest.approx(150 * 50 + 100 * 100)


def test_bad_models_are_refused_clearly(tutorial):
    def no_bounds(b, t):
        b.x_in, b.x = pyo.Var(), pyo.Var()
        b.w = pyo.Param(mutable=True, initialize=0.0)
        return StageSpec([b.x_in], [b.x], [b.w], b.x)

    unc = StagewiseDiscrete([np.array([[1.0]])], [np.array([1.0])])
    with pytest.raises(OrlearnError, match="finite bounds"):
        MultistageProblem(no_bounds, [0.0], unc)

    def immutable(b, t):
        b.x_in, b.x = pyo.Var(), pyo.Var(bounds=(0, 1))
        b.w = pyo.Param(initialize=0.0)
        return StageSpec([b.x_in], [b.x], [b.w], b.x)

    with pytest.raises(OrlearnError, match="mutable"):
        MultistageProblem(immutable, [0.0], unc)
    with pytest.raises(OrlearnError, match="summing to 1"):
        StagewiseDiscrete([np.array([[1.0], [2.0]])], [np.array([0.5, 0.6])])

    de = DeterministicEquivalent(tutorial)
    w = np.zeros((3, 1))
    with pytest.raises(OrlearnError, match="NaN"):
        de.solve(w, np.full((3, 1), np.nan), 1.0)
    with pytest.raises(OrlearnError, match="shape"):
        de.solve(np.zeros((2, 1)))
