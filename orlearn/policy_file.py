"""One policy file format for every capability.

A policy is a torch file holding a plain dictionary (loaded with ``weights_only=True``, so a
policy file can never run code) plus a model card JSON beside it (``policy.pt`` ->
``policy.json``) that people and tools can read without torch.

Dictionary keys: ``format`` ("orlearn-policy"), ``format_version``, ``kind`` (e.g. "branching",
"construct/tsp", "ddr", "inventory"), ``feature_version`` (the capability's own version of its
inputs: a file made for another one is refused), ``hyperparameters`` (what the model class needs
to be rebuilt), ``state_dict``, ``metadata`` (training data, epochs, validation scores: JSON-able)
and ``extra`` (tensors or plain values the capability needs besides weights, e.g. normalization
statistics).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orlearn import __version__
from orlearn.errors import PolicyFileError

FORMAT = "orlearn-policy"
FORMAT_VERSION = 1


@dataclass
class PolicyFile:
    """The contents of a policy file."""

    kind: str
    feature_version: int
    hyperparameters: dict[str, Any]
    state_dict: dict[str, Any]
    metadata: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


def model_card_path(path: str | Path) -> Path:
    """The model card that sits beside a policy file."""
    return Path(path).with_suffix(".json")


def save_policy(path: str | Path, policy: PolicyFile) -> Path:
    """Write ``policy`` to ``path`` (a .pt file) and its model card beside it."""
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": policy.kind,
        "feature_version": policy.feature_version,
        "hyperparameters": policy.hyperparameters,
        "state_dict": policy.state_dict,
        "metadata": policy.metadata,
        "extra": policy.extra,
        "orlearn_version": __version__,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # never leave a half-written policy behind
    n_params = sum(int(v.numel()) for v in policy.state_dict.values() if hasattr(v, "numel"))
    card = {
        "file": path.name,
        "kind": policy.kind,
        "format_version": FORMAT_VERSION,
        "feature_version": policy.feature_version,
        "orlearn_version": __version__,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "parameters": n_params,
        "size_bytes": path.stat().st_size,
        "hyperparameters": policy.hyperparameters,
        "metadata": policy.metadata,
    }
    model_card_path(path).write_text(json.dumps(card, indent=2, default=str) + "\n")
    return path


def read_torch_file(path: str | Path, expected: str = "orlearn policy file") -> Any:
    """A torch file's contents (tensors and plain containers only: no code runs); a missing or
    unreadable file is a one-line :class:`PolicyFileError` that names what was ``expected``."""
    import warnings

    import torch

    path = Path(path)
    if not path.is_file():
        raise PolicyFileError(f"policy file not found: {path}")
    try:
        with warnings.catch_warnings():
            # torch warns about the pickle protocol of a file it is about to refuse anyway;
            # the one-line error below says all the user needs.
            warnings.filterwarnings("ignore", message="Detected pickle protocol")
            return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean the same here
        raise PolicyFileError(f"{path} is not a readable {expected} ({type(exc).__name__})") from exc


def load_policy(
    path: str | Path,
    *,
    kind: str | None = None,
    feature_version: int | None = None,
    payload: Any = None,
) -> PolicyFile:
    """Read a policy file, checking its format, kind and feature version; ``payload``: the
    file's contents when the caller has read them already (the file is then not read again).

    Raises :class:`PolicyFileError` with a one-line explanation for a missing, corrupted or
    mismatched file.
    """
    path = Path(path)
    if payload is None:
        payload = read_torch_file(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise PolicyFileError(f"{path} is not an orlearn policy file")
    if payload.get("format_version") != FORMAT_VERSION:
        raise PolicyFileError(
            f"{path} has policy-file format {payload.get('format_version')}, "
            f"this orlearn reads format {FORMAT_VERSION}"
        )
    if kind is not None and payload["kind"] != kind:
        raise PolicyFileError(f"{path} holds a '{payload['kind']}' policy, expected '{kind}'")
    if feature_version is not None and payload["feature_version"] != feature_version:
        raise PolicyFileError(
            f"{path} was made for feature version {payload['feature_version']} of '{payload['kind']}', "
            f"this orlearn uses version {feature_version}: retrain the policy"
        )
    return PolicyFile(
        kind=payload["kind"],
        feature_version=payload["feature_version"],
        hyperparameters=dict(payload["hyperparameters"]),
        state_dict=dict(payload["state_dict"]),
        metadata=dict(payload.get("metadata", {})),
        extra=dict(payload.get("extra", {})),
        path=path,
    )
