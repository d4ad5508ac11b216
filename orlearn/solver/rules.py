"""Branching rules as the solver sees them: SCIP's own by name, anything else via a resolver.

A *resolver* is a module-level function ``resolve(spec: str, threads: int) -> attach`` (module
level so that it pickles by name into batch workers); it raises OrlearnError for a spec it cannot
use, and ``attach(model)`` includes the rule in a pyscipopt Model before ``optimize`` and returns
the plugin (anything with ``stats() -> dict``) or None. The solver never imports the code behind
a resolver: whoever composes (the CLI, a script, ``orlearn.branching``) hands it in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from orlearn.errors import OrlearnError
from orlearn.solver.settings import default_params

# SCIP's largest branching-rule priority; giving it to the chosen rule makes SCIP try it first.
TOP_PRIORITY = 536870911
# Rules that exist in SCIP but cannot serve as the branching rule of a plain MILP solve.
_NOT_SELECTABLE = {"nodereopt"}  # only acts during reoptimization


class Plugin(Protocol):
    """What an attached rule gives back: its statistics after the solve."""

    def stats(self) -> dict[str, Any]: ...


Attach = Callable[[Any], Plugin | None]


class Resolver(Protocol):
    """``resolve(spec, threads)``: the attach callable of a rule spec, or OrlearnError."""

    def __call__(self, spec: str, threads: int = 1) -> Attach: ...


@functools.lru_cache(maxsize=1)
def builtin_rules() -> tuple[str, ...]:
    """Names of SCIP's branching rules in the SCIP that pyscipopt embeds (sorted)."""
    names = {
        key.split("/")[1]
        for key in default_params()
        if key.startswith("branching/") and key.endswith("/priority") and key.count("/") == 2
    }
    return tuple(sorted(names - _NOT_SELECTABLE))


def _unknown(rule: str) -> OrlearnError:
    return OrlearnError(f"unknown branching rule '{rule}'; valid: {', '.join(builtin_rules())}")


def resolve_rule(rule: str, resolve: Resolver | None, threads: int = 1) -> Attach:
    """The attach callable of ``rule``: a SCIP rule gets the top priority (SCIP calls it first;
    the others keep their priorities and act only when it declines a node); any other name goes
    to ``resolve``. Raises OrlearnError for a name neither knows."""
    if rule in builtin_rules():
        return functools.partial(_prioritize, rule)
    if resolve is None:
        raise _unknown(rule)
    return resolve(rule, threads)


def validate_rule(rule: str, resolve: Resolver | None = None) -> None:
    """Raise OrlearnError (one line) unless ``rule`` can be used (the resolver loads its policy)."""
    resolve_rule(rule, resolve)


def _prioritize(rule: str, model: Any) -> None:
    model.setParam(f"branching/{rule}/priority", TOP_PRIORITY)
