"""Published imitation policies: rl2branch's Gasse GCNN state dicts (``il.pkl``) as orlearn rules.

Scavuzzo et al. (NeurIPS 2022, "Learning to branch with tree MDPs", lascavana/rl2branch) publish
``actor/<problem>/0/il.pkl``: a torch ``state_dict`` of Gasse et al.'s (2019) bipartite GCNN with
embedding 64 over Ecole's ``NodeBipartite`` observation (5 row, 1 edge, 19 column features). Its
layout: ``cons_embedding`` / ``var_embedding`` (a PreNormLayer with ``shift`` and ``scale``
buffers, then Linear-ReLU-Linear-ReLU), ``edge_embedding`` (a PreNormLayer), two half
convolutions ``conv_v_to_c`` and ``conv_c_to_v`` (``feature_module_left`` / ``_edge`` /
``_right`` Linears summed per edge, ``feature_module_final`` = scale, ReLU, Linear, the sum over
edges scaled by ``post_conv_module``, then ``output_module`` over [sum, target]) and an
``output_module`` giving one logit per variable. A PreNormLayer computes ``(x + shift) * scale``.

:func:`load_rl2branch_policy` maps such a dict onto :class:`~orlearn.branching.model.BranchingGNN`
(post-convolution scaling ``"scale"``; the pre-ReLU scale, positive, folds into the closing Linear,
as ``BipartiteConv`` documents), so the same function runs with orlearn's fast scoring path. The
policy reads :class:`~orlearn.branching.ecole_observation.NodeBipartite`; missing incumbent values
(NaN) become 0 before normalisation, as rl2branch's model does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from orlearn.branching.ecole_observation import (
    CONS_FEATURES,
    EDGE_FEATURES,
    VAR_FEATURES,
    NodeBipartite,
)
from orlearn.branching.model import BranchingGNN
from orlearn.branching.observation import Observation
from orlearn.branching.policy import BranchingPolicy
from orlearn.errors import PolicyFileError

FORMAT = "rl2branch"

_CONV = (
    "feature_module_left.0.weight", "feature_module_left.0.bias", "feature_module_edge.0.weight",
    "feature_module_right.0.weight", "feature_module_final.0.scale", "feature_module_final.2.weight",
    "feature_module_final.2.bias", "post_conv_module.0.scale", "output_module.0.weight",
    "output_module.0.bias", "output_module.2.weight", "output_module.2.bias",
)  # fmt: skip
#: Every key of an rl2branch GNNPolicy state dict.
KEYS = frozenset(
    [f"{side}_embedding.0.{b}" for side in ("cons", "edge", "var") for b in ("shift", "scale")]
    + [f"{side}_embedding.{i}.{p}" for side in ("cons", "var") for i in (1, 3) for p in ("weight", "bias")]
    + [f"{conv}.{k}" for conv in ("conv_v_to_c", "conv_c_to_v") for k in _CONV]
    + ["output_module.0.weight", "output_module.0.bias", "output_module.2.weight"]
)


def is_rl2branch_state_dict(payload: Any) -> bool:
    """True for a mapping with exactly the keys of rl2branch's GNNPolicy."""
    return isinstance(payload, Mapping) and set(payload) == KEYS


@dataclass
class PublishedPolicy(BranchingPolicy):
    """A loaded rl2branch policy: reads Ecole's observation, scores like any BranchingPolicy."""

    @property
    def name(self) -> str:
        return f"{self.path.parent.name}/{self.path.stem}"  # e.g. setcover/il

    def observation_function(self) -> NodeBipartite:
        return NodeBipartite()

    def _var_input(self, obs: Observation) -> Any:
        """The column features with NaN (no incumbent yet) read as 0, as in rl2branch."""
        return torch.nan_to_num(torch.from_numpy(obs.var_features), nan=0.0)


def gnn_from_rl2branch(state: Mapping[str, torch.Tensor]) -> BranchingGNN:
    """The :class:`BranchingGNN` computing the same logits as rl2branch's GNNPolicy ``state``."""
    emb = int(state["output_module.0.weight"].shape[0])
    n_cons, n_var = int(state["cons_embedding.1.weight"].shape[1]), int(state["var_embedding.1.weight"].shape[1])
    n_edge = int(state["conv_v_to_c.feature_module_edge.0.weight"].shape[1])
    expected = (len(CONS_FEATURES), len(VAR_FEATURES), len(EDGE_FEATURES))
    if (n_cons, n_var, n_edge) != expected:
        raise ValueError(f"features (rows, columns, edges) {(n_cons, n_var, n_edge)}, Ecole's are {expected}")
    gnn = BranchingGNN(emb=emb, n_cons=n_cons, n_var=n_var, n_edge=n_edge, post="scale")
    sd: dict[str, torch.Tensor] = {}
    for ours, theirs in (("embed_c", "cons_embedding"), ("embed_v", "var_embedding")):
        for i_ours, i_theirs in ((0, 1), (2, 3)):
            for p in ("weight", "bias"):
                sd[f"{ours}.{i_ours}.{p}"] = state[f"{theirs}.{i_theirs}.{p}"]
    for conv in ("conv_v_to_c", "conv_c_to_v"):
        pre = state[f"{conv}.feature_module_final.0.scale"]
        if not bool((pre > 0).all()):
            raise ValueError(f"{conv}: a non-positive pre-activation scale cannot be folded")
        sd[f"{conv}.left.weight"] = state[f"{conv}.feature_module_left.0.weight"]
        sd[f"{conv}.left.bias"] = state[f"{conv}.feature_module_left.0.bias"]
        sd[f"{conv}.edge.weight"] = state[f"{conv}.feature_module_edge.0.weight"]
        sd[f"{conv}.right.weight"] = state[f"{conv}.feature_module_right.0.weight"]
        # Linear(ReLU(s z)) = (s W) ReLU(z) + b for s > 0.
        sd[f"{conv}.final.weight"] = state[f"{conv}.feature_module_final.2.weight"] * pre
        sd[f"{conv}.final.bias"] = state[f"{conv}.feature_module_final.2.bias"]
        sd[f"{conv}.post.scale"] = state[f"{conv}.post_conv_module.0.scale"].reshape(1)
        for i in (0, 2):
            for p in ("weight", "bias"):
                sd[f"{conv}.out.{i}.{p}"] = state[f"{conv}.output_module.{i}.{p}"]
    sd["head.0.weight"] = state["output_module.0.weight"]
    sd["head.0.bias"] = state["output_module.0.bias"]
    sd["head.2.weight"] = state["output_module.2.weight"]
    gnn.load_state_dict({k: v.float() for k, v in sd.items()})
    # PreNorm (x + shift) * scale is Standardize (x - mean) / std with mean = -shift, std = 1/scale.
    for side, theirs in (("c", "cons"), ("v", "var"), ("e", "edge")):
        shift = state[f"{theirs}_embedding.0.shift"].float()
        scale = state[f"{theirs}_embedding.0.scale"].float()
        gnn.load_normalization({f"{side}_mean": -shift, f"{side}_std": 1.0 / scale})
    return gnn.eval()


def load_rl2branch_policy(path: Path, state: Mapping[str, torch.Tensor]) -> PublishedPolicy:
    """The policy of an rl2branch state dict read from ``path``; PolicyFileError if it does not fit."""
    try:
        gnn = gnn_from_rl2branch(state)
    except Exception as exc:  # wrong shapes or values: not a policy this loader can run
        first = " ".join(str(exc).split())[:200]
        raise PolicyFileError(f"{path} has rl2branch's layout but does not fit Gasse's GCNN: {first}") from exc
    return PublishedPolicy(model=gnn, path=path, metadata={"format": FORMAT, "observation": NodeBipartite.name})
