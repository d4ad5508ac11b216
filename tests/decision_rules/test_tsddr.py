import numpy as np
import pytest
import torch

from orlearn.decision_rules import (
    DeterministicEquivalent,
    TrainConfig,
    rule_for_problem,
    train_tsddr,
)
from orlearn.decision_rules.hydro import hydro_problem
from orlearn.decision_rules.solver import SolveError
from orlearn.decision_rules.tsddr import BatchSolve, penalty_at, target_cost
from orlearn.errors import OrlearnError


@pytest.fixture(scope="module")
def case3_6(case3):
    return hydro_problem(case3, 6)


def test_gradient_through_a_policy_matches_finite_differences(case3_6, case3):
    """d E[Q]/d theta from the duals equals a finite difference of the costs in theta."""
    torch.manual_seed(0)
    rule = rule_for_problem("linear", case3_6).double()
    de = DeterministicEquivalent(case3_6)
    w = case3_6.uncertainty.sample(3, np.random.default_rng(0))
    penalty = case3.water_value_bound() * 0.5
    with torch.no_grad():
        rule.weight.add_(0.3 * torch.randn_like(rule.weight))

    def loss() -> torch.Tensor:
        return target_cost(rule(torch.as_tensor(w)), w, de, penalty).mean()

    rule.zero_grad()
    loss().backward()
    grad = rule.bias.grad.clone()
    eps = 1e-7
    for t in range(6):
        with torch.no_grad():
            rule.bias[t, 0] += eps
            up = float(loss())
            rule.bias[t, 0] -= 2 * eps
            down = float(loss())
            rule.bias[t, 0] += eps
        assert grad[t, 0].item() == pytest.approx((up - down) / (2 * eps), rel=1e-4, abs=1e-2)
    assert grad.abs().max() > 0


def test_failed_solves_are_counted_and_get_no_gradient(case3_6, monkeypatch):
    de = DeterministicEquivalent(case3_6)
    w = case3_6.uncertainty.sample(2, np.random.default_rng(0))
    real = de.solve
    calls = []

    def flaky(unc, targets, penalty):
        calls.append(1)
        if len(calls) == 1:
            raise SolveError("HiGHS ended with infeasible")
        return real(unc, targets, penalty)

    monkeypatch.setattr(de, "solve", flaky)
    targets = torch.full((2, 6, 1), 0.27, requires_grad=True)
    record = BatchSolve(np.zeros(0), np.zeros(0))
    costs = target_cost(targets, w, de, 1e4, record)
    costs.sum().backward()
    assert (
        record.failures == 1 and np.isnan(record.operating[0]) and np.isfinite(record.operating[1])
    )
    assert torch.all(targets.grad[0] == 0) and torch.any(targets.grad[1] != 0)


def test_nan_targets_are_refused(case3_6):
    rule = rule_for_problem("linear", case3_6)
    with torch.no_grad():
        rule.bias.fill_(float("nan"))
    de = DeterministicEquivalent(case3_6)
    w = case3_6.uncertainty.sample(1, np.random.default_rng(0))
    with pytest.raises(OrlearnError, match="NaN"):
        target_cost(rule(torch.as_tensor(w, dtype=torch.float32)), w, de, 1.0)


def test_penalty_anneals_geometrically():
    cfg = TrainConfig(iterations=100, penalty_end=1000.0, penalty_start=10.0, anneal_fraction=0.5)
    assert penalty_at(cfg, 0) == pytest.approx(10.0)
    assert penalty_at(cfg, 25) == pytest.approx(100.0)
    assert penalty_at(cfg, 50) == penalty_at(cfg, 99) == pytest.approx(1000.0)


def test_short_training_lowers_the_cost(case3_6, case3):
    torch.manual_seed(0)
    rule = rule_for_problem("lstm", case3_6, hidden=16)
    cfg = TrainConfig(
        iterations=40,
        batch_size=4,
        learning_rate=0.03,
        penalty_end=2 * case3.water_value_bound(),
        validation_scenarios=16,
        validate_every=5,
        seed=0,
    )
    result = train_tsddr(case3_6, rule, cfg)
    val = result.curves["validation cost"]
    assert len(val) == 8 and result.failures == 0
    assert result.best_validation < 0.9 * val[0]


def test_training_resumes_from_its_checkpoint(case3_6, case3, tmp_path):
    cfg = TrainConfig(
        iterations=8,
        batch_size=2,
        penalty_end=case3.water_value_bound(),
        validation_scenarios=4,
        validate_every=4,
    )
    torch.manual_seed(0)
    straight = rule_for_problem("mlp", case3_6, hidden=8)
    train_tsddr(case3_6, straight, cfg)

    torch.manual_seed(0)
    rule = rule_for_problem("mlp", case3_6, hidden=8)
    calls = []

    def stop_after_six(**_):
        calls.append(1)
        if len(calls) == 6:
            raise KeyboardInterrupt

    ckpt = tmp_path / "run.ckpt"
    with pytest.raises(KeyboardInterrupt):
        train_tsddr(case3_6, rule, cfg, checkpoint=ckpt, progress=stop_after_six)
    torch.manual_seed(123)  # the resumed run must not depend on a fresh initialisation
    resumed = rule_for_problem("mlp", case3_6, hidden=8)
    result = train_tsddr(case3_6, resumed, cfg, checkpoint=ckpt)
    assert result.iterations == 8
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a, b)
    other = TrainConfig(iterations=9, batch_size=2, penalty_end=case3.water_value_bound())
    with pytest.raises(OrlearnError, match="other settings"):
        train_tsddr(case3_6, resumed, other, checkpoint=ckpt)
