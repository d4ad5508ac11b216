"""Exact optima of small multistage problems, to validate SDDP and TS-DDR.

* :func:`scenario_tree_value`: the deterministic equivalent of the whole scenario tree (every
  path of realisations) as one LP; only for small trees.
* :func:`exact_value_1d`: for one state variable, the exact expected cost-to-go functions by
  backward recursion. Each is convex piecewise linear; its pieces are all found by repeatedly
  intersecting supporting lines (a segment is done when the function meets the intersection
  point of its end tangents). Stagewise independence makes this equal to the tree's optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from orlearn.decision_rules.solver import PersistentLP
from orlearn.decision_rules.stage import MultistageProblem, StageModel, _checked_spec
from orlearn.errors import OrlearnError


def scenario_tree_value(problem: MultistageProblem, *, max_nodes: int = 50_000) -> float:
    """Optimal expected cost over the full scenario tree (one LP with a block per node)."""
    unc = problem.uncertainty
    sizes = [len(v) for v in unc.values]
    n_nodes = int(sum(np.prod(sizes[: t + 1]) for t in range(problem.n_stages)))
    if n_nodes > max_nodes:
        raise OrlearnError(
            f"the scenario tree has {n_nodes} nodes, more than max_nodes={max_nodes}"
        )
    m = pyo.ConcreteModel()
    m.node = pyo.Block(range(n_nodes))
    m.links = pyo.ConstraintList()
    terms = []
    # nodes of the previous stage: (block index, probability, outgoing state variables)
    frontier: list[tuple[float, list | None]] = [(1.0, None)]
    k = 0
    for t in range(problem.n_stages):
        nxt = []
        for prob, parent_out in frontier:
            for w, q in zip(unc.values[t], unc.probabilities[t]):
                spec = _checked_spec(problem, m.node[k], t)
                for p, v in zip(spec.uncertainty, w):
                    p.set_value(float(v))
                for i, var in enumerate(spec.state_in):
                    rhs = problem.initial_state[i] if parent_out is None else parent_out[i]
                    m.links.add(var == rhs)
                terms.append(prob * q * spec.cost)
                nxt.append((prob * q, list(spec.state_out)))
                k += 1
        frontier = nxt
    m.objective = pyo.Objective(expr=sum(terms))
    return PersistentLP(m).solve()


@dataclass
class ExactResult:
    """The optimal expected cost and the number of pieces found per cost-to-go function."""

    value: float
    pieces: list[int]


def exact_value_1d(problem: MultistageProblem, *, rtol: float = 1e-9) -> ExactResult:
    """Exact optimal expected cost of a one-state stagewise-independent problem."""
    if problem.n_state != 1:
        raise OrlearnError(
            f"exact_value_1d needs one state variable, the problem has {problem.n_state}"
        )
    T = problem.n_stages
    unc = problem.uncertainty
    stages = [StageModel(problem, t, cost_to_go=t < T - 1) for t in range(T)]
    pieces = [0] * T

    def expected(t: int, x: float) -> tuple[float, float]:
        f = g = 0.0
        for w, q in zip(unc.values[t], unc.probabilities[t]):
            sol = stages[t].solve(np.array([x]), w)
            f += q * sol.objective
            g += q * float(sol.incoming_duals[0])
        return f, g

    for t in range(T - 1, 0, -1):
        lo, hi = float(problem.lower[t - 1, 0]), float(problem.upper[t - 1, 0])
        a, b = (lo, *expected(t, lo)), (hi, *expected(t, hi))
        cuts = {a[0]: a, b[0]: b}
        todo = [(a, b)] if hi > lo else []
        while todo:
            (xa, fa, ga), (xb, fb, gb) = todo.pop()
            if gb - ga <= 1e-12 * (1 + abs(ga) + abs(gb)):
                continue  # one linear piece
            xm = (fb - gb * xb - fa + ga * xa) / (ga - gb)
            ym = fa + ga * (xm - xa)
            if not xa < xm < xb:
                continue
            fm, gm = expected(t, xm)
            if fm - ym <= rtol * (1 + abs(fa) + abs(fb)):
                continue
            mid = (xm, fm, gm)
            cuts[xm] = mid
            if len(cuts) > 100_000:
                raise OrlearnError(f"stage {t}: the cost-to-go has too many pieces to enumerate")
            todo += [((xa, fa, ga), mid), (mid, (xb, fb, gb))]
        for x, f, g in cuts.values():
            stages[t - 1].add_cut(f - g * x, np.array([g]))
        pieces[t - 1] = len(cuts)
    value, _ = expected(0, float(problem.initial_state[0]))
    return ExactResult(value=value, pieces=pieces)
