"""Hybrid branching: a learned policy near the root, SCIP's pseudocosts deeper down.

A network's decision costs a few milliseconds (observation + inference), which pays where a
decision matters most and where SCIP's own rules know least: at shallow depths, before any
pseudocost is reliable, where relpscost strong-branches on many candidates. Deeper down, SCIP's
pseudocost-based rules decide. The pseudocosts they use are seeded by the network's branchings:
SCIP updates a variable's pseudocost from the LP gains of the children of every branching on it,
whichever rule made that branching (``SCIPbranchVar`` records a branching bound change; the
children's LP solves update the history), so below the cut-off pscost starts from the network's
observations instead of from nothing, and relpscost counts them towards its reliability
threshold (tested in ``tests/branching/rules/test_hybrid.py``).

Spec grammar (the ``policy`` / ``-b`` argument)::

    hybrid[:POLICY][:depth=D][:below=RULE]

``POLICY`` is any learned-rule spec (``gnn``, ``gnn:NAME``, a policy file path; default
``gnn``); ``depth=D`` (an integer >= 0, default :data:`DEFAULT_DEPTH`) makes the network branch
at depths 0..D only (SCIP's ``maxdepth`` of the rule: it is not even called deeper);
``below=RULE`` names the SCIP rule that branches deeper down and wherever the network declines
a node (default ``relpscost``, whose reliability counts include the network's branchings, so it
strong-branches less; ``pscost`` never strong-branches). Examples: ``hybrid``, ``hybrid:gnn:setcover:depth=6``,
``hybrid:my_policy.pt:depth=4:below=pscost``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from orlearn.errors import OrlearnError

if TYPE_CHECKING:
    import pyscipopt as scip

PREFIX = "hybrid"
#: Deepest node the network branches at, and SCIP's rule below it, by default: the best of
#: depths 1/3/5 x pscost/relpscost under SCIP's default settings in ``scripts/hybrid_cutoff.py``
#: (validation instances; docs/branching.md, "Hybrid rule").
DEFAULT_DEPTH = 1
DEFAULT_BELOW = "relpscost"
DEFAULT_POLICY = "gnn"
_KEYS = ("depth", "below")


@dataclass(frozen=True)
class HybridSpec:
    """A parsed hybrid spec: the network ``policy`` at depths ``0..depth``, ``below`` deeper."""

    policy: str = DEFAULT_POLICY
    depth: int = DEFAULT_DEPTH
    below: str = DEFAULT_BELOW

    def __str__(self) -> str:
        return f"{PREFIX}:{self.policy}:depth={self.depth}:below={self.below}"


def is_hybrid_spec(spec: object) -> bool:
    """True for ``hybrid`` and anything starting with ``hybrid:``."""
    return isinstance(spec, str | Path) and (str(spec) == PREFIX or str(spec).startswith(PREFIX + ":"))


def parse_hybrid_spec(spec: str | Path) -> HybridSpec:
    """Parse ``hybrid[:POLICY][:depth=D][:below=RULE]``; raises OrlearnError (one line) for a
    malformed spec. The policy itself is not loaded here."""
    text = str(spec)
    if not is_hybrid_spec(text):
        raise OrlearnError(f"not a hybrid branching spec: '{text}' (expected hybrid[:POLICY][:depth=D][:below=RULE])")
    parts = text.split(":")[1:]
    n_policy = 0
    while n_policy < len(parts) and "=" not in parts[n_policy]:
        n_policy += 1
    # The policy may itself hold colons (gnn:setcover, a Windows path): rejoin its parts.
    policy = ":".join(parts[:n_policy]) or DEFAULT_POLICY
    options: dict[str, str] = {}
    for part in parts[n_policy:]:
        key, sep, value = part.partition("=")
        if not sep:
            raise OrlearnError(f"hybrid spec '{text}': options go after the policy, got '{part}' after an option")
        if key not in _KEYS:
            raise OrlearnError(f"hybrid spec '{text}': unknown option '{key}' (valid: {', '.join(_KEYS)})")
        if key in options:
            raise OrlearnError(f"hybrid spec '{text}': option '{key}' given twice")
        options[key] = value
    if is_hybrid_spec(policy):
        raise OrlearnError(f"hybrid spec '{text}': the policy cannot itself be a hybrid")
    depth = DEFAULT_DEPTH
    if "depth" in options:
        try:
            depth = int(options["depth"])
        except ValueError:
            depth = -1
        if depth < 0:
            raise OrlearnError(f"hybrid spec '{text}': depth must be an integer >= 0, got '{options['depth']}'")
    below = options.get("below", DEFAULT_BELOW)
    from orlearn.solver.rules import builtin_rules

    if below not in builtin_rules():
        raise OrlearnError(
            f"hybrid spec '{text}': below must be a SCIP branching rule ({', '.join(builtin_rules())}), got '{below}'"
        )
    return HybridSpec(policy=policy, depth=depth, below=below)


def apply_below(model: scip.Model, spec: HybridSpec) -> None:
    """Give ``spec.below`` the priority just under the learned rule's, so SCIP calls it at every
    node deeper than the cut-off and wherever the network declines a node (the user's other
    rule priorities stay as they are). The learned rule itself is attached with SCIP's
    ``maxdepth`` set to the cut-off (:func:`orlearn.branching.plugin.attach_branching`)."""
    from orlearn.branching.rules.guarded import PRIORITY

    model.setParam(f"branching/{spec.below}/priority", PRIORITY - 1)
