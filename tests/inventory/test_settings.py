import pytest
import torch

from orlearn.errors import OrlearnError
from orlearn.inventory.demand import NormalDemand, PoissonDemand, RealDemand
from orlearn.inventory.settings import SETTINGS, load_setting, parse_override


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_published_setting_loads(name):
    setting = load_setting(name)
    net = setting.network
    assert net.n_stores >= 1 and (net.holding >= 0).all() and (net.lead_time >= 1).all()
    scen = setting.scenarios("dev", n_samples=3, periods=5, warmup=1) if name != "favorita" else setting.scenarios("dev")
    assert scen.demand.shape[:2] == (scen.n, net.n_stores) and torch.isfinite(scen.demand).all()
    assert (scen.scale > 0).all()


def test_structures_follow_the_files():
    serial = load_setting("serial_system").network
    assert serial.names == ("echelon_0", "echelon_1", "warehouse_0", "store_0")
    assert serial.edge_src.tolist() == [-1, 0, 1, 2] and serial.lead_time.tolist() == [2, 4, 3, 4]
    assert serial.holding.tolist() == pytest.approx([0.1, 0.2, 0.5, 1.0]) and not serial.lost_sales
    lost = load_setting("one_store_lost", {"store_params.lead_time.value": 2})
    assert lost.network.lead_time.tolist() == [2] and lost.network.lost_sales
    assert isinstance(lost.demand, PoissonDemand) and float(lost.demand.mean[0]) == 5.0
    trans = load_setting("transshipment_backlogged", {"problem_params.n_stores": 3})
    assert trans.network.transship.tolist() == [True, False, False, False]
    assert isinstance(trans.demand, NormalDemand) and trans.demand.correlation == 0.5
    fav = load_setting("favorita")
    assert isinstance(fav.demand, RealDemand) and fav.network.n_stores == 21 and fav.network.maximize_profit
    assert fav.datasets["test"].periods == 37 and fav.datasets["test"].n_samples == 288


def test_correlated_normal_demand_has_the_asked_correlation():
    demand = NormalDemand(torch.tensor([50.0, 50.0]), torch.tensor([5.0, 5.0]), correlation=0.5, clip=False)
    d = demand.sample(1, 20000, torch.Generator().manual_seed(0))[0]
    assert torch.corrcoef(d)[0, 1].item() == pytest.approx(0.5, abs=0.03)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"store_params.holding_cost.value": -1}, "holding"),
        ({"store_params.underage_cost.value": -2}, "underage"),
        ({"store_params.lead_time.value": 0}, "lead time"),
        ({"warehouse_params.lead_time": -3}, "lead time"),
        ({"echelon_params.holding_cost": [0.1]}, "echelon_params.holding_cost"),
        ({"store_params.demand.mean": float("nan")}, "mean"),
        ({"problem_params.n_stores": 0}, "stores"),
    ],
)
def test_bad_settings_are_refused(overrides, match):
    name = "serial_system" if "warehouse" in str(overrides) or "echelon" in str(overrides) else "one_store_backlogged"
    with pytest.raises(OrlearnError, match=match):
        load_setting(name, overrides)


def test_bad_names_and_overrides():
    with pytest.raises(OrlearnError, match="unknown inventory setting"):
        load_setting("no_such_setting")
    with pytest.raises(OrlearnError, match="KEY=VALUE"):
        parse_override("lead_time")
    assert parse_override("store_params.lead_time.value=3") == ("store_params.lead_time.value", 3)
    with pytest.raises(OrlearnError, match="3 values for 2 locations"):
        load_setting("favorita", {"problem_params.n_warehouses": 2})
    with pytest.raises(OrlearnError, match="real sales cover 21 stores"):
        load_setting("favorita", {"problem_params.n_stores": 20})
