"""Plain SDDP for stagewise-independent multistage LPs, over the same Pyomo stage models.

Each iteration samples forward scenarios, solves the stages in order with the current cuts, then
goes backward: at every visited state it solves stage t for every realisation and adds the
expected cut ``theta_{t-1} >= sum_k p_k (Q_k + pi_k (x - xbar))`` to stage t-1, where ``pi_k`` are
the duals of the incoming-state constraints. The lower bound is stage 0's expected objective at
x_0; the upper bound is estimated by simulating the policy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from orlearn.decision_rules.solver import SolveError
from orlearn.decision_rules.stage import MultistageProblem, StageModel

log = logging.getLogger(__name__)


@dataclass
class SDDPResult:
    """Bounds after training."""

    lower_bound: float
    lower_bounds: list[float] = field(default_factory=list)  # after each iteration
    iterations: int = 0
    seconds: float = 0.0


class SDDP:
    """SDDP policy: one :class:`StageModel` with a cost-to-go variable per stage.

    ``cost_to_go_lower`` must bound every stage's cost-to-go from below (0 for nonnegative costs).
    """

    def __init__(self, problem: MultistageProblem, *, cost_to_go_lower: float = 0.0) -> None:
        self.problem = problem
        T = problem.n_stages
        self.stages = [
            StageModel(problem, t, cost_to_go=t < T - 1, cost_to_go_lower=cost_to_go_lower)
            for t in range(T)
        ]
        self.lower_bounds: list[float] = []
        self.iterations = 0
        self.failures = 0  # forward/backward passes abandoned after a failed solve

    def lower_bound(self) -> float:
        """Expected stage-0 objective at x_0 with the current cuts."""
        p = self.problem
        values, probs = p.uncertainty.values[0], p.uncertainty.probabilities[0]
        return float(
            sum(
                q * self.stages[0].solve(p.initial_state, w).objective
                for w, q in zip(values, probs)
            )
        )

    def _backward(self, trajectory: list[np.ndarray]) -> None:
        p = self.problem
        for t in range(p.n_stages - 1, 0, -1):
            x = trajectory[t - 1]
            values, probs = p.uncertainty.values[t], p.uncertainty.probabilities[t]
            intercept, slope = 0.0, np.zeros(p.n_state)
            for w, q in zip(values, probs):
                sol = self.stages[t].solve(x, w)
                intercept += q * (sol.objective - sol.incoming_duals @ x)
                slope += q * sol.incoming_duals
            self.stages[t - 1].add_cut(intercept, slope)

    def forward(self, scenario: np.ndarray) -> tuple[float, list[np.ndarray]]:
        """Simulate the policy on one scenario (T x d): operating cost and visited states."""
        x = self.problem.initial_state
        cost, states = 0.0, []
        for t, stage in enumerate(self.stages):
            sol = stage.solve(x, scenario[t])
            cost += sol.stage_cost
            x = sol.state
            states.append(x)
        return cost, states

    def train(
        self,
        iterations: int,
        *,
        seed: int = 0,
        forward_passes: int = 1,
        time_limit: float | None = None,
        callback: Callable[[int, float], None] | None = None,
    ) -> SDDPResult:
        """Run ``iterations`` iterations (each ``forward_passes`` sampled scenarios), or until
        ``time_limit`` seconds; ``callback(iteration, lower_bound)`` after each."""
        rng = np.random.default_rng(seed + 7919 * self.iterations)  # resumable, never repeating
        start = time.perf_counter()
        for _ in range(iterations):
            for scenario in self.problem.uncertainty.sample(forward_passes, rng):
                try:
                    _, states = self.forward(scenario)
                    self._backward(states)
                except SolveError as exc:  # cuts already added stay valid; go on sampling
                    self.failures += 1
                    log.warning("SDDP iteration %d: %s", self.iterations + 1, exc)
            self.iterations += 1
            self.lower_bounds.append(self.lower_bound())
            if callback is not None:
                callback(self.iterations, self.lower_bounds[-1])
            if time_limit is not None and time.perf_counter() - start > time_limit:
                break
        return SDDPResult(
            lower_bound=self.lower_bounds[-1] if self.lower_bounds else self.lower_bound(),
            lower_bounds=list(self.lower_bounds),
            iterations=self.iterations,
            seconds=time.perf_counter() - start,
        )

    def simulate(self, scenarios: np.ndarray) -> np.ndarray:
        """Operating cost of the policy on each scenario (n x T x d); NaN where a solve failed."""
        costs = np.full(len(scenarios), np.nan)
        for s, scenario in enumerate(scenarios):
            try:
                costs[s] = self.forward(scenario)[0]
            except SolveError as exc:
                log.warning("SDDP simulation of scenario %d failed: %s", s, exc)
        return costs
