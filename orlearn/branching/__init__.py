"""Learned branching for SCIP: observations, expert, data, GNN, training, policies and rules.

The modules follow the data flow: ``observation`` / ``ecole_observation`` (observation
functions: ``before_reset(model)`` / ``extract(model)``) -> ``expert`` -> ``collect`` /
``dataset`` -> ``model`` -> ``train`` -> ``policy`` / ``published`` / ``revibranch`` (policies)
-> ``loader`` (one loader for every policy spec) -> ``rules/`` (the SCIP rules) -> ``plugin``
(attach a rule; the solver's resolver) and ``pyomo`` (``SolverFactory("orlearn")``).

The first names load lazily, so that importing a submodule stays cheap:
``attach_branching(model, "gnn")``, ``plugin_for`` (``resolve=`` of :mod:`orlearn.solver`),
``load_branching_policy(spec)`` and ``solve`` (a SCIP solve that takes learned-rule specs).
"""

from typing import Any

_LAZY = {
    "attach_branching": "orlearn.branching.plugin",
    "plugin_for": "orlearn.branching.plugin",
    "solve": "orlearn.branching.plugin",
    "load_branching_policy": "orlearn.branching.loader",
    "is_policy_spec": "orlearn.branching.loader",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'orlearn.branching' has no attribute {name!r}")
