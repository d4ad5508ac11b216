"""The imitation policy: a trained branching GNN with its policy-file metadata.

A branching policy has one shape, whatever trained it: ``name``, ``observation_function()``
(a fresh :class:`~orlearn.branching.observation.ObservationFunction` of the features it reads)
and a way to score candidates. :class:`BranchingPolicy` scores with ``scores(obs)``;
:class:`~orlearn.branching.published.PublishedPolicy` reads Ecole's features instead;
:class:`~orlearn.branching.revibranch.policy.RLBranchingPolicy` scores along the tree path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orlearn.branching.observation import (
    FEATURE_VERSION,
    Observation,
    ObservationBuilder,
    ObservationFunction,
)
from orlearn.errors import PolicyFileError

#: The policy-file kind of an imitation policy (``orlearn branching train``).
KIND = "branching"


@dataclass
class BranchingPolicy:
    """A loaded branching GNN with its policy-file metadata."""

    model: Any  # orlearn.branching.model.BranchingGNN, in eval mode
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict)
    _scorer: Any = field(default=None, init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return self.path.stem

    def observation_function(self) -> ObservationFunction:
        """A fresh observation function of the features this policy reads."""
        return ObservationBuilder()

    def scores(self, obs: Observation) -> Any:
        """Logits (torch, float32) of ``obs``'s candidates; call under ``torch.inference_mode``
        (or ``torch.no_grad``). The fast path of :class:`~orlearn.branching.scoring.NodeScorer`
        (the same function; the model's own pass when gradients are on)."""
        import torch

        return self.scorer.scores(
            torch.from_numpy(obs.cons_features), self._var_input(obs), obs.edge_index,
            obs.edge_features, obs.candidates,
        )  # fmt: skip

    def reference_scores(self, obs: Observation) -> Any:
        """The same logits through the model's own forward pass (no cache; for tests and A/B)."""
        import torch

        return self.scorer.reference(
            torch.from_numpy(obs.cons_features), self._var_input(obs), obs.edge_index,
            obs.edge_features, obs.candidates,
        )  # fmt: skip

    @property
    def scorer(self) -> Any:
        """The policy's :class:`~orlearn.branching.scoring.NodeScorer` (made at first use)."""
        if self._scorer is None:
            from orlearn.branching.scoring import NodeScorer

            self._scorer = NodeScorer(self.model)
        return self._scorer

    def _var_input(self, obs: Observation) -> Any:
        """The variable features as the model reads them."""
        import torch

        return torch.from_numpy(obs.var_features)


def imitation_policy(path: Path, payload: Any) -> BranchingPolicy:
    """The imitation policy in ``payload`` (the contents of the orlearn policy file ``path``);
    PolicyFileError for another kind, another feature version, or weights that do not fit."""
    from orlearn.branching.model import BranchingGNN
    from orlearn.policy_file import load_policy

    pf = load_policy(path, kind=KIND, feature_version=FEATURE_VERSION, payload=payload)
    try:
        model = BranchingGNN(**pf.hyperparameters)
        model.load_state_dict(pf.state_dict)
        model.load_normalization(pf.extra["normalization"])
    except Exception as exc:  # wrong keys or shapes: the file does not fit this model
        first = " ".join(str(exc).split())[:200]
        raise PolicyFileError(f"{path} does not fit this orlearn's branching GNN: {first}") from exc
    model.eval()
    return BranchingPolicy(model=model, path=path, metadata=pf.metadata)
