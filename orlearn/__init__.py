"""orlearn: learned policies inside operations-research solvers.

The names most users need first are here: ``solve`` (one SCIP solve, see :mod:`orlearn.scip`) and
``attach_branching`` (a learned branching rule on any pyscipopt Model, see
:mod:`orlearn.branching.rule`). They load lazily so that ``import orlearn`` stays cheap; importing
orlearn also registers ``SolverFactory("orlearn")`` with Pyomo (:mod:`orlearn.pyomo`).
"""

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "solve": ("orlearn.scip", "solve"),
    "attach_branching": ("orlearn.branching.rule", "attach_branching"),
}

__all__ = ["__version__", "attach_branching", "solve"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'orlearn' has no attribute {name!r}")


from orlearn import pyomo as _pyomo_plugin  # noqa: E402,F401  (registers SolverFactory("orlearn"))
