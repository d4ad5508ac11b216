import numpy as np
import pytest
import torch

from orlearn.decision_rules import SDDP, rule_for_problem
from orlearn.decision_rules import evaluate as ev
from orlearn.decision_rules.hydro import hydro_problem
from orlearn.errors import OrlearnError


@pytest.fixture(scope="module")
def setup(case3):
    problem = hydro_problem(case3, 6)
    scenarios = problem.uncertainty.sample(12, np.random.default_rng(7))
    return problem, scenarios, 2 * case3.water_value_bound()


def test_perfect_foresight_bounds_every_policy_scenario_by_scenario(setup):
    problem, scenarios, penalty = setup
    torch.manual_seed(0)
    rule = rule_for_problem("gru", problem, hidden=8)
    ws = ev.wait_and_see_costs(problem, scenarios)
    sddp = SDDP(problem)
    sddp.train(10)
    for other in (
        ev.myopic_costs(problem, scenarios),
        ev.rollout_costs(problem, rule, scenarios, penalty),
        ev.deterministic_equivalent_costs(problem, rule, scenarios, penalty),
        ev.Evaluation(sddp.simulate(scenarios), 0.0),
    ):
        assert other.failures == 0
        assert np.all(ws.costs <= other.costs + 1e-6)
    assert ws.stderr > 0 and ws.seconds_per_scenario > 0


def test_feasible_targets_make_rollout_and_one_lp_agree(setup):
    """With strict targets that are always reachable, both evaluations take the same decisions."""
    problem, scenarios, penalty = setup
    rule = rule_for_problem("linear", problem)
    with torch.no_grad():
        rule.bias.fill_(0.0)  # target: empty reservoir, reachable by turbining and spilling
    a = ev.rollout_costs(problem, rule, scenarios, penalty)
    b = ev.deterministic_equivalent_costs(problem, rule, scenarios, penalty)
    assert np.allclose(a.costs, b.costs, rtol=1e-7)


def test_mismatched_policy_is_refused(setup, case3):
    problem, scenarios, penalty = setup
    rule = rule_for_problem("mlp", hydro_problem(case3, 4))
    with pytest.raises(OrlearnError, match="the policy is for 4 stages"):
        ev.rollout_costs(problem, rule, scenarios, penalty)
    with pytest.raises(OrlearnError, match="scenarios have shape"):
        ev.myopic_costs(problem, scenarios[:, :3])
