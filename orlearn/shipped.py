"""Where orlearn's shipped data lives: the instance sets (``instances/``) and trained policies
(``policies/``).

In a source checkout (or an editable install) they sit beside the package; an installed wheel
carries them in ``<prefix>/share/orlearn/`` (pyproject's ``data-files``). ``ORLEARN_DATA`` names
another root holding ``instances/`` and ``policies/``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_SOURCE_ROOT = Path(__file__).resolve().parents[1]
_INSTALLED_ROOT = Path(sys.prefix) / "share" / "orlearn"


def shipped_root() -> Path:
    """The folder that holds ``instances/`` and ``policies/``."""
    env = os.environ.get("ORLEARN_DATA")
    if env:
        return Path(env)
    if (_SOURCE_ROOT / "policies").is_dir() or not _INSTALLED_ROOT.is_dir():
        return _SOURCE_ROOT
    return _INSTALLED_ROOT


def shipped_path(*parts: str) -> Path:
    """A path under the shipped root, e.g. ``shipped_path("policies", "branching")``."""
    return shipped_root().joinpath(*parts)
