import pytest
import torch

from orlearn.inventory.hdpo import TrainConfig, evaluate, train
from orlearn.inventory.policies import build_policy, newsvendor_base_stock
from orlearn.inventory.settings import load_setting


def test_a_short_hdpo_run_gets_within_a_few_percent_of_the_optimum():
    torch.set_num_threads(1)
    setting = load_setting("one_store_backlogged", {"store_params.lead_time.value": 1})
    policy = build_policy("vanilla", setting.observer(), hidden=32)
    config = TrainConfig(epochs=6, learning_rate=1e-2, train_samples=1024, batch_size=128, train_periods=30,
                         train_warmup=10, dev_samples=256, dev_periods=60, dev_warmup=20, lr_decay=0.8)
    result = train(setting, policy, config)
    assert result.history["dev cost"][-1] < result.history["dev cost"][0]
    _, optimum = newsvendor_base_stock(5.0, 1.6, 1, 1.0, 9.0)  # 3.97
    test = evaluate(setting, policy, n_samples=512, periods=300, warmup=50)
    assert optimum * 0.99 < test.cost < optimum * 1.05


def test_real_data_profit_is_a_share_of_the_oracle():
    setting = load_setting("favorita")
    policy = build_policy("base_stock", setting.observer())
    ev = evaluate(setting, policy)
    assert ev.scenarios == 288 and ev.periods == 37
    assert ev.oracle_profit > 0 and ev.profit < ev.oracle_profit
    assert ev.cost == pytest.approx(-ev.profit / 21, rel=1e-6)
