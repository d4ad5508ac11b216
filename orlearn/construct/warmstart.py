"""A constructive policy's solution as the start values of a Pyomo model's variables.

::

    import orlearn.branching.pyomo  # registers SolverFactory("orlearn")

    built = warm_start("kp", instance, {i: model.x[i] for i in range(n)})
    pyo.SolverFactory("orlearn", policy="none").solve(model, warmstart=True)

The values go to whatever solver the user calls with a warm start: orlearn's
``SolverFactory("orlearn")`` (``warmstart=True``), Pyomo's PySCIPOpt interface ``scip_direct``
(``warmstart_discrete_vars=True`` in pyomo.contrib.solver; the legacy ``SolverFactory`` wrapper
does not take ``warmstart=``, set ``opt.config.warmstart_discrete_vars = True`` there), or any
Pyomo solver that reads variable values. Keys of ``variables`` per problem:
:mod:`orlearn.construct.assignment`. Variables outside the mapping keep their values (None:
left for the solver to complete).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

from orlearn.construct import assignment
from orlearn.errors import OrlearnError


def warm_start(
    problem: str,
    instance: Any,
    variables: Mapping[Hashable, Any],
    *,
    policy: str | Path | None = None,
    beam: int = 1,
) -> assignment.Construction:
    """Decode ``instance`` with the policy (the shipped one by default; ``kp`` for ``mkp``) and
    set every mapped Pyomo variable to 1 or 0; returns the construction (solution, objective,
    seconds). Bad input raises :class:`OrlearnError` before anything is set."""
    shape = assignment.layout(problem, instance, variables.keys())
    for key, var in variables.items():
        if not getattr(var, "is_variable_type", lambda: False)() or getattr(var, "is_indexed", lambda: False)():
            raise OrlearnError(f"{problem} variables: key {key!r} does not map to a single Pyomo variable")
    if beam < 1:
        raise OrlearnError("beam width must be at least 1")
    built = assignment.construct(shape, instance, policy=policy, beam=beam)
    for key, var in variables.items():
        var.set_value(assignment.value_of(shape, built.values, key), skip_validation=True)
    return built
