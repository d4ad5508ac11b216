"""Where branching policies come from, and the one loader.

A *policy spec* is ``gnn`` (the shipped default), ``gnn:NAME`` (shipped), a path to an orlearn
policy file (``.pt``: imitation or ReviBranch) or to a published rl2branch state dict
(``.pkl``), or a hybrid spec (``hybrid[:POLICY][:depth=D][:below=RULE]``, whose policy is
loaded). :func:`is_policy_spec` is the one place that says what is a spec;
:func:`load_branching_policy` reads the file once and dispatches on what it holds.

Shipped policies live in ``policies/branching/`` at the top of the orlearn source tree, each a
``NAME.pt`` with its model card ``NAME.json``; the environment variable
``ORLEARN_BRANCHING_POLICIES`` points elsewhere (e.g. for an installed wheel).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orlearn.branching.rules.hybrid import is_hybrid_spec, parse_hybrid_spec
from orlearn.errors import PolicyFileError
from orlearn.shipped import shipped_path

if TYPE_CHECKING:
    from orlearn.branching.policy import BranchingPolicy
    from orlearn.branching.revibranch.policy import RLBranchingPolicy

DEFAULT_POLICY = "mixed"

_CACHE: dict[tuple[str, int], Any] = {}


def shipped_dir() -> Path:
    """The directory of the shipped branching policies."""
    env = os.environ.get("ORLEARN_BRANCHING_POLICIES")
    if env:
        return Path(env)
    return shipped_path("policies", "branching")


def shipped_policies() -> list[str]:
    """Names of the shipped policies (``gnn:NAME``), sorted."""
    d = shipped_dir()
    return sorted(p.stem for p in d.glob("*.pt")) if d.is_dir() else []


def is_policy_spec(spec: object) -> bool:
    """True for ``gnn``, ``gnn:NAME``, a path ending in ``.pt`` (an orlearn policy) or ``.pkl``
    (a published rl2branch state dict, e.g. ``il.pkl``), and a hybrid spec."""
    if not isinstance(spec, str | Path):
        return False
    s = str(spec)
    return s == "gnn" or s.startswith("gnn:") or s.endswith((".pt", ".pkl")) or is_hybrid_spec(s)


def resolve_policy_path(spec: str | Path) -> Path:
    """The policy file a spec names; raises :class:`PolicyFileError` for an unknown name."""
    s = str(spec)
    if s == "gnn" or s.startswith("gnn:"):
        name = DEFAULT_POLICY if s == "gnn" else s[len("gnn:") :]
        path = shipped_dir() / f"{name.replace('/', '_')}.pt"
        if not path.is_file():
            known = ", ".join(f"gnn:{n}" for n in shipped_policies()) or "none"
            raise PolicyFileError(f"no shipped branching policy '{name}' (shipped: {known})")
        return path
    path = Path(s).expanduser()
    if not path.is_file():
        raise PolicyFileError(f"policy file not found: {path}")
    return path


def load_branching_policy(
    spec: str | Path | BranchingPolicy | RLBranchingPolicy,
) -> BranchingPolicy | RLBranchingPolicy:
    """Load a policy spec (see the module docstring), told apart by the file's contents: an
    rl2branch state dict, an orlearn ``branching-rl`` (ReviBranch) or ``branching`` (imitation)
    policy. A loaded policy is returned as it is.

    Raises :class:`~orlearn.errors.PolicyFileError` for a missing, corrupted, unrecognised or
    mismatched file (another kind, another feature version), OrlearnError for a malformed hybrid
    spec. Loaded policies are cached per file (path and modification time).
    """
    if not isinstance(spec, str | Path):
        return spec
    if is_hybrid_spec(spec):
        spec = parse_hybrid_spec(spec).policy
    path = resolve_policy_path(spec).resolve()
    key = (str(path), path.stat().st_mtime_ns)
    if key not in _CACHE:
        _CACHE[key] = _load_file(path)
    return _CACHE[key]


def _load_file(path: Path) -> BranchingPolicy | RLBranchingPolicy:
    """Read ``path`` once and build the policy its contents describe."""
    from orlearn.branching.policy import imitation_policy
    from orlearn.branching.published import is_rl2branch_state_dict, load_rl2branch_policy
    from orlearn.branching.revibranch.policy import KIND as RL_KIND
    from orlearn.branching.revibranch.policy import rl_policy
    from orlearn.policy_file import FORMAT, read_torch_file

    payload = read_torch_file(
        path, "policy file: expected an orlearn policy or an rl2branch GCNN state dict (il.pkl, mdp.pkl, tmdp+*.pkl)"
    )
    if is_rl2branch_state_dict(payload):
        return load_rl2branch_policy(path, payload)
    if not (isinstance(payload, dict) and payload.get("format") == FORMAT):
        raise PolicyFileError(
            f"{path} is neither an orlearn policy file nor an rl2branch GCNN state dict (il.pkl, mdp.pkl, tmdp+*.pkl)"
        )
    if payload.get("kind") == RL_KIND:  # trained by `orlearn branching train-rl`
        return rl_policy(path, payload)
    return imitation_policy(path, payload)
