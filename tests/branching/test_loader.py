"""The one policy loader: specs, round trips, and bad files refused in one line."""

import numpy as np
import pytest
import torch

from orlearn.branching.loader import is_policy_spec, load_branching_policy
from orlearn.branching.observation import FEATURE_VERSION
from orlearn.errors import PolicyFileError
from orlearn.policy_file import PolicyFile, load_policy, save_policy


def test_learned_rule_names():
    assert is_policy_spec("gnn") and is_policy_spec("gnn:setcover")
    assert is_policy_spec("policies/branching/x.pt") and is_policy_spec("il.pkl")
    assert is_policy_spec("hybrid") and is_policy_spec("hybrid:gnn:depth=2")
    assert not is_policy_spec("relpscost")


def test_policy_round_trip(random_policy, tmp_path):
    policy = load_branching_policy(random_policy)
    pf = load_policy(random_policy)
    copy = tmp_path / "copy.pt"
    save_policy(copy, pf)
    again = load_branching_policy(copy)
    gen = torch.Generator().manual_seed(0)
    from orlearn.branching.model import BipartiteData

    data = BipartiteData(
        x_c=torch.randn(5, 9, generator=gen), x_v=torch.randn(7, 20, generator=gen),
        edge_index=torch.tensor([[0, 1, 2, 3, 4, 4], [0, 1, 2, 3, 5, 6]]),
        edge_attr=torch.rand(6, 1, generator=gen),
    )  # fmt: skip
    with torch.no_grad():
        np.testing.assert_array_equal(policy.model(data).numpy(), again.model(data).numpy())


def test_bad_policy_files_are_refused_clearly(random_policy, tmp_path):
    pf = load_policy(random_policy)
    other = tmp_path / "v_other.pt"
    save_policy(other, PolicyFile(**{**pf.__dict__, "feature_version": FEATURE_VERSION + 1}))
    with pytest.raises(PolicyFileError, match="feature version"):
        load_branching_policy(other)
    wrong_kind = tmp_path / "kind.pt"
    save_policy(wrong_kind, PolicyFile(**{**pf.__dict__, "kind": "construct/tsp"}))
    with pytest.raises(PolicyFileError, match="construct/tsp"):
        load_branching_policy(wrong_kind)
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"not a torch file")
    with pytest.raises(PolicyFileError, match="not a readable"):
        load_branching_policy(corrupt)
    with pytest.raises(PolicyFileError, match="not found"):
        load_branching_policy(tmp_path / "missing.pt")
    with pytest.raises(PolicyFileError, match="no shipped branching policy"):
        load_branching_policy("gnn:no-such-policy")
