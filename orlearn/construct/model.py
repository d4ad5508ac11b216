"""The BQ-NCO policies. ``transformer`` (the default): a transformer encoder over the reduced
state's tokens and a linear head giving one logit per action; there is no decoder, the whole
network re-runs on the shrinking sub-problem at every construction step. ``perceiver``: the
paper's BQ-PerceiverIO (:mod:`orlearn.construct.perceiver`, TSP and CVRP). Policy files of
either kind, and the BQ-NCO authors' PerceiverIO checkpoints, load with :func:`load_model`."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from orlearn.construct.problems import Problem
from orlearn.errors import OrlearnError, PolicyFileError

# Defaults sized for a 2-core CPU machine (the paper's d=192 x 9 layers trained at ~6 samples/s
# on the 2-core development VM). d=128 x 4 layers keeps a training step on 128 sub-problems of <= 100 tokens
# in about a second and the policy file under 5 MB.
DEFAULTS: dict[str, Any] = {"d_model": 128, "n_layers": 4, "n_heads": 8, "d_ff": 512}
ARCHS = ("transformer", "perceiver")


class EncoderLayer(nn.Module):
    """Pre-norm transformer layer; ``bias`` (B, heads, L, L) is added to the attention scores."""

    def __init__(self, d_model: int, n_heads: int, d_ff: int) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError("d_model must be a multiple of n_heads")
        self.n_heads = n_heads
        self.norm1 = nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, d_ff), nn.GELU(), nn.Linear(d_ff, d_model))

    def forward(self, h: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
        b, length, d = h.shape
        q, k, v = (
            self.qkv(self.norm1(h)).reshape(b, length, 3, self.n_heads, d // self.n_heads)
            .permute(2, 0, 3, 1, 4)
        )
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        h = h + self.out(a.transpose(1, 2).reshape(b, length, d))
        return h + self.ff(self.norm2(h))


class BQPolicy(nn.Module):
    """Token features (B, L, F) -> masked logits (B, L * actions_per_token)."""

    def __init__(
        self,
        n_features: int,
        actions_per_token: int,
        *,
        d_model: int = 128,
        n_layers: int = 4,
        n_heads: int = 8,
        d_ff: int = 512,
        bias_channels: int = 0,
    ) -> None:
        super().__init__()
        self.actions_per_token = actions_per_token
        self.n_heads = n_heads
        self.embed = nn.Linear(n_features, d_model)
        self.layers = nn.ModuleList(EncoderLayer(d_model, n_heads, d_ff) for _ in range(n_layers))
        # Problems given by a matrix (ATSP) add a learned per-head, per-layer attention bias.
        self.bias = (
            nn.ModuleList(nn.Linear(bias_channels, n_heads) for _ in range(n_layers))
            if bias_channels
            else None
        )
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, actions_per_token)

    def forward(
        self, x: torch.Tensor, mask: torch.Tensor, bias: torch.Tensor | None = None
    ) -> torch.Tensor:
        b, length, _ = x.shape
        h = self.embed(x)
        for i, layer in enumerate(self.layers):
            attn = None
            if self.bias is not None and bias is not None:
                attn = self.bias[i](bias).permute(0, 3, 1, 2)
            h = layer(h, attn)
        logits = self.head(self.norm(h)).reshape(b, length * self.actions_per_token)
        return logits.masked_fill(~mask.reshape(b, -1), float("-inf"))

    # Large instances are decoded on the k nearest candidates by default (quadratic attention).
    auto_knn = True

    @property
    def hyperparameters(self) -> dict[str, Any]:
        layer = self.layers[0]
        return {
            "d_model": self.embed.out_features, "n_layers": len(self.layers),
            "n_heads": self.n_heads, "d_ff": layer.ff[0].out_features,
        }

    def logits(self, problem: Problem, state: Any) -> torch.Tensor:
        """Masked logits (B, L * A) on a batched state of ``problem``."""
        return self(problem.features(state), problem.mask(state), problem.attention_bias(state))


def build_model(problem: Problem, hyperparameters: dict[str, Any]) -> torch.nn.Module:
    """A policy for ``problem`` with ``hyperparameters``: ``arch`` picks the architecture
    (``transformer`` when absent); missing sizes take the architecture's defaults."""
    arch = hyperparameters.get("arch", "transformer")
    if arch == "perceiver":
        from orlearn.construct.perceiver import DEFAULTS as PERCEIVER
        from orlearn.construct.perceiver import INPUTS, PerceiverPolicy

        if problem.name not in INPUTS:
            raise OrlearnError(
                f"the perceiver architecture is defined for {', '.join(INPUTS)}, not {problem.name}"
            )
        hp = {**PERCEIVER, **{k: v for k, v in hyperparameters.items() if k in PERCEIVER}}
        return PerceiverPolicy(problem.name, **hp)
    if arch != "transformer":
        raise OrlearnError(f"unknown architecture '{arch}' (choose from {', '.join(ARCHS)})")
    hp = {**DEFAULTS, **{k: v for k, v in hyperparameters.items() if k in DEFAULTS}}
    return BQPolicy(
        problem.n_features,
        problem.actions_per_token,
        bias_channels=problem.attention_bias_channels,
        **hp,
    )


def policy_logits(model: torch.nn.Module, problem: Problem, state: Any) -> torch.Tensor:
    """Masked logits (B, L * A) of ``model`` on ``state``."""
    return model.logits(problem, state)


def load_model(path: str, problem: Problem) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load a policy for ``problem``: an orlearn policy file (shipped or trained, either
    architecture) or a BQ-NCO authors' PerceiverIO checkpoint (``*.best``), told apart by
    content. Refuses one made for another problem or model with a one-line message."""
    from orlearn.construct import bqnco
    from orlearn.policy_file import FORMAT, load_policy, read_torch_file

    payload = read_torch_file(path, "policy file: expected an orlearn policy or a BQ-NCO checkpoint")
    if bqnco.is_checkpoint(payload):
        return bqnco.load_checkpoint(payload, path, problem.name)
    if not (isinstance(payload, dict) and payload.get("format") == FORMAT):
        raise PolicyFileError(f"{path} is neither an orlearn policy file nor a BQ-NCO checkpoint")
    pf = load_policy(
        path, kind=f"construct/{problem.name}", feature_version=problem.feature_version, payload=payload
    )
    try:
        model = build_model(problem, pf.hyperparameters)
        model.load_state_dict(pf.state_dict)
    except (RuntimeError, ValueError, TypeError, OrlearnError) as exc:
        raise PolicyFileError(f"{path}: its weights do not fit this orlearn's model: retrain it") from exc
    model.eval()
    return model, pf.metadata
