"""What the SCIP and Pyomo paths share: settings presets, SCIP parameter parsing and checks,
and the map from SCIP's statuses to orlearn's.

One place, so that ``orlearn.solver.scip.solve`` and the Pyomo plugin accept the same presets
and parameters and report the same statuses.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from typing import Any

from orlearn.errors import OrlearnError

#: Settings presets: SCIP parameters applied before the user's own ``params``.
SETTINGS: dict[str, dict[str, Any]] = {
    # SCIP as shipped.
    "default": {},
    # The setting of the learned-branching literature (Gasse et al. 2019): cutting planes at the
    # root node only and no restarts, so the tree search (where branching acts) does the work.
    "gasse": {"separating/maxrounds": 0, "presolving/maxrestarts": 0},
}

#: SCIP status -> orlearn status.
STATUS = {
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


def orlearn_status(scip_status: str) -> str:
    """orlearn's name of a SCIP status (an unknown one passes through unchanged)."""
    return STATUS.get(scip_status, scip_status)


@functools.lru_cache(maxsize=1)
def default_params() -> dict[str, Any]:
    """Every SCIP parameter with its default value (in the SCIP that pyscipopt embeds)."""
    import pyscipopt

    model = pyscipopt.Model()
    model.hideOutput()
    return dict(model.getParams())


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


def _pairs(items: Mapping[str, Any] | list[str]) -> list[tuple[str, Any]]:
    if isinstance(items, Mapping):
        return list(items.items())
    pairs = []
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise OrlearnError(f"--param takes name=value, got '{item}'")
        pairs.append((name.strip(), value.strip()))
    return pairs


def parse_params(items: Mapping[str, Any] | list[str] | None) -> dict[str, Any]:
    """Check SCIP parameter names and values; returns them typed.

    ``items`` is a mapping ``{name: value}`` or a list of ``"name=value"`` strings (the CLI's
    ``--param``); string values are converted to the parameter's type. An unknown name or a value
    SCIP refuses raises OrlearnError.
    """
    if not items:
        return {}
    pairs = _pairs(items)
    defaults = default_params()
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


def apply_settings(
    model: Any, settings: str, params: Mapping[str, Any], time_limit: float | None
) -> None:
    """Set the preset ``settings``, then the (typed) ``params`` and the time limit on ``model``."""
    for key, value in {**SETTINGS[settings], **params}.items():
        model.setParam(key, value)
    if time_limit is not None:
        model.setParam("limits/time", float(time_limit))
