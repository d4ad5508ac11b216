"""A persistent HiGHS LP through Pyomo's APPSI interface.

The model is handed to HiGHS once; later solves only push the values of mutable Params (and
constraints added explicitly, e.g. SDDP cuts), so re-solving with new uncertainty, targets or
incoming states does not rebuild anything.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyomo.environ as pyo
from pyomo.common.timing import HierarchicalTimer
from pyomo.contrib.appsi.base import TerminationCondition
from pyomo.contrib.appsi.solvers import Highs

from orlearn.errors import OrlearnError


class SolveError(OrlearnError):
    """HiGHS did not return an optimal solution (infeasible, unbounded, error)."""


class PersistentLP:
    """One Pyomo model kept loaded in HiGHS; ``solve`` re-optimizes from the last basis."""

    def __init__(self, model: pyo.ConcreteModel, *, fast: bool = True) -> None:
        self.model = model
        self._solver = Highs()
        if not self._solver.available():
            raise OrlearnError("HiGHS is not available to Pyomo: pip install highspy")
        self._solver.config.load_solution = False
        self._solver.highs_options = {"output_flag": False, "threads": 1}
        update = self._solver.update_config
        # Only mutable Params change between solves; structural changes go through add_constraints.
        update.check_for_new_or_removed_constraints = False
        update.check_for_new_or_removed_vars = False
        update.check_for_new_or_removed_params = False
        update.check_for_new_objective = False
        update.update_constraints = False
        update.update_vars = False
        update.update_named_expressions = False
        update.update_objective = False
        update.update_params = True
        self._solver.set_instance(model)
        self._results = None
        self._fast = fast

    def add_constraints(self, constraints: Sequence) -> None:
        """Load constraints added to the Pyomo model after construction (e.g. new cuts)."""
        self._solver.add_constraints(list(constraints))

    def _fast_solve(self):  # noqa: ANN202 (APPSI's results type)
        # APPSI wraps every solve in an output capture that starts threads, costing a few ms per
        # call (more than HiGHS needs for a stage LP). Options set by the first, regular solve
        # persist in the HiGHS object, so later solves push the Param updates and run HiGHS
        # directly. Falls back to the regular call if APPSI's internals change.
        solver = self._solver
        if self._results is None or not all(
            hasattr(solver, a) for a in ("_solver_model", "_postsolve", "update")
        ):
            return solver.solve(self.model)
        timer = HierarchicalTimer()
        solver.update(timer=timer)
        solver._solver_model.run()
        return solver._postsolve(timer)

    def solve(self) -> float:
        """Re-optimize; returns the objective value. Raises :class:`SolveError` if not optimal."""
        results = self._fast_solve() if self._fast else self._solver.solve(self.model)
        if results.termination_condition != TerminationCondition.optimal:
            # a warm start from a badly conditioned basis can end in 'unknown': retry cold
            highs = getattr(self._solver, "_solver_model", None)
            if highs is not None:
                highs.clearSolver()
            results = self._solver.solve(self.model)
        if results.termination_condition != TerminationCondition.optimal:
            self._results = None
            raise SolveError(f"HiGHS ended with {results.termination_condition.name}")
        self._results = results
        return float(results.best_feasible_objective)

    def primals(self, variables: Sequence) -> np.ndarray:
        """Values of ``variables`` at the last optimum."""
        values = self._results.solution_loader.get_primals(list(variables))
        return np.array([values[v] for v in variables], dtype=float)

    def duals(self, constraints: Sequence) -> np.ndarray:
        """Duals of ``constraints`` at the last optimum, as d(objective)/d(right-hand side)."""
        values = self._results.solution_loader.get_duals(list(constraints))
        return np.array([values[c] for c in constraints], dtype=float)


def load_all(lp: PersistentLP) -> None:
    """Copy every variable value of the last optimum into the Pyomo model."""
    lp._results.solution_loader.load_vars()
