"""Where branching policies come from: ``gnn`` (the shipped default), ``gnn:NAME``, or a path.

Shipped policies live in ``policies/branching/`` at the top of the orlearn source tree, each a
``NAME.pt`` with its model card ``NAME.json``; the environment variable
``ORLEARN_BRANCHING_POLICIES`` points elsewhere (e.g. for an installed wheel).
"""

from __future__ import annotations

import os
from pathlib import Path

from orlearn.errors import PolicyFileError
from orlearn.shipped import shipped_path

DEFAULT_POLICY = "mixed"


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


def is_policy_spec(spec: str | Path) -> bool:
    """True for ``gnn``, ``gnn:NAME`` and any path ending in ``.pt`` or ``.pkl`` (rl2branch)."""
    s = str(spec)
    return s == "gnn" or s.startswith("gnn:") or s.endswith((".pt", ".pkl"))


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
