"""One SCIP solve: settings presets, branching rules by name, the result record, status mapping.

``solve(instance, branching="relpscost", settings="gasse", time_limit=60)`` reads an MPS/LP file
(or takes a ready ``pyscipopt.Model``), applies a settings preset, free SCIP parameters and a
branching rule, optimizes, and returns a :class:`SolveResult`: the one record format every solve in
orlearn produces (one JSON line per solve in batch result files).

Branching rules: SCIP's own rules are chosen by name; the chosen rule gets the highest priority so
SCIP calls it first (the others keep their priorities and act only when it declines a node). A name
that is ``gnn``, starts with ``gnn:`` or ends in ``.pt`` is a learned rule from orlearn.branching;
``hybrid[:POLICY][:depth=D][:below=RULE]`` is the network near the root and a SCIP rule deeper.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orlearn import __version__
from orlearn.errors import OrlearnError

if TYPE_CHECKING:
    import pyscipopt

log = logging.getLogger(__name__)

#: Version of the SolveResult record; bumped when a field changes meaning or disappears.
SCHEMA_VERSION = 1

#: Settings presets: SCIP parameters applied before the user's own ``params``.
SETTINGS: dict[str, dict[str, Any]] = {
    # SCIP as shipped.
    "default": {},
    # The setting of the learned-branching literature (Gasse et al. 2019): cutting planes at the
    # root node only and no restarts, so the tree search (where branching acts) does the work.
    "gasse": {"separating/maxrounds": 0, "presolving/maxrestarts": 0},
}

# SCIP's largest branching-rule priority; giving it to the chosen rule makes SCIP try it first.
_TOP_PRIORITY = 536870911
# Rules that exist in SCIP but cannot serve as the branching rule of a plain MILP solve.
_NOT_SELECTABLE = {"nodereopt"}  # only acts during reoptimization

#: SCIP status -> orlearn status.
_STATUS = {
    "optimal": "optimal",
    "infeasible": "infeasible",
    "unbounded": "unbounded",
    "inforunbd": "infeasible_or_unbounded",
    "timelimit": "time_limit",
    "nodelimit": "node_limit",
    "totalnodelimit": "node_limit",
    "stallnodelimit": "node_limit",
    "gaplimit": "gap_limit",
    "sollimit": "solution_limit",
    "bestsollimit": "solution_limit",
    "primallimit": "objective_limit",
    "duallimit": "objective_limit",
    "memlimit": "memory_limit",
    "restartlimit": "restart_limit",
    "userinterrupt": "interrupted",
    "terminate": "interrupted",
    "unknown": "unknown",
}
#: Statuses that settle the instance (a proven answer).
SOLVED_STATUSES = frozenset({"optimal", "infeasible", "unbounded", "infeasible_or_unbounded"})


@dataclass
class SolveResult:
    """What one solve did. Times in seconds; bounds in the objective of the instance as read.

    ``primal_bound``/``dual_bound``/``gap`` are None when infinite (no solution, no bound).
    ``gap`` is SCIP's relative gap |primal - dual| / min(|primal|, |dual|).
    ``primal_dual_integral`` is SCIP's primal-dual integral: the primal-dual gap in percent
    integrated over solving time (percent x seconds; smaller is better).
    ``wall_time`` covers reading, set-up and solving, measured in the process that solved;
    ``solving_time`` is SCIP's own solving clock (wall clock, presolving included).
    """

    instance: str
    rule: str
    settings: str = "default"
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    time_limit: float | None = None
    status: str = "error"
    wall_time: float = 0.0
    solving_time: float = 0.0
    nodes: int = 0
    lp_iterations: int = 0
    primal_bound: float | None = None
    dual_bound: float | None = None
    gap: float | None = None
    primal_dual_integral: float | None = None
    branching_stats: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    # An error caused by the input (an unreadable instance file, an unusable policy), as opposed
    # to a crash or a timeout: the command line then exits 2, as for any other bad input.
    bad_input: bool = False
    orlearn_version: str = __version__
    scip_version: str = ""
    schema: int = SCHEMA_VERSION

    @property
    def solved(self) -> bool:
        """True when the solve proved its answer (optimal, infeasible or unbounded)."""
        return self.status in SOLVED_STATUSES

    def key(self) -> tuple[str, str, str, str, int, float | None]:
        """What identifies the solve in a result file: instance, rule, settings, params, seed, limit."""
        return result_key(
            self.instance, self.rule, self.settings, self.params, self.seed, self.time_limit
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dictionary (the record written as one JSON line)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SolveResult:
        """Rebuild a result from :meth:`to_dict` output; unknown keys (newer schema) are ignored."""
        names = {f.name for f in fields(cls)}
        if "instance" not in data or "rule" not in data:
            raise ValueError("not a solve result: 'instance' or 'rule' missing")
        return cls(**{k: v for k, v in data.items() if k in names})


def result_key(
    instance: str,
    rule: str,
    settings: str,
    params: Mapping[str, Any] | None,
    seed: int,
    time_limit: float | None,
) -> tuple[str, str, str, str, int, float | None]:
    """The identity of a solve, used to skip finished work when a batch resumes."""
    limit = None if time_limit is None else float(time_limit)
    return (
        str(instance),
        rule,
        settings,
        json.dumps(dict(params or {}), sort_keys=True),
        int(seed),
        limit,
    )


# ---------------------------------------------------------------------------------------------
# validation (cheap; runs in the parent before a batch starts)


@functools.lru_cache(maxsize=1)
def _default_params() -> dict[str, Any]:
    import pyscipopt

    model = pyscipopt.Model()
    model.hideOutput()
    return dict(model.getParams())


@functools.lru_cache(maxsize=1)
def builtin_rules() -> tuple[str, ...]:
    """Names of SCIP's branching rules in the SCIP that pyscipopt embeds (sorted)."""
    names = {
        key.split("/")[1]
        for key in _default_params()
        if key.startswith("branching/") and key.endswith("/priority") and key.count("/") == 2
    }
    return tuple(sorted(names - _NOT_SELECTABLE))


def is_learned_rule(rule: str) -> bool:
    """True for a learned-rule spec: ``gnn``, ``gnn:NAME``, a path ending in ``.pt`` (an orlearn
    policy) or ``.pkl`` (a published rl2branch state dict, e.g. ``il.pkl``), or a hybrid spec
    (``hybrid``, ``hybrid:...``)."""
    return (
        rule in ("gnn", "hybrid")
        or rule.startswith(("gnn:", "hybrid:"))
        or rule.endswith((".pt", ".pkl"))
    )


def validate_rule(rule: str) -> None:
    """Raise OrlearnError (one line, listing the valid names) unless ``rule`` can be used."""
    if rule in builtin_rules():
        return
    if is_learned_rule(rule):
        try:
            from orlearn.branching.rule import load_branching_policy
        except ImportError as exc:
            raise OrlearnError(
                f"learned branching rule '{rule}' is unavailable: orlearn.branching cannot be "
                f"imported ({exc})"
            ) from exc
        load_branching_policy(rule)  # raises PolicyFileError / OrlearnError for a bad spec
        return
    raise OrlearnError(
        f"unknown branching rule '{rule}'; valid: {', '.join(builtin_rules())}, "
        "or a learned rule gnn / gnn:NAME / PATH.pt / PATH.pkl (rl2branch) / "
        "hybrid[:POLICY][:depth=D][:below=RULE]"
    )


def validate_settings(settings: str) -> None:
    """Raise OrlearnError unless ``settings`` names a preset."""
    if settings not in SETTINGS:
        raise OrlearnError(f"unknown settings '{settings}'; valid: {', '.join(SETTINGS)}")


def validate_time_limit(time_limit: float | None) -> None:
    """Raise OrlearnError for a zero, negative or non-finite time limit (None means no limit)."""
    if time_limit is None:
        return
    if not isinstance(time_limit, int | float) or not math.isfinite(time_limit) or time_limit <= 0:
        raise OrlearnError(f"time limit must be a positive number of seconds, got {time_limit}")


def _parse_value(name: str, text: str, default: Any) -> Any:
    """Convert ``text`` to the type of SCIP parameter ``name`` (its default is ``default``)."""
    try:
        if isinstance(default, bool):
            low = text.strip().lower()
            if low in {"true", "1", "yes", "on"}:
                return True
            if low in {"false", "0", "no", "off"}:
                return False
            raise ValueError(text)
        if isinstance(default, int):
            return int(text)
        if isinstance(default, float):
            return float(text)
    except ValueError:
        kind = type(default).__name__
        raise OrlearnError(f"SCIP parameter {name} takes a {kind}, got '{text}'") from None
    return text


def parse_params(items: Mapping[str, Any] | list[str] | None) -> dict[str, Any]:
    """Check SCIP parameter names and values; returns them typed.

    ``items`` is a mapping ``{name: value}`` or a list of ``"name=value"`` strings (the CLI's
    ``--param``); string values are converted to the parameter's type. An unknown name or a value
    SCIP refuses raises OrlearnError.
    """
    if not items:
        return {}
    pairs: list[tuple[str, Any]] = []
    if isinstance(items, Mapping):
        pairs = list(items.items())
    else:
        for item in items:
            name, sep, value = item.partition("=")
            if not sep or not name.strip():
                raise OrlearnError(f"--param takes name=value, got '{item}'")
            pairs.append((name.strip(), value.strip()))
    defaults = _default_params()
    import pyscipopt

    probe = pyscipopt.Model()
    probe.hideOutput()
    typed: dict[str, Any] = {}
    for name, value in pairs:
        if name not in defaults:
            close = [k for k in defaults if k.rsplit("/", 1)[-1] == name.rsplit("/", 1)[-1]][:3]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise OrlearnError(f"unknown SCIP parameter '{name}'{hint}")
        if isinstance(value, str):
            value = _parse_value(name, value, defaults[name])
        try:
            probe.setParam(name, value)
        except (ValueError, TypeError, LookupError) as exc:
            raise OrlearnError(f"SCIP refuses {name}={value}: {exc}") from None
        typed[name] = value
    return typed


# ---------------------------------------------------------------------------------------------
# solving


def _finite(value: float) -> float | None:
    return None if value is None or not math.isfinite(value) or abs(value) >= 1e20 else value


def solve(
    instance: str | Path | pyscipopt.Model,
    branching: str = "relpscost",
    settings: str = "default",
    params: Mapping[str, Any] | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    threads: int = 1,
) -> SolveResult:
    """Solve one MILP with SCIP and report what happened.

    ``instance``: an MPS/LP file (plain or .gz) or a ``pyscipopt.Model`` (solved in place).
    ``branching``: a SCIP rule name (see :func:`builtin_rules`) or a learned rule spec.
    ``settings``: a preset name from :data:`SETTINGS`; ``params`` SCIP parameters on top of it.
    ``time_limit``: seconds of SCIP solving time (None: none). ``seed``: SCIP's random seed shift.
    ``threads``: threads a learned rule may use for inference.

    Bad input (missing or unreadable file, empty model, unknown rule/parameter/preset, a time limit
    <= 0) raises OrlearnError; an infeasible or unbounded instance is a result with that status.
    """
    return _solve(instance, branching, settings, params, time_limit, seed, threads)


def _solve(
    instance: str | Path | pyscipopt.Model,
    branching: str,
    settings: str,
    params: Mapping[str, Any] | None,
    time_limit: float | None,
    seed: int,
    threads: int,
    *,
    catch_ctrlc: bool = True,
) -> SolveResult:
    import pyscipopt

    from orlearn.milp.io import read_model  # imported before the clock starts (fresh workers)

    start = time.perf_counter()
    validate_settings(settings)
    validate_time_limit(time_limit)
    typed = parse_params(params)
    learned = is_learned_rule(branching)
    if not learned and branching not in builtin_rules():
        validate_rule(branching)  # raises with the list of valid names

    if isinstance(instance, pyscipopt.Model):
        model = instance
        name = model.getProbName()
    else:
        name = str(instance)
        model = read_model(Path(instance))
    if model.getNVars() == 0:
        raise OrlearnError(f"{name}: empty model (no variables)")

    model.hideOutput()
    for key, value in {**SETTINGS[settings], **typed}.items():
        model.setParam(key, value)
    model.setParam("randomization/randomseedshift", int(seed))
    model.setParam("misc/catchctrlc", catch_ctrlc)
    if time_limit is not None:
        model.setParam("limits/time", float(time_limit))

    rule = None
    if learned:
        try:
            from orlearn.branching.rule import attach_branching
        except ImportError as exc:
            raise OrlearnError(
                f"learned branching rule '{branching}' is unavailable: orlearn.branching cannot "
                f"be imported ({exc})"
            ) from exc
        rule = attach_branching(model, branching, threads=threads)
    else:
        model.setParam(f"branching/{branching}/priority", _TOP_PRIORITY)

    message = ""
    if model.getNVars() > 0 and all(v.vtype() == "CONTINUOUS" for v in model.getVars()):
        message = "no integer variables: an LP, solved without branching"

    model.optimize()

    scip_status = model.getStatus()
    status = _STATUS.get(scip_status, scip_status)
    has_solution = model.getNSols() > 0
    primal = _finite(model.getPrimalbound()) if has_solution else None
    dual = _finite(model.getDualbound())
    gap = _finite(model.getGap()) if primal is not None and dual is not None else None
    try:
        integral = _finite(model.getPrimalDualIntegral())
    except Exception:  # noqa: BLE001 - statistics unavailable when the solve stopped early
        integral = None
    return SolveResult(
        instance=name,
        rule=branching,
        settings=settings,
        params=typed,
        seed=int(seed),
        time_limit=None if time_limit is None else float(time_limit),
        status=status,
        wall_time=time.perf_counter() - start,
        solving_time=model.getSolvingTime(),
        nodes=int(model.getNNodes()),
        lp_iterations=int(model.getNLPIterations()),
        primal_bound=primal,
        dual_bound=dual,
        gap=gap,
        primal_dual_integral=integral,
        branching_stats=dict(rule.stats()) if rule is not None else {},
        message=message,
        scip_version=str(model.version()),
    )
