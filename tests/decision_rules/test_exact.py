import pytest

from orlearn.decision_rules.exact import exact_value_1d, scenario_tree_value
from orlearn.decision_rules.hydro import hydro_problem
from orlearn.errors import OrlearnError


def test_tutorial_optimum(tutorial):
    assert scenario_tree_value(tutorial) == pytest.approx(8333.0 + 1 / 3, rel=1e-9)
    assert exact_value_1d(tutorial).value == pytest.approx(8333.0 + 1 / 3, rel=1e-9)


def test_exact_recursion_equals_the_scenario_tree_on_case3(case3_short):
    tree = scenario_tree_value(case3_short)  # 3 + 9 + 27 + 81 nodes
    result = exact_value_1d(case3_short)
    assert result.value == pytest.approx(tree, rel=1e-8)
    assert max(result.pieces) > 2  # the cost-to-go really is piecewise


def test_limits_are_explained(case3, bolivia):
    with pytest.raises(OrlearnError, match="max_nodes"):
        scenario_tree_value(hydro_problem(case3, 12), max_nodes=1000)
    with pytest.raises(OrlearnError, match="one state variable"):
        exact_value_1d(hydro_problem(bolivia, 2))
