import json

import pytest
import torch

from orlearn.errors import PolicyFileError
from orlearn.policy_file import PolicyFile, load_policy, model_card_path, save_policy


def _policy() -> PolicyFile:
    net = torch.nn.Linear(3, 2)
    return PolicyFile(
        kind="test",
        feature_version=2,
        hyperparameters={"in": 3, "out": 2},
        state_dict=net.state_dict(),
        metadata={"epochs": 4, "valid_accuracy": 0.5},
        extra={"mean": torch.ones(3)},
    )


def test_round_trip_keeps_weights_and_writes_model_card(tmp_path):
    original = _policy()
    path = save_policy(tmp_path / "p.pt", original)
    loaded = load_policy(path, kind="test", feature_version=2)
    assert loaded.hyperparameters == {"in": 3, "out": 2}
    assert torch.equal(loaded.state_dict["weight"], original.state_dict["weight"])
    assert torch.equal(loaded.extra["mean"], torch.ones(3))
    card = json.loads(model_card_path(path).read_text())
    assert card["kind"] == "test" and card["parameters"] == 3 * 2 + 2
    assert card["metadata"]["epochs"] == 4


@pytest.mark.parametrize(
    "kwargs, message",
    [({"kind": "other"}, "expected 'other'"), ({"feature_version": 3}, "feature version 2")],
)
def test_mismatch_is_refused_clearly(tmp_path, kwargs, message):
    path = save_policy(tmp_path / "p.pt", _policy())
    with pytest.raises(PolicyFileError, match=message):
        load_policy(path, **kwargs)


def test_missing_and_corrupted_files(tmp_path):
    with pytest.raises(PolicyFileError, match="not found"):
        load_policy(tmp_path / "absent.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(PolicyFileError, match="not a readable"):
        load_policy(bad)
