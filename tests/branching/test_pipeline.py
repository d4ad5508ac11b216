"""collect -> train -> solve, end to end on tiny instances, through the CLI."""

import json

import pytest

from orlearn.branching.dataset import find_shards, load_shard
from orlearn.branching.plugin import solve
from orlearn.cli import main


@pytest.fixture(scope="module")
def trained(tiny, tiny_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline")
    params = [f"--param={k}={v}" for k, v in tiny.hard_params().items()]
    collect = ["branching", "collect", str(tiny_dir), "-o", str(out / "data"), "-p", "1", "--node-limit", "40"]
    assert main(collect + params) == 0
    policy = out / "policy.pt"
    assert main(["branching", "train", str(out / "data"), "-o", str(policy), "--epochs", "8",
                 "--valid-fraction", "0.25", "--seed", "3"]) == 0  # fmt: skip
    return out, policy, collect + params


def test_collect_writes_one_shard_per_instance_and_resumes(trained, tiny_dir, capsys):
    out, _, collect = trained
    shards = find_shards([out / "data"])
    assert len(shards) == len(list(tiny_dir.glob("*.mps")))
    payload = load_shard(shards[0])
    sample = payload["samples"][0]
    assert sample["scores"].shape == sample["candidates"].shape
    assert int(sample["scores"].argmax()) == sample["choice"]
    assert payload["episode"]["expert_prob"] == 1.0
    capsys.readouterr()
    assert main(collect) == 0  # a rerun finds every shard done
    assert "0 episodes run" in capsys.readouterr().out


def test_trained_policy_beats_random_and_solves(trained, tiny):
    _, policy, _ = trained
    card = json.loads(policy.with_suffix(".json").read_text())
    md = card["metadata"]
    assert card["kind"] == "branching" and md["n_train_samples"] > 30
    assert md["valid"]["top1"] > md["random_valid_top1"]
    assert md["valid"]["top5"] > md["random_valid_top5"]
    assert policy.with_name("policy.curves.png").is_file()

    learned = solve(tiny.configure(tiny.setcover(21)), branching=str(policy))
    default = solve(tiny.configure(tiny.setcover(21)), branching="relpscost")
    assert learned.status == default.status == "optimal"
    assert learned.primal_bound == pytest.approx(default.primal_bound)
    stats = learned.branching_stats
    assert stats["learned_calls"] > 0 and stats["fallbacks"] == 0


def test_training_resumes_after_a_kill_to_the_same_weights(trained, tmp_path, monkeypatch):
    import torch

    import orlearn.branching.train as train_module
    from orlearn.branching.train import TrainConfig, train_policy

    data = [trained[0] / "data"]
    config = TrainConfig(epochs=3, valid_fraction=0.25, seed=1)
    straight = train_policy(data, tmp_path / "a.pt", config)

    real = train_module._evaluate
    calls = []

    def killed_in_epoch_two(model, loader):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(model, loader)

    monkeypatch.setattr(train_module, "_evaluate", killed_in_epoch_two)
    with pytest.raises(KeyboardInterrupt):
        train_policy(data, tmp_path / "b.pt", config)
    assert (tmp_path / "b.pt.ckpt").is_file()
    monkeypatch.setattr(train_module, "_evaluate", real)
    resumed = train_policy(data, tmp_path / "b.pt", config)
    assert resumed.history == straight.history
    a = torch.load(tmp_path / "a.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "b.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not (tmp_path / "b.pt.ckpt").exists()
