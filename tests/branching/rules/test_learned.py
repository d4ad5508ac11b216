"""The imitation rule: branching everywhere, fallbacks that never crash a solve."""

import pyscipopt
import pytest
import torch

from orlearn.branching.loader import load_branching_policy
from orlearn.branching.plugin import attach_branching


def _solve_with(tiny, policy, seed=2):
    model = tiny.configure(tiny.setcover(seed))
    rule = attach_branching(model, policy)
    model.optimize()
    reference = tiny.configure(tiny.setcover(seed))
    reference.optimize()
    assert model.getStatus() == "optimal"
    assert model.getObjVal() == pytest.approx(reference.getObjVal())
    return rule.stats()


def test_random_policy_branches_everywhere(tiny, random_policy):
    stats = _solve_with(tiny, random_policy)
    assert stats["learned_calls"] == stats["calls"] > 0
    assert stats["fallbacks"] == 0 and stats["inference_ms"] > 0


class _Broken(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, data, variables=None):
        if self.kind == "nan":
            return torch.full((data.x_v.shape[0] if variables is None else len(variables),),
                              float("nan"))
        raise RuntimeError("boom")


@pytest.mark.parametrize("kind,reason", [("nan", "nan_scores"), ("raise", "exception")])
def test_failures_fall_back_to_scip_and_are_counted(tiny, random_policy, kind, reason):
    policy = load_branching_policy(random_policy)
    broken = type(policy)(model=_Broken(kind), path=policy.path)
    stats = _solve_with(tiny, broken)
    assert stats["learned_calls"] == 0
    assert stats["fallbacks"] == stats["calls"] > 0
    assert stats["fallback_reasons"] == {reason: stats["calls"]}


def test_candidate_missing_from_graph_falls_back(tiny, random_policy):
    model = tiny.configure(tiny.setcover(2))
    rule = attach_branching(model, random_policy)
    build = rule.builder.extract

    def shifted(m):
        obs = build(m)
        obs.candidates = obs.candidates + obs.n_vars  # no such column
        return obs

    rule.builder.extract = shifted
    model.optimize()
    assert model.getStatus() == "optimal"
    assert rule.stats()["fallback_reasons"] == {"candidate_missing": rule.stats()["calls"]}


def test_model_without_integer_variables_never_calls_the_rule(random_policy):
    model = pyscipopt.Model()
    model.hideOutput()
    x, y = model.addVar(lb=0), model.addVar(lb=0)
    model.addCons(x + 2 * y >= 3)
    model.setObjective(x + y)
    rule = attach_branching(model, random_policy)
    model.optimize()
    assert model.getStatus() == "optimal" and model.getObjVal() == pytest.approx(1.5)
    assert rule.stats()["calls"] == 0
