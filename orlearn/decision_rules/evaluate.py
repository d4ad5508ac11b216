"""Out-of-sample evaluation of decision rules and of the simple baselines.

Every function takes scenarios (N x T x d) and returns the operating cost (sum of stage costs,
slack penalties excluded) per scenario, NaN where a solve failed, plus the seconds spent.

* :func:`rollout_costs`: the rule used as a non-anticipative policy, stage by stage: stage t's
  target comes from the inflows so far and the realised previous state; the stage LP (with the
  target constraint and its slack penalty) decides.
* :func:`deterministic_equivalent_costs`: the rule's targets for the whole scenario enforced in
  one LP, as in training (decisions may deviate from infeasible targets with knowledge of the
  whole scenario, so this is not strictly non-anticipative).
* :func:`myopic_costs`: each stage minimises its own cost, ignoring the future.
* :func:`wait_and_see_costs`: perfect foresight of the whole scenario (a lower bound).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
import torch

from orlearn.decision_rules.policies import DecisionRule
from orlearn.decision_rules.solver import SolveError
from orlearn.decision_rules.stage import DeterministicEquivalent, MultistageProblem, StageModel
from orlearn.errors import OrlearnError

log = logging.getLogger(__name__)


@dataclass
class Evaluation:
    """Costs per scenario (NaN = failed) and the wall time of the evaluation (s)."""

    costs: np.ndarray
    seconds: float

    @property
    def failures(self) -> int:
        return int(np.isnan(self.costs).sum())

    @property
    def mean(self) -> float:
        return float(np.nanmean(self.costs))

    @property
    def stderr(self) -> float:
        ok = self.costs[np.isfinite(self.costs)]
        return float(ok.std(ddof=1) / np.sqrt(len(ok))) if len(ok) > 1 else float("nan")

    @property
    def seconds_per_scenario(self) -> float:
        return self.seconds / max(1, len(self.costs))


def _check(problem: MultistageProblem, scenarios: np.ndarray) -> np.ndarray:
    scenarios = np.asarray(scenarios, dtype=float)
    if scenarios.ndim != 3 or scenarios.shape[1:] != (problem.n_stages, problem.n_uncertainty):
        raise OrlearnError(
            f"scenarios have shape {scenarios.shape}, expected (N, {problem.n_stages}, "
            f"{problem.n_uncertainty})"
        )
    return scenarios


def _check_rule(problem: MultistageProblem, rule: DecisionRule) -> None:
    if (
        rule.n_stages != problem.n_stages
        or rule.n_state != problem.n_state
        or rule.n_uncertainty != problem.n_uncertainty
    ):
        raise OrlearnError(
            f"the policy is for {rule.n_stages} stages, {rule.n_state} states and "
            f"{rule.n_uncertainty} uncertainties; the problem has {problem.n_stages}, "
            f"{problem.n_state} and {problem.n_uncertainty}"
        )


def rollout_costs(
    problem: MultistageProblem, rule: DecisionRule, scenarios: np.ndarray, penalty: float
) -> Evaluation:
    """The rule as a closed-loop policy, one stage LP per stage."""
    scenarios = _check(problem, scenarios)
    _check_rule(problem, rule)
    stages = [StageModel(problem, t, targets=True) for t in range(problem.n_stages)]
    costs = np.full(len(scenarios), np.nan)
    rule.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for s, w in enumerate(scenarios):
            x = problem.initial_state
            memory = rule.initial_memory(1)
            total = 0.0
            try:
                for t, stage in enumerate(stages):
                    w_t = torch.as_tensor(w[t : t + 1], dtype=torch.float32)
                    x_t = torch.as_tensor(x[None], dtype=torch.float32)
                    target, memory = rule.step(t, w_t, x_t, memory)
                    sol = stage.solve(x, w[t], target[0].double().numpy(), penalty)
                    total += sol.stage_cost
                    x = sol.state
            except SolveError as exc:
                log.warning("rollout of scenario %d failed: %s", s, exc)
                continue
            costs[s] = total
    return Evaluation(costs, time.perf_counter() - start)


def deterministic_equivalent_costs(
    problem: MultistageProblem, rule: DecisionRule, scenarios: np.ndarray, penalty: float
) -> Evaluation:
    """The rule's open-loop targets enforced in one LP per scenario."""
    scenarios = _check(problem, scenarios)
    _check_rule(problem, rule)
    de = DeterministicEquivalent(problem)
    rule.eval()
    costs = np.full(len(scenarios), np.nan)
    start = time.perf_counter()
    with torch.no_grad():
        for s, w in enumerate(scenarios):
            targets = rule(torch.as_tensor(w[None], dtype=torch.float32))[0].double().numpy()
            try:
                costs[s] = de.solve(w, targets, penalty).operating_cost
            except SolveError as exc:
                log.warning("scenario %d failed: %s", s, exc)
    return Evaluation(costs, time.perf_counter() - start)


def myopic_costs(problem: MultistageProblem, scenarios: np.ndarray) -> Evaluation:
    """Each stage minimises its own cost given the incoming state."""
    scenarios = _check(problem, scenarios)
    stages = [StageModel(problem, t) for t in range(problem.n_stages)]
    costs = np.full(len(scenarios), np.nan)
    start = time.perf_counter()
    for s, w in enumerate(scenarios):
        x, total = problem.initial_state, 0.0
        try:
            for t, stage in enumerate(stages):
                sol = stage.solve(x, w[t])
                total += sol.stage_cost
                x = sol.state
        except SolveError as exc:
            log.warning("myopic scenario %d failed: %s", s, exc)
            continue
        costs[s] = total
    return Evaluation(costs, time.perf_counter() - start)


def wait_and_see_costs(problem: MultistageProblem, scenarios: np.ndarray) -> Evaluation:
    """Perfect-foresight optimum of each scenario (a lower bound on any policy's cost)."""
    scenarios = _check(problem, scenarios)
    de = DeterministicEquivalent(problem)
    costs = np.full(len(scenarios), np.nan)
    start = time.perf_counter()
    for s, w in enumerate(scenarios):
        try:
            costs[s] = de.solve(w).operating_cost
        except SolveError as exc:
            log.warning("wait-and-see scenario %d failed: %s", s, exc)
    return Evaluation(costs, time.perf_counter() - start)
