"""A short imitation run beats a random policy; training resumes from its checkpoint."""

from __future__ import annotations

import json

import pytest
import torch

from orlearn.construct.labels import label_instances
from orlearn.construct.model import load_model
from orlearn.construct.problems import get_problem
from orlearn.construct.train import TrainConfig, train, validation_gap
from orlearn.policy_file import model_card_path

TINY = {"d_model": 32, "n_layers": 2, "n_heads": 4, "d_ff": 64}


def test_short_training_beats_a_random_policy(tmp_path):
    torch.set_num_threads(1)
    cfg = TrainConfig(problem="tsp", out=str(tmp_path / "tsp.pt"), n=10, train_instances=24,
                      val_instances=8, label_time=0.02, batch_size=32, lr=2e-3, epochs=2,
                      steps_per_epoch=40, cache_dir=str(tmp_path / "labels"),
                      run_dir=str(tmp_path / "run"), **TINY)
    path = train(cfg, show_progress=False)
    p = get_problem("tsp")
    trained, meta = load_model(str(path), p)
    assert meta["epochs"] >= 1 and "validation_gap_percent" in meta
    card = json.loads(model_card_path(path).read_text())
    assert card["kind"] == "construct/tsp" and card["metadata"]["training_data"]
    torch.manual_seed(0)
    untrained, _ = load_model(str(path), p)
    for param in untrained.parameters():
        torch.nn.init.normal_(param, std=0.2)
    val = p.generate(10, 8, 2)  # the validation seed of TrainConfig(seed=0)
    ref = [p.objective(i, p.expert(i, 0.02, 0)) for i in val]
    assert validation_gap(p, trained, val, ref) < validation_gap(p, untrained, val, ref)

    # Resuming with more epochs continues from the checkpoint instead of starting over.
    cfg.epochs = 3
    train(cfg, show_progress=False)
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["train loss"]) == 3

    # A phase with another validation set measures the policy already written on it first, so
    # the file always holds the policy with the best gap on the current validation set.
    cfg.epochs, cfg.val_instances = 4, 4
    train(cfg, show_progress=False)
    best = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["best"]
    shipped, _ = load_model(str(path), p)
    val4 = p.generate(10, 4, 2)
    labels = label_instances("tsp", val4, time_limit=0.02, cache_dir=cfg.cache_dir,
                             show_progress=False)  # the labels training used (cached)
    ref4 = [p.objective(i, s) for i, s in zip(val4, labels)]
    assert abs(validation_gap(p, shipped, val4, ref4) - best) < 1e-9


def test_kp_multilabel_training_runs(tmp_path):
    torch.set_num_threads(1)
    cfg = TrainConfig(problem="kp", out=str(tmp_path / "kp.pt"), n=60, train_instances=16,
                      val_instances=4, label_time=0, batch_size=16, epochs=1, steps_per_epoch=5,
                      cache_dir=str(tmp_path / "labels"), run_dir=str(tmp_path / "run"), **TINY)
    path = train(cfg, show_progress=False)
    model, meta = load_model(str(path), get_problem("kp"))
    assert meta["validation_gap_percent"] < 50


def test_knn_batches_keep_the_expert_step():
    """Training on k-NN sub-problems: k + 2 tokens, and the target is still the expert's step
    (node and, for CVRP, direct or via the depot)."""
    import numpy as np

    from orlearn.construct.train import _batch

    for name, k in (("tsp", 4), ("cvrp", 5)):
        p = get_problem(name)
        insts = p.generate(12, 6, 3)
        sols = [p.expert(i, 0.02, 0) for i in insts]
        trajs = [p.trajectory(i, s) for i, s in zip(insts, sols)]
        lengths = np.array([len(t) for t in trajs])
        rng = np.random.default_rng(0)
        for _ in range(6):
            state = rng.bit_generator.state
            full, full_target = _batch(p, (insts, sols, trajs), lengths, rng, 8, True)
            rng.bit_generator.state = state  # the same samples, cut to the k nearest
            sub, target = _batch(p, (insts, sols, trajs), lengths, rng, 8, True, knn=k)
            assert sub.size == min(full.size, k + 2)
            assert len(target) <= len(full_target)
            a = p.actions_per_token
            if len(target) == len(full_target):  # no sample dropped: compare them one by one
                full_ids = full.ids.gather(1, (full_target // a)[:, None])
                assert torch.equal(sub.ids.gather(1, (target // a)[:, None]), full_ids)
                assert torch.equal(target % a, full_target % a)
            assert bool(p.mask(sub).reshape(len(target), -1)[torch.arange(len(target)), target].all())


def test_fine_tuning_from_a_bqnco_checkpoint_keeps_its_origin_and_licence(tmp_path):
    """--init: the starting policy is scored and written first; the model card names the
    authors' checkpoint and its licence; sizes that contradict the init policy are refused."""
    from orlearn.construct import bqnco
    from orlearn.construct.perceiver import PerceiverPolicy
    from orlearn.errors import OrlearnError

    torch.set_num_threads(1)
    sizes = {"d_model": 16, "n_layers": 1, "n_heads": 2, "d_ff": 24, "latent_len": 4, "latent_dim": 8}
    torch.manual_seed(0)
    init = tmp_path / "tsp_tiny.best"
    torch.save(bqnco.to_checkpoint(PerceiverPolicy("tsp", **sizes)), init)
    cfg = TrainConfig(problem="tsp", out=str(tmp_path / "ft.pt"), n=8, train_instances=6,
                      val_instances=2, label_time=0.02, batch_size=8, epochs=1, steps_per_epoch=2,
                      init=str(init), distribution="clustered", cache_dir=str(tmp_path / "labels"),
                      run_dir=str(tmp_path / "run"))
    path = train(cfg, show_progress=False)
    model, meta = load_model(str(path), get_problem("tsp"))
    assert model.hyperparameters == {"arch": "perceiver", **sizes}
    card = json.loads(model_card_path(path).read_text())["metadata"]
    assert card["licence"] == "CC BY-NC-SA 4.0" and "naver/bq-nco" in card["origin"]
    assert card["init"]["file"] == "tsp_tiny.best" and "clustered" in card["training_data"]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["validation gap %"]) == 1
    with pytest.raises(OrlearnError, match="d_model 16, not 32"):
        train(TrainConfig(problem="tsp", out=str(tmp_path / "x.pt"), init=str(init), d_model=32),
              show_progress=False)
