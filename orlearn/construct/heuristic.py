"""A SCIP primal heuristic that hands SCIP a solution built by a constructive (BQ-NCO) policy.

::

    heur = attach_heuristic(model, "kp", instance, {i: x[i] for i in range(n)})
    model.optimize()
    heur.stats()   # status accepted / not improving / rejected / failed, objectives, seconds

The heuristic runs once, at the start of presolving (or at the root node if presolving is
skipped): it decodes ``instance`` with the policy, sets every mapped variable to 0 or 1 (see
:mod:`orlearn.construct.assignment` for the keys of each problem) and offers the solution with
``trySol`` in the original problem space, so presolve reductions do not matter. Variables of the
model that the mapping does not name (MTZ order variables, flow variables) are completed by a
copy of the original problem with the mapped variables fixed, solved by SCIP until its first
solution: SCIP's completion of a partial solution, which SCIP itself only accepts before the
solve starts. Whatever goes wrong inside (an exception in the policy, a completion without a
solution) is recorded in :meth:`ConstructiveHeuristic.stats` and logged; the solve goes on.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import pyscipopt
from pyscipopt import SCIP_HEURTIMING, SCIP_RESULT, SCIP_STAGE

from orlearn.construct import assignment
from orlearn.errors import OrlearnError

log = logging.getLogger(__name__)
_NAMES = itertools.count()


class ConstructiveHeuristic(pyscipopt.Heur):
    """The plugin; create it with :func:`attach_heuristic`."""

    def __init__(
        self,
        shape: assignment.Layout,
        instance: Any,
        variables: Mapping[Hashable, Any],
        *,
        policy: str | Path | None,
        beam: int,
        threads: int,
        completion_time_limit: float,
    ) -> None:
        self.shape = shape
        self.instance = instance
        self.variables = dict(variables)
        self.policy = policy
        self.beam = beam
        self.threads = threads
        self.completion_time_limit = completion_time_limit
        self._stats: dict[str, Any] = {
            "status": "not run", "calls": 0, "policy_objective": None, "scip_objective": None,
            "policy_seconds": None, "completion_seconds": None, "error": None,
        }

    def stats(self) -> dict[str, Any]:
        """What happened: ``status`` is ``accepted`` (SCIP took the solution), ``not improving``
        (feasible, but SCIP already had one at least as good), ``rejected`` (infeasible for the
        model, or the completion of unmapped variables found none), ``failed`` (an exception;
        ``error`` says which) or ``not run``; the policy's objective and SCIP's objective of
        the same solution (equal when the model's objective is the problem's), policy and
        completion wall seconds."""
        return dict(self._stats)

    def heurexec(self, heurtiming: Any, nodeinfeasible: bool) -> dict[str, Any]:
        if self._stats["calls"]:
            return {"result": SCIP_RESULT.DIDNOTRUN}
        self._stats["calls"] += 1
        # Any exception escaping a PySCIPOpt callback aborts the whole solve: catch them all.
        try:
            found = self._offer()
        except Exception as exc:  # noqa: BLE001  (a policy must never crash the solve)
            self._stats["status"] = "failed"
            self._stats["error"] = f"{type(exc).__name__}: {exc}"
            log.warning("constructive heuristic failed: %s", self._stats["error"])
            found = False
        return {"result": SCIP_RESULT.FOUNDSOL if found else SCIP_RESULT.DIDNOTFIND}

    def _offer(self) -> bool:
        import torch

        threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            built = assignment.construct(self.shape, self.instance, policy=self.policy, beam=self.beam)
        finally:
            torch.set_num_threads(threads)
        self._stats["policy_objective"] = built.objective
        self._stats["policy_seconds"] = built.seconds
        # (variable, value) pairs: PySCIPOpt variables are not hashable.
        values = [
            (var, assignment.value_of(self.shape, built.values, key)) for key, var in self.variables.items()
        ]
        model = self.model
        if len(values) < model.getNVars(transformed=False):
            completed = self._complete(values)
            if completed is None:
                self._stats["status"] = "rejected"
                self._stats["error"] = "no completion of the unmapped variables"
                return False
            values = completed
        sol = model.createOrigSol(self)
        for var, value in values:
            model.setSolVal(sol, var, value)
        self._stats["scip_objective"] = model.getSolObjVal(sol)
        feasible = model.checkSol(sol, printreason=False)
        accepted = model.trySol(sol, printreason=False)
        self._stats["status"] = "accepted" if accepted else "not improving" if feasible else "rejected"
        log.info(
            "constructive heuristic: %s, objective %.6g, policy %.3f s",
            self._stats["status"], self._stats["scip_objective"], built.seconds,
        )
        return bool(accepted)

    def _complete(self, values: list[tuple[Any, float]]) -> list[tuple[Any, float]] | None:
        """Values of every variable: a copy of the original problem with the mapped variables
        fixed, solved until its first solution (None if it finds none in the time limit)."""
        start = time.perf_counter()
        sub = pyscipopt.Model(sourceModel=self.model, origcopy=True)
        sub.hideOutput()
        by_name = {v.name: v for v in sub.getVars()}
        for var, value in values:
            sub.fixVar(by_name[var.name], value)
        sub.setParam("limits/solutions", 1)
        sub.setParam("limits/time", self.completion_time_limit)
        sub.optimize()
        self._stats["completion_seconds"] = time.perf_counter() - start
        if sub.getNSols() == 0:
            return None
        best = sub.getBestSol()
        return [(v, sub.getSolVal(best, by_name[v.name])) for v in self.model.getVars(transformed=False)]


def attach_heuristic(
    model: pyscipopt.Model,
    problem: str,
    instance: Any,
    variables: Mapping[Hashable, Any],
    *,
    policy: str | Path | None = None,
    beam: int = 1,
    threads: int = 1,
    priority: int = 1_000_000,
    completion_time_limit: float = 10.0,
) -> ConstructiveHeuristic:
    """Include a :class:`ConstructiveHeuristic` in ``model`` (before ``optimize``).

    ``problem``: ``kp``, ``mkp``, ``tsp`` or ``atsp``; ``instance``: the problem's instance
    object; ``variables``: decision key -> SCIP variable of ``model`` (keys per problem in
    :mod:`orlearn.construct.assignment`); ``policy``: a policy file (the shipped one of the
    problem, ``kp`` for ``mkp``, by default); ``beam``: beam width (1 = greedy); ``threads``:
    torch threads while decoding; ``completion_time_limit``: seconds for completing variables
    the mapping does not name. Bad input raises :class:`OrlearnError` here, not in the solve.
    """
    from orlearn.construct import default_policy
    from orlearn.construct.model import load_model
    from orlearn.construct.problems import get_problem

    shape = assignment.layout(problem, instance, variables.keys())
    if beam < 1:
        raise OrlearnError("beam width must be at least 1")
    if threads < 1:
        raise OrlearnError("threads must be at least 1")
    if not completion_time_limit > 0:
        raise OrlearnError("completion_time_limit must be > 0 seconds")
    if model.getStage() != SCIP_STAGE.PROBLEM:
        raise OrlearnError("attach the heuristic before model.optimize()")
    model_vars = {v.ptr() for v in model.getVars()}
    stray = [k for k, v in variables.items() if not isinstance(v, pyscipopt.Variable) or v.ptr() not in model_vars]
    if stray:
        raise OrlearnError(f"{problem} variables: key {stray[0]!r} does not map to a variable of this model")
    mapped = len({v.ptr() for v in variables.values()})
    if mapped != len(variables):
        raise OrlearnError(f"{problem} variables: {len(variables) - mapped} keys share a variable")
    if mapped < model.getNVars():
        names = [v.name for v in model.getVars()]
        if len(set(names)) != len(names):
            raise OrlearnError(
                "the model has variables outside the mapping and duplicate variable names: "
                "name every variable uniquely so the heuristic can complete its solution"
            )
    # A bad policy file fails here, before the solve (the decoder loads it again in the solve).
    policy_problem = "kp" if problem == "mkp" else problem
    load_model(str(policy or default_policy(policy_problem)), get_problem(policy_problem))
    heur = ConstructiveHeuristic(
        shape, instance, variables, policy=policy, beam=beam, threads=threads,
        completion_time_limit=completion_time_limit,
    )
    model.includeHeur(  # a fresh name each time: SCIP refuses two plugins of one name
        heur, f"orlearn_construct_{next(_NAMES)}", f"constructive {problem} policy (orlearn)", "L",
        priority=priority, freq=0, maxdepth=0,
        timingmask=SCIP_HEURTIMING.BEFOREPRESOL | SCIP_HEURTIMING.BEFORENODE,
    )
    return heur
