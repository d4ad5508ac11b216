"""HDPO: Hindsight Differentiable Policy Optimization (Alvo, Russo and Kanoria).

A policy is trained by Adam on the average cost of fixed, sampled training scenarios; the
gradient is the pathwise derivative through the differentiable simulator (no policy-gradient
estimator). After each epoch the policy is scored on dev scenarios; the best one is kept, training
stops after ``patience`` epochs without improvement, and a checkpoint is written every epoch so
that a stopped run resumes where it was.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import torch
from torch import nn

from orlearn import training
from orlearn.errors import OrlearnError
from orlearn.inventory.demand import RealDemand
from orlearn.inventory.rollout import ScenarioSet, rollout
from orlearn.inventory.settings import Setting
from orlearn.progress import progress_bar
from orlearn.training import GeneratorState, TorchRNG, TrainConfigBase, Trainer

log = logging.getLogger(__name__)


@dataclass
class TrainConfig(TrainConfigBase):
    """Training knobs; ``None`` sizes come from the setting file. A run resumes a checkpoint made
    with the same knobs; ``epochs`` and ``patience`` may change."""

    epochs: int = 100
    learning_rate: float = 3e-3
    train_samples: int | None = None
    batch_size: int | None = None
    train_periods: int | None = None
    train_warmup: int | None = None
    dev_samples: int | None = None
    dev_periods: int | None = None
    dev_warmup: int | None = None
    patience: int = 20
    lr_decay: float = 1.0  # multiplies the learning rate after every epoch
    grad_clip: float | None = 1.0  # largest gradient norm (None: no clipping)

    resumable: ClassVar[frozenset[str]] = frozenset({"epochs", "patience"})

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.learning_rate <= 0 or self.patience < 1 or not 0 < self.lr_decay <= 1:
            raise OrlearnError("training needs epochs >= 1, a learning rate > 0, patience >= 1, 0 < lr decay <= 1")


@dataclass
class TrainResult:
    """Best dev cost per period per store, the epoch it came from, the curves, seconds spent."""

    best_dev: float
    best_epoch: int
    epochs_run: int
    seconds: float
    history: dict[str, list[float]] = field(default_factory=dict)


def checkpoint_matches(path: str | Path, config: TrainConfig) -> bool:
    """Whether the checkpoint at ``path`` was made with ``config`` (so can be resumed)."""
    return training.checkpoint_matches(path, config)


def _score(setting: Setting, policy: nn.Module, scenarios: ScenarioSet, batch: int) -> float:
    sim, observer = setting.simulator(), setting.observer()
    total = 0.0
    with torch.no_grad():
        for start in range(0, scenarios.n, batch):
            part = scenarios.batch(torch.arange(start, min(start + batch, scenarios.n)))
            total += float(rollout(sim, observer, policy, part).cost.sum())
    return total / scenarios.n


def train(
    setting: Setting,
    policy: nn.Module,
    config: TrainConfig,
    *,
    checkpoint: str | Path | None = None,
    curves: str | Path | None = None,
    progress: bool = False,
) -> TrainResult:
    """Train ``policy`` in place by HDPO; on return it holds the best dev weights. A
    ``checkpoint`` is written every epoch and resumed from (see :mod:`orlearn.training`; one
    made with other knobs is refused)."""
    config.seed_everything()
    train_set = setting.scenarios(
        "train", n_samples=config.train_samples, periods=config.train_periods, warmup=config.train_warmup, seed=config.seed
    )
    dev_set = setting.scenarios(
        "dev", n_samples=config.dev_samples, periods=config.dev_periods, warmup=config.dev_warmup, seed=config.seed
    )
    optimizer = torch.optim.Adam(policy.parameters(), lr=config.learning_rate)
    scheduler = torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=config.lr_decay)
    generator = torch.Generator().manual_seed(config.seed)
    trainer = Trainer(
        config, total=config.epochs, checkpoint=checkpoint, patience=config.patience,
        states={"policy": policy, "optimizer": optimizer, "scheduler": scheduler,
                "generator": GeneratorState(generator), "torch_rng": TorchRNG()},
        description=f"HDPO {setting.name}", show_progress=progress,
    )  # fmt: skip
    trainer.history = {"train cost": [], "dev cost": []}
    trainer.resume()
    batch = min(config.batch_size or setting.datasets["train"].batch_size, train_set.n)
    for _ in trainer.steps():
        order = torch.randperm(train_set.n, generator=generator)
        train_cost = _train_epoch(setting, policy, optimizer, config, train_set.batch, order, batch)
        scheduler.step()
        policy.eval()
        dev = _score(setting, policy, dev_set, setting.datasets["dev"].batch_size)
        trainer.log({"train cost": train_cost, "dev cost": dev})
        trainer.score(dev, keep=policy)
        trainer.status = f"train {train_cost:.4f} dev {dev:.4f} best {trainer.best:.4f}"
    if trainer.best_state is not None:
        policy.load_state_dict(trainer.best_state)
    if curves is not None:
        trainer.save_curves(curves, title=f"HDPO on {setting.name}: cost per period per store")
    history = trainer.history
    return TrainResult(trainer.best, trainer.best_step, len(history["dev cost"]), trainer.seconds, history)


def _train_epoch(
    setting: Setting, policy: nn.Module, optimizer: torch.optim.Optimizer, config: TrainConfig,
    scenarios: Callable[[torch.Tensor], ScenarioSet], order: torch.Tensor, batch: int,
) -> float:  # fmt: skip
    """Adam steps over the training scenarios in ``order``, ``batch`` at a time; mean cost."""
    sim, observer = setting.simulator(), setting.observer()
    policy.train()
    costs = []
    for start in range(0, len(order), batch):
        loss = rollout(sim, observer, policy, scenarios(order[start : start + batch])).cost.mean()
        optimizer.zero_grad()
        loss.backward()
        if config.grad_clip:
            # An early policy that orders far too much gives huge costs and gradients.
            nn.utils.clip_grad_norm_(policy.parameters(), config.grad_clip)
        optimizer.step()
        costs.append(float(loss.detach()))
    return sum(costs) / len(costs)


@dataclass
class Evaluation:
    """Test cost per period per store (mean over scenarios and its standard error), and for
    profit settings the profit per period (all stores) and a just-in-time oracle's."""

    cost: float
    stderr: float
    scenarios: int
    periods: int
    profit: float | None = None
    oracle_profit: float | None = None


def jit_oracle_profit(setting: Setting, scenarios: ScenarioSet) -> torch.Tensor:
    """Profit per period per scenario of an oracle that knows demand and delivers it at once from
    the cheapest warehouse connected to each store: price minus that procurement cost, times
    demand, with no stock held (after the warm-up)."""
    net = setting.network
    cheapest = []
    for s in net.stores.tolist():
        into = torch.nonzero(net.edge_dst == s).flatten()
        costs = []
        for e in into.tolist():
            u = int(net.edge_src[e])
            upstream = net.edge_cost[(net.edge_dst == u)] if u >= 0 else torch.zeros(1)
            costs.append(float(net.edge_cost[e]) + float(upstream.min()))
        cheapest.append(min(costs))
    margin = net.underage[net.stores] - torch.tensor(cheapest)
    demand = scenarios.demand[:, :, scenarios.history + scenarios.warmup :]
    return (demand * margin[None, :, None]).sum(1).mean(1)


def evaluate(
    setting: Setting,
    policy: nn.Module,
    *,
    n_samples: int | None = None,
    periods: int | None = None,
    warmup: int | None = None,
    chunk: int = 4096,
    seed: int = 0,
    progress: bool = False,
) -> Evaluation:
    """Average test cost of ``policy``, simulated ``chunk`` scenarios at a time."""
    spec = setting.datasets["test"]
    if isinstance(setting.demand, RealDemand) and (periods, warmup) != (None, None):
        log.info("real sales: the test window of weeks is fixed by the setting; periods and warm-up ignored")
        periods = warmup = None
    n = spec.n_samples if n_samples is None else n_samples
    chunk = min(chunk, n)
    sim, observer = setting.simulator(), setting.observer()
    costs, profits, oracle = [], [], []
    policy.eval()
    with progress_bar(f"evaluate {setting.name}", math.ceil(n / chunk), disable=not progress) as advance:
        for k, start in enumerate(range(0, n, chunk)):
            part = setting.scenarios(
                "test", n_samples=min(chunk, n - start), periods=periods, warmup=warmup, seed=seed, chunk=k
            )
            with torch.no_grad():
                result = rollout(sim, observer, policy, part)
            costs.append(result.cost)
            if setting.network.maximize_profit:
                profits.append(-result.cost * setting.network.n_stores)
                oracle.append(jit_oracle_profit(setting, part))
            advance(1)
    cost = torch.cat(costs).double()
    stderr = float(cost.std() / math.sqrt(len(cost))) if len(cost) > 1 else 0.0
    evaluation = Evaluation(float(cost.mean()), stderr, len(cost), part.periods)
    if profits:
        evaluation.profit = float(torch.cat(profits).double().mean())
        evaluation.oracle_profit = float(torch.cat(oracle).double().mean())
    return evaluation
