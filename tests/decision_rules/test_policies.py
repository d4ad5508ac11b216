import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.decision_rules.hydro import hydro_problem
from orlearn.decision_rules.policies import (
    ARCHITECTURES,
    build_rule,
    load_rule,
    rule_for_problem,
    save_rule,
)
from orlearn.errors import OrlearnError, PolicyFileError
from orlearn.policy_file import PolicyFile, save_policy


@pytest.fixture(scope="module")
def bolivia_short(bolivia):
    return hydro_problem(bolivia, 4)


@settings(max_examples=25, deadline=None)
@given(
    arch=st.sampled_from(["lstm", "gru", "mlp"]),
    scale=st.floats(0.0, 1e4),
    seed=st.integers(0, 10_000),
)
def test_nonlinear_rules_stay_inside_the_bounds(bolivia_short, arch, scale, seed):
    torch.manual_seed(seed)
    rule = rule_for_problem(arch, bolivia_short, hidden=8)
    w = torch.rand(3, 4, 11, dtype=torch.float32) * scale
    targets = rule(w)
    lower = torch.as_tensor(bolivia_short.lower, dtype=torch.float32)
    upper = torch.as_tensor(bolivia_short.upper, dtype=torch.float32)
    assert targets.shape == (3, 4, 11)
    assert torch.all(targets >= lower - 1e-5) and torch.all(targets <= upper + 1e-5)


def test_recurrent_rule_depends_on_the_history_only(bolivia_short):
    torch.manual_seed(0)
    rule = rule_for_problem("lstm", bolivia_short, hidden=8)
    w = torch.rand(1, 4, 11) * 5
    later = w.clone()
    later[0, 3] += 10.0  # changing stage 3's inflow must not change stages 0..2
    a, b = rule(w), rule(later)
    assert torch.equal(a[:, :3], b[:, :3]) and not torch.equal(a[:, 3], b[:, 3])


@pytest.mark.parametrize("arch", ARCHITECTURES)
def test_save_and_load_round_trip(tmp_path, bolivia_short, arch):
    torch.manual_seed(1)
    rule = rule_for_problem(arch, bolivia_short, hidden=8)
    with torch.no_grad():
        for p in rule.parameters():
            p.add_(0.1 * torch.randn_like(p))
    path = save_rule(tmp_path / "p.pt", rule, {"case": "bolivia", "penalty": 3.0})
    loaded, meta = load_rule(path)
    assert meta == {"case": "bolivia", "penalty": 3.0}
    w = torch.rand(2, 4, 11) * 5
    assert torch.allclose(rule(w), loaded(w))


def test_bad_policy_files_and_names(tmp_path, bolivia_short):
    save_policy(tmp_path / "other.pt", PolicyFile("branching", 1, {}, {}))
    with pytest.raises(PolicyFileError, match="expected 'ddr'"):
        load_rule(tmp_path / "other.pt")
    save_policy(tmp_path / "broken.pt", PolicyFile("ddr", 1, {"architecture": "lstm"}, {}))
    with pytest.raises(OrlearnError, match="valid decision rule"):
        load_rule(tmp_path / "broken.pt")
    with pytest.raises(OrlearnError, match="unknown policy architecture"):
        build_rule(
            "transformer",
            lower=np.zeros((2, 1)),
            upper=np.ones((2, 1)),
            w_mean=[0],
            w_std=[1],
            initial_state=[0],
        )
    rule = rule_for_problem("mlp", bolivia_short)
    with pytest.raises(OrlearnError, match="scenarios have shape"):
        rule(torch.zeros(1, 5, 11))
