"""orlearn: learned policies inside operations-research solvers.

The names most users need first are here: ``solve`` (one SCIP solve that also takes learned
branching rules, see :func:`orlearn.branching.plugin.solve`) and ``attach_branching`` (a learned
branching rule on any pyscipopt Model, see :mod:`orlearn.branching.plugin`). They load lazily so
that ``import orlearn`` stays cheap: it imports neither SCIP, torch nor Pyomo. Pyomo users
register ``SolverFactory("orlearn")`` with ``import orlearn.branching.pyomo``.
"""

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "solve": ("orlearn.branching.plugin", "solve"),
    "attach_branching": ("orlearn.branching.plugin", "attach_branching"),
}

__all__ = ["__version__", "attach_branching", "solve"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'orlearn' has no attribute {name!r}")
