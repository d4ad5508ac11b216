"""Pyomo integration: a Pyomo MILP solved by SCIP with any branching rule, as a function
(:func:`solve`) and as a Pyomo solver plugin (:func:`register`).

The model goes to SCIP through an LP file written by Pyomo (its symbol map brings the values
back), so any linear Pyomo model works. Importing this module costs only the import of
``pyomo.opt``; SCIP loads at the first solve. Presets, parameters and statuses are those of the
SCIP path (:mod:`orlearn.solver.settings`); a rule that is not SCIP's goes to the caller's
``resolve`` (:mod:`orlearn.solver.rules`).

Nothing is registered here: ``register(name, resolve=..., default_policy=...)`` makes a
``SolverFactory(name)``. ``import orlearn.branching.pyomo`` registers ``SolverFactory("orlearn")``
with learned branching (the shipped policy by default).

Options (constructor keywords, ``opt.options[...]`` or ``solve(options=...)``): ``policy``
(a rule spec, or ``none`` for SCIP's own branching), ``time_limit`` (seconds), ``threads``
(threads for the rule's inference), ``settings`` (an orlearn preset: ``default`` or ``gasse``),
and any SCIP parameter by its name (``limits/gap``). ``warmstart=True`` hands SCIP the
variables' current values as a start solution (e.g. set by
:func:`orlearn.construct.warmstart.warm_start`).
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from typing import Any

from pyomo.opt import (
    ProblemFormat,
    SolverFactory,
    SolverResults,
    SolverStatus,
    TerminationCondition,
)

from orlearn.errors import OrlearnError
from orlearn.solver.rules import Resolver, resolve_rule
from orlearn.solver.settings import (
    apply_settings,
    orlearn_status,
    parse_params,
    validate_settings,
    validate_time_limit,
)

log = logging.getLogger(__name__)

#: orlearn status (:data:`orlearn.solver.settings.STATUS`) -> Pyomo's termination and status.
TERMINATION = {
    "optimal": (TerminationCondition.optimal, SolverStatus.ok),
    "infeasible": (TerminationCondition.infeasible, SolverStatus.warning),
    "unbounded": (TerminationCondition.unbounded, SolverStatus.warning),
    "infeasible_or_unbounded": (TerminationCondition.infeasibleOrUnbounded, SolverStatus.warning),
    "time_limit": (TerminationCondition.maxTimeLimit, SolverStatus.aborted),
    "node_limit": (TerminationCondition.maxEvaluations, SolverStatus.aborted),
    "gap_limit": (TerminationCondition.optimal, SolverStatus.ok),
    "interrupted": (TerminationCondition.userInterrupt, SolverStatus.aborted),
}
_OWN_OPTIONS = ("policy", "time_limit", "threads", "settings")


def solve(
    model: Any,
    policy: str | None = None,
    *,
    resolve: Resolver | None = None,
    time_limit: float | None = None,
    threads: int = 1,
    settings: str = "default",
    params: dict[str, Any] | None = None,
    tee: bool = False,
    load_solutions: bool = True,
    warmstart: bool = False,
) -> SolverResults:
    """Solve the Pyomo ``model`` with SCIP, branching with ``policy``; returns Pyomo results.

    ``policy``: a SCIP rule name, a spec that ``resolve`` turns into a rule, or None / ``none``
    for SCIP's default rules. The best solution is loaded into the model's variables when
    ``load_solutions``. ``results.solver.branching_stats`` holds the rule's statistics (e.g. a
    learned rule's calls and fallbacks). ``warmstart``: the variables' current values go to SCIP
    as a start solution, a partial one (SCIP completes it) if some variables have no value;
    ``results.solver.warm_start`` says how many values were given and whether SCIP kept it.
    """
    validate_settings(settings)
    validate_time_limit(time_limit)
    typed = parse_params(params)
    attach = None
    if policy is not None and str(policy).lower() != "none":
        attach = resolve_rule(str(policy), resolve, threads)  # a bad policy fails before any work

    start = time.perf_counter()
    scip_model, symbols = _to_scip(model)
    if not tee:
        scip_model.hideOutput()
    apply_settings(scip_model, settings, typed, time_limit)
    warm = _warm_start(scip_model, symbols) if warmstart else {}
    rule = attach(scip_model) if attach is not None else None
    scip_model.optimize()
    results = _results(scip_model, model, time.perf_counter() - start)
    results.solver.branching_stats = rule.stats() if rule is not None else {}
    results.solver.warm_start = warm
    if load_solutions and scip_model.getNSols() > 0:
        _load_solution(scip_model, symbols)
    return results


def _load_solution(scip_model: Any, symbols: dict[str, Any]) -> None:
    sol = scip_model.getBestSol()
    for var in scip_model.getVars():
        pyomo_var = symbols.get(var.name)
        if pyomo_var is not None and not pyomo_var.fixed:
            pyomo_var.set_value(scip_model.getSolVal(sol, var), skip_validation=True)


def _to_scip(model: Any) -> tuple[Any, dict[str, Any]]:
    """The Pyomo model as a pyscipopt Model, and SCIP variable name -> Pyomo variable."""
    import pyscipopt

    fd, path = tempfile.mkstemp(suffix=".lp", prefix="orlearn-")
    os.close(fd)
    try:
        try:
            _, smap_id = model.write(path, format=ProblemFormat.cpxlp)
        except Exception as exc:  # nonlinear or malformed models: Pyomo's writer says why
            raise OrlearnError(f"cannot hand this Pyomo model to SCIP: {exc}") from exc
        symbol_map = model.solutions.symbol_map.pop(smap_id)
        scip_model = pyscipopt.Model()
        scip_model.hideOutput()
        scip_model.readProblem(path)
    finally:
        os.unlink(path)
    variables = {
        name: obj
        for name, obj in symbol_map.bySymbol.items()
        if getattr(obj, "is_variable_type", lambda: False)()
    }
    return scip_model, variables


def _warm_start(scip_model: Any, symbols: dict[str, Any]) -> dict[str, Any]:
    """Give SCIP the Pyomo variables' current values as a solution: a complete one if every
    variable has a value, else a partial one that SCIP's completesol heuristic completes."""
    given, fixed = [], []
    for var in scip_model.getVars():
        pyomo_var = symbols.get(var.name)
        if pyomo_var is not None and pyomo_var.value is not None:
            given.append((var, float(pyomo_var.value)))
        elif var.getLbOriginal() == var.getUbOriginal():  # e.g. the LP writer's constant term
            fixed.append((var, var.getLbOriginal()))
    info: dict[str, Any] = {"values": len(given), "variables": scip_model.getNVars(), "stored": False}
    if not given:
        log.warning("warmstart: no variable has a value; nothing handed to SCIP")
        return info
    given += fixed
    complete = len(given) == scip_model.getNVars()
    sol = scip_model.createSol() if complete else scip_model.createPartialSol()
    for var, value in given:
        scip_model.setSolVal(sol, var, value)
    info["stored"] = bool(scip_model.addSol(sol))
    info["partial"] = not complete
    if not info["stored"]:
        log.warning("warmstart: SCIP did not keep the start solution (infeasible or not better)")
    return info


def _results(scip_model: Any, model: Any, wall: float) -> SolverResults:
    results = SolverResults()
    status = scip_model.getStatus()
    condition, solver_status = TERMINATION.get(
        orlearn_status(status), (TerminationCondition.other, SolverStatus.aborted)
    )
    results.solver.name = "orlearn (SCIP)"
    results.solver.status = solver_status
    results.solver.termination_condition = condition
    results.solver.termination_message = f"SCIP status {status}"
    results.solver.wallclock_time = wall
    results.problem.name = getattr(model, "name", "model")
    results.problem.number_of_variables = scip_model.getNVars()
    results.problem.number_of_constraints = scip_model.getNConss()
    minimize = scip_model.getObjectiveSense() == "minimize"
    results.problem.sense = "minimize" if minimize else "maximize"
    inf = scip_model.infinity()
    primal = scip_model.getPrimalbound() if scip_model.getNSols() > 0 else None
    dual = scip_model.getDualbound()
    if abs(dual) >= inf:
        dual = None
    lower, upper = (dual, primal) if minimize else (primal, dual)
    if lower is not None:
        results.problem.lower_bound = lower
    if upper is not None:
        results.problem.upper_bound = upper
    results.solver.nodes = int(scip_model.getNNodes())
    return results


class ScipSolver:
    """Pyomo solver plugin: ``SolverFactory(name, policy=...).solve(model)``; :func:`register`
    makes one with a resolver and a default policy."""

    resolve: Resolver | None = None
    default_policy: str | None = None

    def __init__(self, **kwds: Any) -> None:
        kwds.pop("type", None)
        self.options: dict[str, Any] = dict(kwds.pop("options", {}) or {})
        self.options.update(kwds)

    def available(self, exception_flag: bool = True) -> bool:
        return True

    def warm_start_capable(self) -> bool:
        return True

    def license_is_valid(self) -> bool:
        return True

    def version(self) -> tuple[int, ...]:
        from orlearn import __version__

        return tuple(int(p) for p in __version__.split(".")[:3] if p.isdigit())

    def set_options(self, options: dict[str, Any]) -> None:
        self.options.update(options)

    def solve(self, model: Any, **kwds: Any) -> SolverResults:
        """Solve ``model``; keywords: ``tee``, ``load_solutions``, ``timelimit``, ``options``,
        ``warmstart`` (the variables' current values as a start solution)."""
        options = {**self.options, **(kwds.pop("options", None) or {})}
        if "timelimit" in kwds:
            options["time_limit"] = kwds.pop("timelimit")
        tee = bool(kwds.pop("tee", False))
        load = bool(kwds.pop("load_solutions", True))
        warmstart = bool(kwds.pop("warmstart", False))
        if kwds:
            log.warning("orlearn solver ignores %s", ", ".join(sorted(kwds)))
        params = {k: v for k, v in options.items() if k not in _OWN_OPTIONS}
        return solve(
            model,
            options.get("policy", self.default_policy),
            resolve=type(self).resolve,
            time_limit=options.get("time_limit"),
            threads=int(options.get("threads", 1)),
            settings=options.get("settings", "default"),
            params=params,
            tee=tee,
            load_solutions=load,
            warmstart=warmstart,
        )


def register(
    name: str, *, resolve: Resolver | None = None, default_policy: str | None = None, doc: str = ""
) -> type[ScipSolver]:
    """Register ``SolverFactory(name)``: SCIP with rules from ``resolve``, ``default_policy``
    when the user names none; returns the registered class."""
    cls = type(
        f"ScipSolver_{name}", (ScipSolver,),
        {"resolve": staticmethod(resolve) if resolve else None, "default_policy": default_policy},
    )  # fmt: skip
    SolverFactory.register(name, doc=doc or f"SCIP through orlearn ({name})")(cls)
    return cls
