"""A short imitation run beats a random policy; training resumes from its checkpoint."""

from __future__ import annotations

import json

import torch

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


def test_kp_multilabel_training_runs(tmp_path):
    torch.set_num_threads(1)
    cfg = TrainConfig(problem="kp", out=str(tmp_path / "kp.pt"), n=60, train_instances=16,
                      val_instances=4, label_time=0, batch_size=16, epochs=1, steps_per_epoch=5,
                      cache_dir=str(tmp_path / "labels"), run_dir=str(tmp_path / "run"), **TINY)
    path = train(cfg, show_progress=False)
    model, meta = load_model(str(path), get_problem("kp"))
    assert meta["validation_gap_percent"] < 50
