"""SCIP solves: one (:mod:`.scip`), many (:mod:`.batch` over :mod:`.executors`), compared
(:mod:`.metrics`), and from Pyomo (:mod:`.pyomo`).

The solver knows SCIP's own branching rules by name and nothing of learned ones: a rule it does
not know goes to a caller-given *resolver*, a module-level function ``resolve(spec, threads)``
that returns ``attach(model) -> plugin | None`` (see :mod:`.rules`). ``orlearn.branching``
provides one (:func:`orlearn.branching.plugin_for`). Shared settings presets, parameter parsing
and status maps live in :mod:`.settings`; the result record in :mod:`.result`.

Importing this package loads nothing heavy; the names below load on first use.
"""

from typing import Any

_LAZY = {
    "solve": "orlearn.solver.scip",
    "SolveResult": "orlearn.solver.result",
    "solve_batch": "orlearn.solver.batch",
    "read_results": "orlearn.solver.batch",
    "run_tasks": "orlearn.solver.executors",
    "TaskError": "orlearn.solver.executors",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orlearn.solver' has no attribute {name!r}")
