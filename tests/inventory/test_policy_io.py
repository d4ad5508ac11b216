from pathlib import Path

import pytest

from orlearn.errors import PolicyFileError
from orlearn.inventory.hdpo import evaluate
from orlearn.inventory.policies import build_policy
from orlearn.inventory.policy_io import load_inventory_policy, save_inventory_policy
from orlearn.inventory.settings import load_setting

SHIPPED = Path(__file__).resolve().parents[2] / "policies" / "inventory"


def test_a_shipped_policy_loads_and_is_near_the_optimum():
    policy, setting, file = load_inventory_policy(SHIPPED / "one_store_lost_L3_vanilla.pt")
    assert setting.network.lead_time.tolist() == [3] and file.kind == "inventory/vanilla"
    test = evaluate(setting, policy, n_samples=512, periods=300, warmup=100)
    assert test.cost == pytest.approx(6.53, rel=0.02)  # published optimum, L = 3, p = 9


def test_round_trip_and_mismatch(tmp_path):
    setting = load_setting("transshipment_backlogged", {"problem_params.n_stores": 3})
    policy = build_policy("symmetric", setting.observer(), hidden=16)
    path = save_inventory_policy(tmp_path / "s.pt", policy, "symmetric", setting, {"hidden": 16})
    again, again_setting, _ = load_inventory_policy(path)
    assert again_setting.network.n_stores == 3
    assert all((a == b).all() for a, b in zip(policy.state_dict().values(), again.state_dict().values()))
    wrong = save_inventory_policy(tmp_path / "w.pt", policy, "symmetric", load_setting("transshipment_backlogged"),
                                  {"hidden": 16})
    with pytest.raises(PolicyFileError, match="does not fit"):
        load_inventory_policy(wrong)
