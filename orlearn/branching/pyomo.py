"""``SolverFactory("orlearn")``: SCIP with learned branching from Pyomo scripts.

``import orlearn.branching.pyomo`` registers the solver (``import orlearn`` does not: it would
load Pyomo for every capability). Options as in :mod:`orlearn.solver.pyomo`; ``policy`` takes
any learned-rule spec (``gnn``, the default, ``gnn:NAME``, a policy file, a hybrid spec), a
SCIP rule name, or ``none`` for SCIP's own branching.
"""

from __future__ import annotations

from typing import Any

from orlearn.branching.plugin import plugin_for
from orlearn.solver import pyomo as _pyomo

#: The policy used when none is named.
DEFAULT_POLICY = "gnn"

OrlearnSolver = _pyomo.register(
    "orlearn",
    resolve=plugin_for,
    default_policy=DEFAULT_POLICY,
    doc="SCIP with a learned branching policy (orlearn)",
)


def solve(model: Any, policy: str | None = DEFAULT_POLICY, **options: Any) -> Any:
    """Solve the Pyomo ``model`` with SCIP branching with ``policy`` (None / ``none``: SCIP's
    own rules); keywords as :func:`orlearn.solver.pyomo.solve`. Returns Pyomo results."""
    return _pyomo.solve(model, policy, resolve=plugin_for, **options)
