"""Multistage problems given as Pyomo stage builders, and the LPs orlearn builds from them.

A user describes stage ``t`` by a function ``build_stage(block, t) -> StageSpec`` that adds
variables and constraints to a Pyomo ``Block`` and declares which variables are the incoming and
outgoing states, which mutable Params carry the stage's uncertainty, and the stage cost. From it
orlearn builds, each kept loaded in HiGHS:

* :class:`DeterministicEquivalent`: one scenario over the whole horizon, states linked stage to
  stage, with target constraints ``x_t + delta+ - delta- = xhat_t`` whose slacks cost
  ``penalty`` per unit; the duals of the target constraints are d(total cost)/d(targets).
* :class:`StageModel`: one stage with its incoming state fixed by a constraint (its duals are
  the SDDP cut slopes), optional target constraints and an optional cost-to-go variable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyomo.environ as pyo

from orlearn.decision_rules.solver import PersistentLP, load_all
from orlearn.errors import OrlearnError


@dataclass
class StageSpec:
    """What a stage builder declares about the block it filled.

    ``state_in`` and ``state_out`` are equally long lists of Pyomo variables (the state before
    and after the stage; ``state_out`` needs finite bounds), ``uncertainty`` is a list of mutable
    Params set to the stage's realisation before each solve, ``cost`` a linear expression.
    """

    state_in: Sequence[Any]
    state_out: Sequence[Any]
    uncertainty: Sequence[Any]
    cost: Any


StageBuilder = Callable[[pyo.Block, int], StageSpec]


@dataclass
class StagewiseDiscrete:
    """Stagewise-independent uncertainty: at stage t one of ``values[t]`` (K_t x d) is drawn
    with ``probabilities[t]`` (K_t,)."""

    values: list[np.ndarray]
    probabilities: list[np.ndarray]

    def __post_init__(self) -> None:
        if len(self.values) != len(self.probabilities) or not self.values:
            raise OrlearnError("uncertainty needs one set of values and probabilities per stage")
        self.values = [np.atleast_2d(np.asarray(v, dtype=float)) for v in self.values]
        self.probabilities = [np.asarray(p, dtype=float).ravel() for p in self.probabilities]
        dims = {v.shape[1] for v in self.values}
        if len(dims) != 1:
            raise OrlearnError(f"uncertainty dimension differs between stages: {sorted(dims)}")
        for t, (v, p) in enumerate(zip(self.values, self.probabilities)):
            if len(p) != len(v) or np.any(p < 0) or abs(p.sum() - 1.0) > 1e-6:
                raise OrlearnError(
                    f"stage {t}: probabilities must be {len(v)} numbers >= 0 summing to 1"
                )
            if not np.all(np.isfinite(v)):
                raise OrlearnError(f"stage {t}: uncertainty values must be finite")

    @property
    def n_stages(self) -> int:
        return len(self.values)

    @property
    def dim(self) -> int:
        return self.values[0].shape[1]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` scenarios, shape (n, T, d)."""
        out = np.empty((n, self.n_stages, self.dim))
        for t, (v, p) in enumerate(zip(self.values, self.probabilities)):
            out[:, t] = v[rng.choice(len(v), size=n, p=p)]
        return out

    def moments(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-dimension mean and standard deviation over all stages (for input scaling)."""
        mean = np.mean([p @ v for v, p in zip(self.values, self.probabilities)], axis=0)
        second = np.mean(
            [p @ (v - mean) ** 2 for v, p in zip(self.values, self.probabilities)], axis=0
        )
        return mean, np.sqrt(second)


@dataclass
class MultistageProblem:
    """A multistage stochastic LP: a stage builder, the horizon, x_0 and the uncertainty."""

    build_stage: StageBuilder
    initial_state: np.ndarray
    uncertainty: StagewiseDiscrete
    name: str = "problem"
    state_names: list[str] = field(default_factory=list)
    lower: np.ndarray = field(init=False)
    upper: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.initial_state = np.asarray(self.initial_state, dtype=float).ravel()
        scratch = pyo.ConcreteModel()
        scratch.stage = pyo.Block(range(self.n_stages))
        lower, upper = [], []
        for t in range(self.n_stages):
            spec = _checked_spec(self, scratch.stage[t], t)
            lo = [v.lb for v in spec.state_out]
            hi = [v.ub for v in spec.state_out]
            if any(b is None for b in lo + hi):
                raise OrlearnError(
                    f"stage {t}: every state_out variable needs finite bounds (the policy's "
                    "output is scaled into them)"
                )
            lower.append(lo)
            upper.append(hi)
        self.lower = np.array(lower, dtype=float)
        self.upper = np.array(upper, dtype=float)
        if not self.state_names:
            self.state_names = [f"x{i}" for i in range(self.n_state)]

    @property
    def n_stages(self) -> int:
        return self.uncertainty.n_stages

    @property
    def n_state(self) -> int:
        return len(self.initial_state)

    @property
    def n_uncertainty(self) -> int:
        return self.uncertainty.dim


def _checked_spec(problem: MultistageProblem, block: pyo.Block, t: int) -> StageSpec:
    spec = problem.build_stage(block, t)
    if not isinstance(spec, StageSpec):
        raise OrlearnError(f"build_stage must return a StageSpec, got {type(spec).__name__}")
    n = len(problem.initial_state)
    if len(spec.state_in) != n or len(spec.state_out) != n:
        raise OrlearnError(
            f"stage {t}: {len(spec.state_in)} incoming and {len(spec.state_out)} outgoing state "
            f"variables, but the initial state has {n} entries"
        )
    if len(spec.uncertainty) != problem.uncertainty.dim:
        raise OrlearnError(
            f"stage {t}: {len(spec.uncertainty)} uncertainty Params, but the uncertainty has "
            f"dimension {problem.uncertainty.dim}"
        )
    for p in spec.uncertainty:
        if not getattr(p.parent_component(), "mutable", False):
            raise OrlearnError(f"stage {t}: uncertainty Param {p.name} must be mutable")
    return spec


@dataclass
class ScenarioSolution:
    """One deterministic-equivalent solve: costs, realised states and target duals."""

    operating_cost: float  # sum of the stage costs, without slack penalties
    penalty_cost: float  # penalty * total slack
    stage_costs: np.ndarray  # (T,)
    states: np.ndarray  # (T, n) realised x_t
    target_duals: np.ndarray  # (T, n) d(operating + penalty cost)/d(targets); zeros without targets

    @property
    def total_cost(self) -> float:
        return self.operating_cost + self.penalty_cost


def _set(params: Sequence[Any], values: np.ndarray) -> None:
    for p, v in zip(params, values):
        p.set_value(float(v))


class DeterministicEquivalent:
    """One scenario over the whole horizon as a single LP, with target constraints.

    ``solve(uncertainty, targets, penalty)`` re-uses the loaded model. ``penalty=0`` makes the
    slacks free, i.e. the perfect-foresight (wait-and-see) problem.
    """

    def __init__(self, problem: MultistageProblem) -> None:
        self.problem = problem
        T, n = problem.n_stages, problem.n_state
        m = pyo.ConcreteModel(name=f"{problem.name}-deterministic-equivalent")
        m.stage = pyo.Block(range(T))
        self._specs = [_checked_spec(problem, m.stage[t], t) for t in range(T)]
        m.x0 = pyo.Param(range(n), mutable=True, initialize=dict(enumerate(problem.initial_state)))
        m.link = pyo.Constraint(
            range(T),
            range(n),
            rule=lambda m, t, i: (
                self._specs[t].state_in[i]
                == (m.x0[i] if t == 0 else self._specs[t - 1].state_out[i])
            ),
        )
        mid = (problem.lower + problem.upper) / 2
        m.target = pyo.Param(
            range(T), range(n), mutable=True, initialize=lambda m, t, i: float(mid[t, i])
        )
        m.penalty = pyo.Param(mutable=True, initialize=0.0, within=pyo.Reals)
        m.slack_up = pyo.Var(range(T), range(n), bounds=(0, None))
        m.slack_down = pyo.Var(range(T), range(n), bounds=(0, None))
        m.target_con = pyo.Constraint(
            range(T),
            range(n),
            rule=lambda m, t, i: (
                self._specs[t].state_out[i] + m.slack_up[t, i] - m.slack_down[t, i]
                == m.target[t, i]
            ),
        )
        m.stage_cost = pyo.Expression(range(T), rule=lambda m, t: self._specs[t].cost)
        m.slack_total = pyo.Expression(
            expr=sum(m.slack_up[t, i] + m.slack_down[t, i] for t in range(T) for i in range(n))
        )
        m.objective = pyo.Objective(
            expr=sum(m.stage_cost[t] for t in range(T)) + m.penalty * m.slack_total
        )
        self.model = m
        self._uncertainty = [p for s in self._specs for p in s.uncertainty]
        self._targets = [m.target[t, i] for t in range(T) for i in range(n)]
        self._target_cons = [m.target_con[t, i] for t in range(T) for i in range(n)]
        self._states = [v for s in self._specs for v in s.state_out]
        self._lp = PersistentLP(m)

    def solve(
        self, uncertainty: np.ndarray, targets: np.ndarray | None = None, penalty: float = 0.0
    ) -> ScenarioSolution:
        """Solve for one scenario (T x d uncertainty) and targets (T x n, or None = no targets).

        Raises :class:`~orlearn.decision_rules.solver.SolveError` if HiGHS fails.
        """
        p = self.problem
        uncertainty = np.asarray(uncertainty, dtype=float)
        if uncertainty.shape != (p.n_stages, p.n_uncertainty):
            raise OrlearnError(
                f"uncertainty has shape {uncertainty.shape}, "
                f"expected {(p.n_stages, p.n_uncertainty)}"
            )
        _set(self._uncertainty, uncertainty.ravel())
        if targets is None:
            penalty = 0.0
        else:
            targets = np.asarray(targets, dtype=float)
            if targets.shape != (p.n_stages, p.n_state):
                raise OrlearnError(
                    f"targets have shape {targets.shape}, expected {(p.n_stages, p.n_state)}"
                )
            if not np.all(np.isfinite(targets)):
                raise OrlearnError("targets contain NaN or infinite values")
            _set(self._targets, targets.ravel())
        self.model.penalty.set_value(float(penalty))
        objective = self._lp.solve()
        load_all(self._lp)
        m = self.model
        stage_costs = np.array([pyo.value(m.stage_cost[t]) for t in range(p.n_stages)])
        states = np.array([v.value for v in self._states]).reshape(p.n_stages, p.n_state)
        if targets is None:
            duals = np.zeros((p.n_stages, p.n_state))
            penalty_cost = 0.0
        else:
            duals = self._lp.duals(self._target_cons).reshape(p.n_stages, p.n_state)
            penalty_cost = objective - float(stage_costs.sum())
        return ScenarioSolution(
            operating_cost=float(stage_costs.sum()),
            penalty_cost=penalty_cost,
            stage_costs=stage_costs,
            states=states,
            target_duals=duals,
        )


@dataclass
class StageSolution:
    """One stage solve."""

    objective: float  # stage cost + penalty * slack + cost-to-go
    stage_cost: float
    state: np.ndarray  # (n,) x_t
    incoming_duals: np.ndarray  # (n,) d(objective)/d(incoming state): SDDP cut slopes


class StageModel:
    """Stage ``t`` alone: incoming state as a constraint, optional targets and cost-to-go.

    With ``cost_to_go`` a variable theta >= ``cost_to_go_lower`` is added to the objective and
    :meth:`add_cut` adds cuts theta >= intercept + slope . x_t.
    """

    def __init__(
        self,
        problem: MultistageProblem,
        t: int,
        *,
        targets: bool = False,
        cost_to_go: bool = False,
        cost_to_go_lower: float = 0.0,
    ) -> None:
        self.problem, self.t = problem, t
        n = problem.n_state
        m = pyo.ConcreteModel(name=f"{problem.name}-stage-{t}")
        m.stage = pyo.Block()
        spec = _checked_spec(problem, m.stage, t)
        self._spec = spec
        m.incoming = pyo.Param(
            range(n), mutable=True, initialize=dict(enumerate(problem.initial_state))
        )
        m.link = pyo.Constraint(range(n), rule=lambda m, i: spec.state_in[i] == m.incoming[i])
        objective = spec.cost
        m.stage_cost = pyo.Expression(expr=spec.cost)
        self.has_targets = targets
        if targets:
            mid = (problem.lower[t] + problem.upper[t]) / 2
            m.target = pyo.Param(range(n), mutable=True, initialize=lambda m, i: float(mid[i]))
            m.penalty = pyo.Param(mutable=True, initialize=0.0, within=pyo.Reals)
            m.slack_up = pyo.Var(range(n), bounds=(0, None))
            m.slack_down = pyo.Var(range(n), bounds=(0, None))
            m.target_con = pyo.Constraint(
                range(n),
                rule=lambda m, i: (
                    spec.state_out[i] + m.slack_up[i] - m.slack_down[i] == m.target[i]
                ),
            )
            objective = objective + m.penalty * sum(
                m.slack_up[i] + m.slack_down[i] for i in range(n)
            )
        self.has_cost_to_go = cost_to_go
        if cost_to_go:
            m.theta = pyo.Var(bounds=(cost_to_go_lower, None))
            m.cuts = pyo.ConstraintList()
            objective = objective + m.theta
        m.objective = pyo.Objective(expr=objective)
        self.model = m
        self._lp = PersistentLP(m)
        self.n_cuts = 0

    def add_cut(self, intercept: float, slope: np.ndarray) -> None:
        """Add theta >= intercept + slope . x_t (requires ``cost_to_go``)."""
        if not self.has_cost_to_go:
            raise OrlearnError("add_cut needs a StageModel built with cost_to_go=True")
        m = self.model
        slope = np.asarray(slope, dtype=float)
        # coefficients at round-off level only upset HiGHS's matrix checks
        slope = np.where(
            np.abs(slope) < 1e-9 * max(1.0, float(np.abs(slope).max(initial=0))), 0.0, slope
        )
        con = m.cuts.add(
            m.theta - sum(float(s) * v for s, v in zip(slope, self._spec.state_out))
            >= float(intercept)
        )
        self._lp.add_constraints([con])
        self.n_cuts += 1

    def solve(
        self,
        incoming: np.ndarray,
        uncertainty: np.ndarray,
        target: np.ndarray | None = None,
        penalty: float = 0.0,
    ) -> StageSolution:
        """Solve the stage for an incoming state (n,), a realisation (d,) and, if built with
        targets, a target (n,) whose slacks cost ``penalty`` per unit."""
        m = self.model
        _set([m.incoming[i] for i in range(self.problem.n_state)], np.asarray(incoming).ravel())
        _set(self._spec.uncertainty, np.asarray(uncertainty).ravel())
        if self.has_targets:
            if target is None:
                raise OrlearnError("this stage model has target constraints: pass a target")
            target = np.asarray(target, dtype=float).ravel()
            if not np.all(np.isfinite(target)):
                raise OrlearnError("target contains NaN or infinite values")
            _set([m.target[i] for i in range(self.problem.n_state)], target)
            m.penalty.set_value(float(penalty))
        objective = self._lp.solve()
        load_all(self._lp)
        n = self.problem.n_state
        return StageSolution(
            objective=objective,
            stage_cost=float(pyo.value(m.stage_cost)),
            state=np.array([v.value for v in self._spec.state_out], dtype=float),
            incoming_duals=self._lp.duals([m.link[i] for i in range(n)]),
        )
