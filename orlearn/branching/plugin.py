"""Learned branching as a SCIP plugin: attach a policy to a model, and the solver's resolver.

:func:`attach_branching` includes the rule a policy spec names in a pyscipopt Model.
:func:`plugin_for` is the resolver that :mod:`orlearn.solver` takes (``resolve=plugin_for``): it
loads the policy at once (a bad spec fails before any solve, and forked batch workers inherit
the loaded policy) and returns ``attach(model) -> rule``. :func:`solve` is
:func:`orlearn.solver.scip.solve` with this resolver, for ``orlearn.solve``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orlearn.branching.loader import is_policy_spec, load_branching_policy
from orlearn.branching.rules.hybrid import apply_below, is_hybrid_spec, parse_hybrid_spec
from orlearn.errors import OrlearnError

if TYPE_CHECKING:
    import pyscipopt as scip

    from orlearn.branching.policy import BranchingPolicy
    from orlearn.branching.revibranch.policy import RLBranchingPolicy
    from orlearn.branching.rules.guarded import GuardedBranchrule
    from orlearn.solver.result import SolveResult

#: The grammar of a learned-rule spec, for error messages.
SPEC_GRAMMAR = (
    "gnn / gnn:NAME / PATH.pt / PATH.pkl (rl2branch) / hybrid[:POLICY][:depth=D][:below=RULE]"
)


def attach_branching(
    model: scip.Model,
    policy: str | Path | BranchingPolicy | RLBranchingPolicy = "gnn",
    *,
    threads: int = 1,
    maxdepth: int = -1,
) -> GuardedBranchrule:
    """Include a learned branching rule in ``model`` (before ``optimize``) and return it.

    ``policy``: ``gnn`` (shipped default), ``gnn:NAME``, a ``.pt`` path, a published rl2branch
    ``il.pkl`` path, a hybrid spec (``hybrid[:POLICY][:depth=D][:below=RULE]``, see
    :mod:`orlearn.branching.rules.hybrid`) or a loaded policy. ``threads``: torch threads for
    inference. ``maxdepth``: SCIP calls the rule at depths ``0..maxdepth`` only (-1: everywhere).
    Read ``rule.stats()`` after the solve for the learned decisions and fallbacks.
    """
    if is_hybrid_spec(policy):
        spec = parse_hybrid_spec(policy)
        rule = attach_branching(model, spec.policy, threads=threads, maxdepth=spec.depth)
        apply_below(model, spec)
        return rule
    loaded = load_branching_policy(policy)
    from orlearn.branching.revibranch.policy import RLBranchingPolicy

    if isinstance(loaded, RLBranchingPolicy):  # ReviBranch: its own rule reads the tree path
        from orlearn.branching.rules.rl import attach_rl_branching

        return attach_rl_branching(model, loaded, threads=threads, maxdepth=maxdepth)
    from orlearn.branching.memory import reuse_freed_memory
    from orlearn.branching.rules.guarded import PRIORITY
    from orlearn.branching.rules.learned import RULE_NAME, LearnedBranchrule

    rule = LearnedBranchrule(loaded, threads=threads)
    reuse_freed_memory()
    model.includeBranchrule(rule, RULE_NAME, "learned GNN branching (orlearn)", PRIORITY, maxdepth, 1.0)
    return rule


def plugin_for(spec: str, threads: int = 1) -> Callable[[scip.Model], GuardedBranchrule]:
    """The solver's resolver: ``attach(model) -> rule`` for the learned-rule ``spec``.

    Loads the policy now; OrlearnError (PolicyFileError) for a spec that is not a learned rule
    or a policy that cannot be used.
    """
    if not is_policy_spec(spec):
        from orlearn.solver.rules import builtin_rules

        raise OrlearnError(
            f"unknown branching rule '{spec}'; valid: {', '.join(builtin_rules())}, "
            f"or a learned rule {SPEC_GRAMMAR}"
        )
    load_branching_policy(spec)  # raises PolicyFileError / OrlearnError for a bad spec
    return functools.partial(_attach, spec, threads)


def _attach(spec: str, threads: int, model: scip.Model) -> GuardedBranchrule:
    return attach_branching(model, spec, threads=threads)


def solve(
    instance: Any,
    branching: str = "relpscost",
    settings: str = "default",
    params: Mapping[str, Any] | None = None,
    time_limit: float | None = None,
    seed: int = 0,
    threads: int = 1,
) -> SolveResult:
    """One SCIP solve (:func:`orlearn.solver.scip.solve`) where ``branching`` may also be a
    learned-rule spec (``gnn``, ``gnn:NAME``, a policy file, a hybrid spec)."""
    from orlearn.solver.scip import solve as scip_solve

    return scip_solve(
        instance, branching, settings, params, time_limit, seed, threads, resolve=plugin_for
    )


def solve_batch(instances: Any, rules: Any = ("relpscost",), **options: Any) -> list[SolveResult]:
    """:func:`orlearn.solver.batch.solve_batch` where a rule may also be a learned-rule spec."""
    from orlearn.solver.batch import solve_batch as batch

    return batch(instances, rules, resolve=plugin_for, **options)


def validate_rule(rule: str) -> None:
    """Raise OrlearnError (one line) unless ``rule`` is a SCIP rule or a usable learned rule."""
    from orlearn.solver.rules import validate_rule as validate

    validate(rule, plugin_for)
