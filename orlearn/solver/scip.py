"""One SCIP solve: read, configure, attach the branching rule, optimize, record.

``solve(instance, branching="relpscost", settings="gasse", time_limit=60)`` reads an MPS/LP file
(or takes a ready ``pyscipopt.Model``), applies a settings preset, free SCIP parameters and a
branching rule, optimizes, and returns a :class:`~orlearn.solver.result.SolveResult`: the one
record format every solve in orlearn produces (one JSON line per solve in batch result files).

Branching rules: SCIP's own rules are chosen by name; the chosen rule gets the highest priority
so SCIP calls it first. Any other name goes to ``resolve`` (see :mod:`orlearn.solver.rules`),
e.g. ``resolve=orlearn.branching.plugin_for`` for learned rules.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orlearn.errors import OrlearnError
from orlearn.solver.result import SolveResult
from orlearn.solver.rules import Attach, Resolver, resolve_rule
from orlearn.solver.settings import (
    apply_settings,
    orlearn_status,
    parse_params,
    validate_settings,
    validate_time_limit,
)

if TYPE_CHECKING:
    import pyscipopt

log = logging.getLogger(__name__)


def solve(
    instance: str | Path | pyscipopt.Model,
    branching: str = "relpscost",
    settings: str = "default",
    params: Mapping[str, Any] | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    threads: int = 1,
    *,
    resolve: Resolver | None = None,
    catch_ctrlc: bool = True,
) -> SolveResult:
    """Solve one MILP with SCIP and report what happened.

    ``instance``: an MPS/LP file (plain or .gz) or a ``pyscipopt.Model`` (solved in place).
    ``branching``: a SCIP rule name (see :func:`~orlearn.solver.rules.builtin_rules`) or a spec
    that ``resolve`` turns into a rule (``threads``: threads that rule may use).
    ``settings``: a preset name from :data:`~orlearn.solver.settings.SETTINGS`; ``params`` SCIP
    parameters on top of it. ``time_limit``: seconds of SCIP solving time (None: none).
    ``seed``: SCIP's random seed shift. ``catch_ctrlc``: SCIP stops on Ctrl-C (batch workers
    leave Ctrl-C to their parent).

    Bad input (missing or unreadable file, empty model, unknown rule/parameter/preset, a time limit
    <= 0) raises OrlearnError; an infeasible or unbounded instance is a result with that status.
    """
    import pyscipopt  # noqa: F401 - loaded before the clock starts (fresh workers)

    from orlearn.milp.io import read_model  # noqa: F401 - likewise

    start = time.perf_counter()
    validate_settings(settings)
    validate_time_limit(time_limit)
    typed = parse_params(params)
    attach = resolve_rule(branching, resolve, threads)
    model, name = _read(instance)
    apply_settings(model, settings, typed, time_limit)
    model.setParam("randomization/randomseedshift", int(seed))
    model.setParam("misc/catchctrlc", catch_ctrlc)
    result = _optimize(model, attach)
    result.update(
        instance=name, rule=branching, settings=settings, params=typed, seed=int(seed),
        time_limit=None if time_limit is None else float(time_limit),
        wall_time=time.perf_counter() - start,
    )  # fmt: skip
    return SolveResult(**result)


def _read(instance: str | Path | pyscipopt.Model) -> tuple[pyscipopt.Model, str]:
    """The model to solve (read from a file, or given) and its name; empty models are refused."""
    import pyscipopt

    from orlearn.milp.io import read_model

    if isinstance(instance, pyscipopt.Model):
        model, name = instance, instance.getProbName()
    else:
        model, name = read_model(Path(instance)), str(instance)
    if model.getNVars() == 0:
        raise OrlearnError(f"{name}: empty model (no variables)")
    model.hideOutput()
    return model, name


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) or abs(value) >= 1e20 else value


def _optimize(model: pyscipopt.Model, attach: Attach) -> dict[str, Any]:
    """Attach the rule, optimize, and read what a SolveResult records about the solve."""
    rule = attach(model)
    message = ""
    if model.getNVars() > 0 and all(v.vtype() == "CONTINUOUS" for v in model.getVars()):
        message = "no integer variables: an LP, solved without branching"
    model.optimize()
    has_solution = model.getNSols() > 0
    primal = _finite(model.getPrimalbound()) if has_solution else None
    dual = _finite(model.getDualbound())
    gap = _finite(model.getGap()) if primal is not None and dual is not None else None
    try:
        integral = _finite(model.getPrimalDualIntegral())
    except Exception:  # noqa: BLE001 - statistics unavailable when the solve stopped early
        integral = None
    return {
        "status": orlearn_status(model.getStatus()),
        "solving_time": model.getSolvingTime(),
        "nodes": int(model.getNNodes()),
        "lp_iterations": int(model.getNLPIterations()),
        "primal_bound": primal,
        "dual_bound": dual,
        "gap": gap,
        "primal_dual_integral": integral,
        "branching_stats": dict(rule.stats()) if rule is not None else {},
        "message": message,
        "scip_version": str(model.version()),
    }
