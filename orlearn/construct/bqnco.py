"""Reading the BQ-NCO authors' PerceiverIO checkpoints (``{tsp,cvrp}_perceiver.best`` from
naver/bq-nco, branch ``perceiver``, directory ``pretrained_models/``; licence CC BY-NC-SA 4.0).

Such a file is a ``torch.save`` dictionary whose ``net`` entry is the state dict of the authors'
model. The hyper-parameters are read off the tensor shapes, the names are mapped onto
:class:`orlearn.construct.perceiver.PerceiverPolicy`, and anything that does not fit is refused
with a one-line message naming what was expected.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import torch

from orlearn.construct.perceiver import INPUTS, PerceiverPolicy
from orlearn.errors import PolicyFileError

LICENCE = "CC BY-NC-SA 4.0"
ORIGIN = (
    "BQ-NCO PerceiverIO checkpoint by Drakulic et al. (NeurIPS 2023), naver/bq-nco, "
    "branch perceiver, pretrained_models/"
)

# Authors' parameter names inside an attention block -> ours (see perceiver.py).
_BLOCK = {
    "attn.lambda1": "attn.key", "attn.lambda2": "attn.query", "attn.theta1": "attn.value",
    "attn.theta2": "attn.out", "attn.bias_lambda": "attn.key_bias",
    "attn.bias_theta": "attn.value_bias",
    "layer_norm1.weight": "norm_source.weight", "layer_norm1.bias": "norm_source.bias",
    "layer_norm2.weight": "norm_target.weight", "layer_norm2.bias": "norm_target.bias",
    "layer_norm3.weight": "norm_ff.weight", "layer_norm3.bias": "norm_ff.bias",
    "linear1.weight": "ff.0.weight", "linear1.bias": "ff.0.bias",
    "linear2.weight": "ff.2.weight", "linear2.bias": "ff.2.bias",
}
_TOP = {
    "latent_array": "latents", "begin_end_tokens.weight": "markers.weight",
    "input_emb.weight": "embed.weight", "input_emb.bias": "embed.bias",
    "scores_projection.weight": "head.weight", "scores_projection.bias": "head.bias",
}
_PREFIX = {"encoder.": "encode.", "decoder.": "decode."}


def is_checkpoint(payload: Any) -> bool:
    """True for a loaded BQ-NCO PerceiverIO checkpoint (a dict whose ``net`` has a latent array)."""
    return isinstance(payload, dict) and isinstance(payload.get("net"), dict) and (
        "latent_array" in payload["net"]
    )


def map_name(name: str) -> str | None:
    """Our parameter name for one of the authors' (``None`` if it is not part of the model)."""
    if name in _TOP:
        return _TOP[name]
    m = re.fullmatch(r"layers\.(\d+)\.(.+)", name)
    if m and m.group(2) in _BLOCK:
        return f"process.{m.group(1)}.{_BLOCK[m.group(2)]}"
    for theirs, ours in _PREFIX.items():
        if name.startswith(theirs) and name[len(theirs):] in _BLOCK:
            return ours + _BLOCK[name[len(theirs):]]
    return None


def _describe(problem: str) -> str:
    f, a = INPUTS[problem]
    return f"{problem} ({f} input features, {a} score{'s' if a > 1 else ''} per node)"


def hyperparameters(net: dict[str, torch.Tensor], path: str | Path) -> dict[str, int]:
    """The model sizes read off the checkpoint's tensor shapes."""
    try:
        _, latent_len, latent_dim = net["latent_array"].shape
        d_model = net["input_emb.weight"].shape[0]
        n_heads = net["encoder.attn.lambda1"].shape[0]
        d_ff = net["encoder.linear1.weight"].shape[0]
    except (KeyError, ValueError) as exc:
        raise PolicyFileError(f"{path}: incomplete BQ-NCO checkpoint (no {exc})") from exc
    layers = {int(m.group(1)) for k in net if (m := re.match(r"layers\.(\d+)\.", k))}
    return {
        "d_model": int(d_model), "n_layers": len(layers), "n_heads": int(n_heads),
        "d_ff": int(d_ff), "latent_len": int(latent_len), "latent_dim": int(latent_dim),
    }


def load_checkpoint(
    payload: dict[str, Any], path: str | Path, problem: str
) -> tuple[PerceiverPolicy, dict[str, Any]]:
    """Build a :class:`PerceiverPolicy` for ``problem`` from a loaded checkpoint ``payload``."""
    net = payload["net"]
    shape = (
        int(net["input_emb.weight"].shape[1]) if "input_emb.weight" in net else None,
        int(net["scores_projection.weight"].shape[0]) if "scores_projection.weight" in net else None,
    )
    made_for = next((p for p, io in INPUTS.items() if io == shape), None)
    if problem not in INPUTS:
        raise PolicyFileError(
            f"{path} is a BQ-NCO PerceiverIO checkpoint; such checkpoints exist for "
            f"{' and '.join(INPUTS)} only, not {problem}"
        )
    if shape != INPUTS[problem]:
        held = _describe(made_for) if made_for else f"{shape[0]} input features, {shape[1]} scores per node"
        raise PolicyFileError(
            f"{path} is a BQ-NCO PerceiverIO checkpoint for {held}; "
            f"--problem {problem} needs one for {_describe(problem)}"
        )
    hp = hyperparameters(net, path)
    try:
        model = PerceiverPolicy(problem, **hp)
    except ValueError as exc:
        raise PolicyFileError(f"{path}: {exc}") from exc
    expected = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    for name, tensor in net.items():
        ours = map_name(name)
        if ours is None:
            raise PolicyFileError(f"{path}: unexpected tensor '{name}' in a BQ-NCO checkpoint")
        if ours not in expected or tuple(tensor.shape) != tuple(expected[ours].shape):
            want = tuple(expected[ours].shape) if ours in expected else "none"
            raise PolicyFileError(
                f"{path}: tensor '{name}' has shape {tuple(tensor.shape)}, expected {want} "
                f"for a BQ-perceiver of {hp}"
            )
        mapped[ours] = tensor.float()
    missing = sorted(set(expected) - set(mapped))
    if missing:
        raise PolicyFileError(f"{path}: BQ-NCO checkpoint lacks {len(missing)} tensors, e.g. '{missing[0]}'")
    model.load_state_dict(mapped)
    model.eval()
    meta = {
        "problem": problem,
        "origin": ORIGIN,
        "source_file": Path(path).name,
        "source_sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        "licence": LICENCE,
        # Trained on 100-node instances (the paper); used by decoding defaults only.
        "config": {"n": 100, "arch": "perceiver"},
    }
    return model, meta


def to_checkpoint(model: PerceiverPolicy) -> dict[str, Any]:
    """The authors' layout of ``model``'s weights (the inverse of the name map), e.g. for tests
    and for using an orlearn-trained perceiver with the authors' code."""
    return {
        "net": {_theirs(k): v.detach().clone() for k, v in model.state_dict().items()},
        "optimizer": None, "current_iter": None, "other": None,
    }


def _theirs(ours: str) -> str:
    for theirs, mine in _TOP.items():
        if mine == ours:
            return theirs
    m = re.fullmatch(r"process\.(\d+)\.(.+)", ours)
    prefix, rest = (f"layers.{m.group(1)}.", m.group(2)) if m else next(
        (t, ours[len(o):]) for t, o in _PREFIX.items() if ours.startswith(o)
    )
    return prefix + next(t for t, o in _BLOCK.items() if o == rest)
