"""Saving and loading trained inventory policies in orlearn's one policy-file format."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from orlearn.inventory.policies import build_policy
from orlearn.inventory.settings import Setting, load_setting
from orlearn.policy_file import PolicyFile, load_policy, save_policy

#: bumped whenever the observation features change, so that old files are refused
FEATURE_VERSION = 1


def save_inventory_policy(
    path: str | Path, policy: nn.Module, name: str, setting: Setting,
    hyperparameters: dict[str, Any], metadata: dict[str, Any] | None = None,
) -> Path:
    """Write ``policy`` (built as ``name`` with ``hyperparameters`` for ``setting``)."""
    return save_policy(
        path,
        PolicyFile(
            kind=f"inventory/{name}",
            feature_version=FEATURE_VERSION,
            hyperparameters={
                "policy": name, "setting": setting.name, "overrides": setting.overrides, "model": hyperparameters,
            },
            state_dict={k: v.detach().cpu() for k, v in policy.state_dict().items()},
            metadata=metadata or {},
        ),
    )


def load_inventory_policy(path: str | Path) -> tuple[nn.Module, Setting, PolicyFile]:
    """Rebuild a saved policy and the setting it was trained on."""
    from orlearn.errors import PolicyFileError

    file = load_policy(path, feature_version=FEATURE_VERSION)
    if not file.kind.startswith("inventory/"):
        raise PolicyFileError(f"{path} holds a '{file.kind}' policy, not an inventory policy")
    hp = file.hyperparameters
    setting = load_setting(hp["setting"], hp.get("overrides") or {})
    policy = build_policy(hp["policy"], setting.observer(), **hp.get("model", {}))
    try:
        policy.load_state_dict(file.state_dict)
    except RuntimeError as exc:
        raise PolicyFileError(f"{path} does not fit the network of setting '{setting.name}': retrain it") from exc
    return policy, setting, file
