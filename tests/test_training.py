"""The shared trainer: a resumed run ends where an uninterrupted one does, a checkpoint made with
other settings (or in another layout) is refused, early stopping stops, curves are drawn."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
import torch

from orlearn.errors import OrlearnError
from orlearn.training import (
    GeneratorState,
    NumpyRNG,
    TorchRNG,
    TrainConfigBase,
    Trainer,
    checkpoint_matches,
    read_checkpoint,
)


@dataclass
class Config(TrainConfigBase):
    epochs: int = 6
    lr: float = 0.05
    patience: int = 100

    resumable: ClassVar[frozenset[str]] = frozenset({"epochs", "patience"})


class Crash(Exception):
    pass


def fit(config: Config, ckpt: Path | None, *, crash_at: int | None = None, scores=None) -> Trainer:
    """A tiny regression with every kind of randomness a loop has: the global torch generator
    (dropout), a data generator (shuffling) and a NumPy generator (noise)."""
    config.seed_everything()
    model = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Dropout(0.2), torch.nn.Linear(8, 1))
    opt = torch.optim.Adam(model.parameters(), lr=config.lr)
    gen = torch.Generator().manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    x = torch.randn(32, 3)
    y = x.sum(1, keepdim=True)
    trainer = Trainer(
        config, total=config.epochs, checkpoint=ckpt, patience=config.patience,
        states={"model": model, "opt": opt, "gen": GeneratorState(gen), "rng": NumpyRNG(rng),
                "torch_rng": TorchRNG()},
    )  # fmt: skip
    trainer.resume()
    for epoch in trainer.steps():
        if epoch == crash_at:
            raise Crash
        model.train()
        for idx in torch.randperm(32, generator=gen).split(8):
            noise = torch.as_tensor(rng.normal(0, 0.01, (len(idx), 1)), dtype=torch.float32)
            loss = torch.nn.functional.mse_loss(model(x[idx]), y[idx] + noise)
            opt.zero_grad()
            loss.backward()
            opt.step()
        trainer.log(loss=float(loss.detach()))
        trainer.score(scores[epoch - 1] if scores else float(loss.detach()), keep=model)
    trainer.model = model  # for the test
    return trainer


def test_a_resumed_run_ends_where_an_uninterrupted_run_does(tmp_path: Path) -> None:
    straight = fit(Config(), None)
    with pytest.raises(Crash):
        fit(Config(), tmp_path / "run.ckpt", crash_at=4)
    ck = read_checkpoint(tmp_path / "run.ckpt")
    assert ck["epoch"] == 3 and len(ck["history"]["loss"]) == 3
    torch.manual_seed(123)  # the resumed run depends on the checkpoint only
    np.random.seed(5)
    resumed = fit(Config(), tmp_path / "run.ckpt")
    assert resumed.history == straight.history and resumed.step == 6
    assert resumed.best == straight.best and resumed.best_step == straight.best_step
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert all(torch.equal(straight.best_state[k], resumed.best_state[k]) for k in a)
    # More epochs may be asked of a finished run: it continues.
    longer = fit(Config(epochs=8), tmp_path / "run.ckpt")
    assert longer.step == 8 and longer.history["loss"][:6] == straight.history["loss"]


def test_a_checkpoint_made_with_other_settings_is_refused(tmp_path: Path) -> None:
    ckpt = tmp_path / "run.ckpt"
    fit(Config(epochs=2), ckpt)
    assert checkpoint_matches(ckpt, Config(epochs=5, patience=3))
    assert not checkpoint_matches(ckpt, Config(lr=0.1))
    with pytest.raises(OrlearnError, match=r"other settings \(lr, seed\)"):
        fit(Config(lr=0.1, seed=1), ckpt)
    # A setting the checkpoint predates counts as its default.
    ck = torch.load(ckpt, weights_only=True)
    del ck["key"]["lr"]
    torch.save(ck, ckpt)
    assert fit(Config(epochs=3), ckpt).step == 3
    with pytest.raises(OrlearnError, match=r"other settings \(lr\)"):
        fit(Config(epochs=4, lr=0.2), ckpt)


def test_checkpoints_in_another_layout_are_refused_not_half_read(tmp_path: Path) -> None:
    ckpt = tmp_path / "old.ckpt"
    torch.save({"config": {"epochs": 6}, "model": {}, "epoch": 2}, ckpt)  # another layout
    with pytest.raises(OrlearnError, match="older layout .* delete it or train into another output"):
        fit(Config(), ckpt)
    ckpt.write_bytes(b"junk")
    with pytest.raises(OrlearnError, match="not a readable training checkpoint"):
        fit(Config(), ckpt)
    assert not checkpoint_matches(ckpt, Config())


def test_early_stopping_stops_patience_steps_after_the_best(tmp_path: Path) -> None:
    scores = [5.0, 4.0, 3.0, 3.5, 3.2, 3.1, 2.0, 1.0, 0.5, 0.1]
    trainer = fit(Config(epochs=10, patience=3), tmp_path / "run.ckpt", scores=scores)
    assert trainer.step == 6 and trainer.best == 3.0 and trainer.best_step == 3
    assert len(trainer.history["loss"]) == 6
    # A resumed run with more patience goes on from there.
    trainer = fit(Config(epochs=10, patience=4), tmp_path / "run.ckpt", scores=scores)
    assert trainer.step == 10 and trainer.best_step == 10


def test_checkpoint_every_and_curves(tmp_path: Path) -> None:
    config = Config(epochs=5)
    config.seed_everything()
    model = torch.nn.Linear(1, 1)
    saved = []
    trainer = Trainer(config, total=5, checkpoint=tmp_path / "c.ckpt", states={"model": model},
                      checkpoint_every=2, unit="iteration")  # fmt: skip
    real = trainer.save_checkpoint
    trainer.save_checkpoint = lambda: (saved.append(trainer.step), real())
    for step in trainer.steps():
        trainer.log(a=step, b=2 * step)
    assert saved == [2, 4, 5] and read_checkpoint(tmp_path / "c.ckpt")["iteration"] == 5
    png = trainer.save_curves(tmp_path / "curves.png", ["b"])
    assert png is not None and png.is_file()
