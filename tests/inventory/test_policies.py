import pytest
import torch

from orlearn.errors import OrlearnError
from orlearn.inventory.hdpo import TrainConfig, evaluate, train
from orlearn.inventory.policies import POLICIES, build_policy, newsvendor_base_stock
from orlearn.inventory.rollout import rollout
from orlearn.inventory.settings import load_setting


def test_learned_base_stock_matches_the_critical_fractile():
    setting = load_setting("one_store_backlogged", {"store_params.lead_time.value": 2})
    policy = build_policy("base_stock", setting.observer())
    config = TrainConfig(epochs=8, learning_rate=5e-2, train_samples=512, batch_size=128, train_periods=30,
                         train_warmup=10, dev_samples=256, dev_periods=60, dev_warmup=20, lr_decay=0.85)
    train(setting, policy, config)
    level, cost = newsvendor_base_stock(5.0, 1.6, 2, 1.0, 9.0)
    assert float(policy.level.detach()) * 5.0 == pytest.approx(level, abs=0.35)  # S* = 15 + 1.2816 * 1.6 * sqrt(3)
    test = evaluate(setting, policy, n_samples=512, periods=300, warmup=50)
    assert test.cost == pytest.approx(cost, rel=0.02)


@pytest.mark.parametrize("name", sorted(POLICIES))
def test_every_policy_orders_nonnegative_quantities_and_has_gradients(name):
    setting = load_setting("one_warehouse_lost_demand", {"problem_params.n_stores": 3})
    policy = build_policy(name, setting.observer())
    scenarios = setting.scenarios("train", n_samples=4, periods=8, warmup=0)  # orders arrive after 2+ periods
    cost = rollout(setting.simulator(), setting.observer(), policy, scenarios).cost
    assert torch.isfinite(cost).all()
    cost.mean().backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.parameters())


def test_the_gnn_does_not_depend_on_the_number_of_stores():
    small = load_setting("transshipment_backlogged", {"problem_params.n_stores": 3})
    large = load_setting("transshipment_backlogged", {"problem_params.n_stores": 7})
    torch.manual_seed(0)
    gnn = build_policy("gnn", small.observer())
    other = build_policy("gnn", large.observer())
    other.load_state_dict(gnn.state_dict())  # the same weights fit any network of that kind
    scen = large.scenarios("dev", n_samples=2, periods=2, warmup=0)
    obs = large.observer()
    from orlearn.inventory.simulator import State

    requests = other(obs(State(scen.on_hand, scen.pipeline), scen.scale))
    assert requests.shape == (2, large.network.n_edges) and (requests >= 0).all()


def test_the_gnn_treats_identical_stores_alike():
    setting = load_setting("transshipment_backlogged", {"problem_params.n_stores": 2,
                                                        "store_params.demand.mean_range": [5.0, 5.0],
                                                        "store_params.demand.coef_of_var_range": [0.3, 0.3]})
    gnn = build_policy("gnn", setting.observer())
    scen = setting.scenarios("dev", n_samples=1, periods=2, warmup=0)
    from orlearn.inventory.simulator import State

    on_hand = scen.on_hand.clone()
    on_hand[:, 2] = on_hand[:, 1]
    pipeline = scen.pipeline.clone()
    pipeline[:, 2] = pipeline[:, 1]
    requests = gnn(setting.observer()(State(on_hand, pipeline), scen.scale))
    assert requests[0, 1].item() == pytest.approx(requests[0, 2].item(), rel=1e-5)


def test_unknown_policy():
    with pytest.raises(OrlearnError, match="unknown inventory policy"):
        build_policy("oracle", load_setting("one_store_lost").observer())


def test_a_gnn_with_a_constant_output_is_the_echelon_stock_policy():
    # Base-stock shaped output: with y = 0 every edge orders up to the default echelon level, the
    # optimal form on a serial system; the GNN starts near it instead of at arbitrary orders.
    setting = load_setting("serial_system")
    observer = setting.observer()
    gnn = build_policy("gnn", observer)
    with torch.no_grad():
        gnn.head[-1].weight.zero_()
    echelon = build_policy("echelon_stock", observer)
    scen = setting.scenarios("dev", n_samples=16, periods=2, warmup=0)
    from orlearn.inventory.simulator import State

    obs = observer(State(scen.on_hand * 3.0, scen.pipeline), scen.scale)  # some locations above their levels
    expected = echelon(obs)
    assert (expected == 0).any() and (expected > 0).any()
    assert torch.allclose(gnn(obs), expected, atol=1e-5)


def test_the_gnn_water_fills_a_transshipment_centre():
    # Out of a centre the GNN asks for exactly the centre's stock, split to one safety factor: with
    # a constant output, the stores' positions after the split differ by multiples of their spreads.
    setting = load_setting("transshipment_backlogged", {"problem_params.n_stores": 3})
    observer = setting.observer()
    gnn = build_policy("gnn", observer)
    with torch.no_grad():
        gnn.head[-1].weight.zero_()
    scen = setting.scenarios("dev", n_samples=8, periods=2, warmup=0)
    from orlearn.inventory.simulator import State

    on_hand = scen.on_hand.clone()
    on_hand[:, 0] = 40.0  # the centre holds 40 units
    obs = observer(State(on_hand, scen.pipeline), scen.scale)
    requests = gnn(obs)
    out = setting.network.edge_src == 0
    assert torch.allclose(requests[:, out].sum(1), torch.full((8,), 40.0), rtol=1e-4)
    stores = setting.network.edge_dst[out]
    after = (obs.position[:, stores] + requests[:, out]) / obs.scale[:, stores]
    z = (after - gnn._default[stores]) / gnn._spread[stores]
    filled = requests[:, out] > 1e-3
    for row in range(8):
        assert torch.allclose(z[row][filled[row]], z[row][filled[row]][0].expand(int(filled[row].sum())), atol=1e-3)
