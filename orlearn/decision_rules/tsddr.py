"""TS-DDR: train a decision rule through the Lagrangian duals of the deterministic equivalent.

For a batch of S sampled scenarios the rule proposes targets xhat (S x T x n); each scenario's
deterministic equivalent with target constraints ``x_t + delta = xhat_t`` is solved and its
optimal cost Q^s(xhat^s) returned. By the envelope theorem dQ^s/dxhat_t = lambda_t^s, the dual
of the target constraint, so :class:`TargetCost` hands the duals to autograd as the gradient and
the rule's parameters get (1/S) sum_s sum_t lambda_t^s dxhat_t^s/dtheta. A scenario whose solve
fails contributes no cost and a zero gradient, and is counted.

The slack penalty is annealed geometrically from ``penalty_start`` to ``penalty_end`` over the
first ``anneal_fraction`` of the iterations; validation always uses ``penalty_end``.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from orlearn.decision_rules.policies import DecisionRule
from orlearn.decision_rules.solver import SolveError
from orlearn.decision_rules.stage import DeterministicEquivalent, MultistageProblem
from orlearn.errors import OrlearnError
from orlearn.training import TrainConfigBase, Trainer

log = logging.getLogger(__name__)

Sampler = Callable[[int, np.random.Generator], np.ndarray]


@dataclass
class BatchSolve:
    """Per-scenario results of the last forward solve (read by the trainer for logging)."""

    operating: np.ndarray
    penalty: np.ndarray
    failures: int = 0


class TargetCost(torch.autograd.Function):
    """costs (S,) = Q^s(targets^s) through the deterministic equivalent; gradient = duals."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any,
        targets: torch.Tensor,
        uncertainty: np.ndarray,
        de: DeterministicEquivalent,
        penalty: float,
        record: BatchSolve | None = None,
    ) -> torch.Tensor:
        xhat = targets.detach().cpu().double().numpy()
        S = xhat.shape[0]
        costs = np.zeros(S)
        duals = np.zeros_like(xhat)
        operating, pen = np.full(S, np.nan), np.full(S, np.nan)
        failures = 0
        for s in range(S):
            try:
                sol = de.solve(uncertainty[s], xhat[s], penalty)
            except SolveError as exc:
                failures += 1
                log.warning("scenario %d: %s; its gradient is zeroed", s, exc)
                continue
            costs[s] = sol.total_cost
            duals[s] = sol.target_duals
            operating[s], pen[s] = sol.operating_cost, sol.penalty_cost
        if record is not None:
            record.operating, record.penalty, record.failures = operating, pen, failures
        ctx.save_for_backward(torch.as_tensor(duals, dtype=targets.dtype))
        return torch.as_tensor(costs, dtype=targets.dtype)

    @staticmethod
    def backward(ctx: Any, grad_costs: torch.Tensor) -> tuple[Any, ...]:  # type: ignore[override]
        (duals,) = ctx.saved_tensors
        return grad_costs[:, None, None] * duals, None, None, None, None


def target_cost(
    targets: torch.Tensor,
    uncertainty: np.ndarray,
    de: DeterministicEquivalent,
    penalty: float,
    record: BatchSolve | None = None,
) -> torch.Tensor:
    """Differentiable optimal costs (S,) of the scenarios for the given targets (S x T x n)."""
    if not torch.isfinite(targets).all():
        raise OrlearnError("the policy produced NaN or infinite targets (lower the learning rate)")
    return TargetCost.apply(targets, uncertainty, de, penalty, record)


@dataclass
class TrainConfig(TrainConfigBase):
    """TS-DDR training settings (costs in the problem's units, penalty per unit of slack). A run
    resumes a checkpoint made with exactly these settings."""

    iterations: int = 200
    batch_size: int = 8
    learning_rate: float = 1e-2
    learning_rate_end: float | None = None  # default: constant; else geometric decay to it
    penalty_end: float = 1e4
    penalty_start: float | None = None  # default penalty_end / 10
    anneal_fraction: float = 0.5
    validation_scenarios: int = 32
    validate_every: int = 10


@dataclass
class TrainResult:
    """Learning curves and the best validation score (the rule keeps the best weights)."""

    curves: dict[str, list[float]] = field(default_factory=dict)
    best_validation: float = float("inf")
    iterations: int = 0
    seconds: float = 0.0
    failures: int = 0


def penalty_at(config: TrainConfig, iteration: int) -> float:
    """The slack penalty used at ``iteration`` (0-based)."""
    start = config.penalty_start if config.penalty_start is not None else config.penalty_end / 10
    ramp = max(1, int(config.anneal_fraction * config.iterations))
    frac = min(1.0, iteration / ramp)
    return float(start * (config.penalty_end / start) ** frac) if start > 0 else config.penalty_end


def train_tsddr(
    problem: MultistageProblem,
    rule: DecisionRule,
    config: TrainConfig,
    *,
    sampler: Sampler | None = None,
    checkpoint: str | Path | None = None,
    progress: Callable[..., None] | None = None,
) -> TrainResult:
    """Train ``rule`` in place with Adam; ends holding the best validated weights.

    ``sampler(n, rng)`` draws training scenarios (default: the problem's stagewise-independent
    uncertainty); validation scenarios always come from the problem's uncertainty. With a
    ``checkpoint`` path, progress is saved every ``validate_every`` iterations and a run started
    with the same path resumes from it (see :mod:`orlearn.training`; one made with other
    settings is refused). ``progress(n=..., status=...)`` is called once per iteration.
    """
    _check(problem, rule, config)
    de = DeterministicEquivalent(problem)
    optimizer = torch.optim.Adam(rule.parameters(), lr=config.learning_rate)
    val_w = problem.uncertainty.sample(
        config.validation_scenarios, np.random.default_rng([config.seed, 10**6])
    )
    initial = copy.deepcopy(rule.state_dict())
    trainer = Trainer(
        config, total=config.iterations, checkpoint=checkpoint, unit="iteration",
        states={"rule": rule, "optimizer": optimizer}, checkpoint_every=config.validate_every,
        progress=progress or (lambda n=1, **fields: None),
    )  # fmt: skip
    trainer.history = {"train cost": [], "train penalty": [], "validation cost": []}
    trainer.extra["failures"] = 0
    trainer.resume()
    step = _Step(problem, rule, config, sampler or problem.uncertainty.sample, de, optimizer)
    for it in trainer.steps():
        penalty = step(trainer, it - 1)
        if it % config.validate_every == 0 or it == config.iterations:
            trainer.log({"validation cost": validate(problem, rule, val_w, de, config.penalty_end)})
            trainer.score(trainer.history["validation cost"][-1], keep=rule)
        trainer.status = (
            f"cost {trainer.history['train cost'][-1]:.6g} penalty {penalty:.3g} "
            f"best val {trainer.best:.6g}"
        )
    rule.load_state_dict(trainer.best_state if trainer.best_state is not None else initial)
    rule.eval()
    return TrainResult(
        curves=trainer.history, best_validation=trainer.best, iterations=trainer.step,
        seconds=trainer.seconds, failures=trainer.extra["failures"],
    )  # fmt: skip


def _check(problem: MultistageProblem, rule: DecisionRule, config: TrainConfig) -> None:
    if config.iterations < 1 or config.batch_size < 1:
        raise OrlearnError("iterations and batch_size must be at least 1")
    if rule.n_stages != problem.n_stages or rule.n_state != problem.n_state:
        raise OrlearnError(
            f"the rule is for {rule.n_stages} stages and {rule.n_state} states, the problem has "
            f"{problem.n_stages} and {problem.n_state}"
        )


@dataclass
class _Step:
    """One training iteration: sample a batch, solve it, take an Adam step on the duals."""

    problem: MultistageProblem
    rule: DecisionRule
    config: TrainConfig
    sampler: Sampler
    de: DeterministicEquivalent
    optimizer: torch.optim.Optimizer

    def __call__(self, trainer: Trainer, it: int) -> float:
        """Iteration ``it`` (0-based); logs the train cost and penalty, returns the penalty."""
        config = self.config
        rng = np.random.default_rng([config.seed, it])  # the same batches after a resume
        w = self.sampler(config.batch_size, rng)
        penalty = penalty_at(config, it)
        end_lr = config.learning_rate_end or config.learning_rate
        decay = (end_lr / config.learning_rate) ** (1 / max(1, config.iterations - 1))
        for group in self.optimizer.param_groups:
            group["lr"] = config.learning_rate * decay**it
        self.rule.train()
        targets = self.rule(torch.as_tensor(w, dtype=torch.float32))
        record = BatchSolve(np.zeros(0), np.zeros(0))
        costs = target_cost(targets, w, self.de, penalty, record)
        ok = torch.as_tensor(np.isfinite(record.operating))
        trainer.extra["failures"] += record.failures
        if ok.any():
            loss = costs[ok].mean()
            self.optimizer.zero_grad()
            loss.backward()
            self.optimizer.step()
        trainer.log({"train cost": float(np.nanmean(record.operating)),
                     "train penalty": float(np.nanmean(record.penalty))})  # fmt: skip
        return penalty


def validate(
    problem: MultistageProblem,
    rule: DecisionRule,
    scenarios: np.ndarray,
    de: DeterministicEquivalent,
    penalty: float,
) -> float:
    """Mean deterministic-equivalent cost (operating + slack penalty) of the rule's targets."""
    rule.eval()
    with torch.no_grad():
        targets = rule(torch.as_tensor(scenarios, dtype=torch.float32))
    record = BatchSolve(np.zeros(0), np.zeros(0))
    target_cost(targets, scenarios, de, penalty, record)
    total = record.operating + record.penalty
    if not np.isfinite(total).any():
        raise OrlearnError("every validation scenario failed to solve")
    return float(np.nanmean(total))
