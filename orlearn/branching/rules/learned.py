"""The imitation rule: branches on the candidate with the highest logit of a trained GNN.

At each node with a solved LP it builds the observation, runs the GNN (no gradients, one torch
thread unless told otherwise) and branches on the best candidate; a failed node falls back to
SCIP's next rule (:class:`~orlearn.branching.rules.guarded.GuardedBranchrule`).
"""

from __future__ import annotations

import time
from typing import Any

import pyscipopt as scip

from orlearn.branching.policy import BranchingPolicy
from orlearn.branching.rules.guarded import GuardedBranchrule

#: The rule's name in SCIP.
RULE_NAME = "orlearn-gnn"


class LearnedBranchrule(GuardedBranchrule):
    """Branches on the GNN's best candidate; falls back to SCIP's next rule at a failed node."""

    def __init__(self, policy: BranchingPolicy, threads: int = 1) -> None:
        super().__init__(policy, threads)
        self.observations = 0
        self.inferences = 0
        self.observation_seconds = 0.0
        self.inference_seconds = 0.0
        scorer = getattr(policy, "scorer", None)
        if scorer is not None:
            scorer.warm_up()  # torch's one-time set-up before the solve, not at its first node

    def branchexitsol(self) -> None:
        super().branchexitsol()
        scorer = getattr(self.policy, "scorer", None)
        if scorer is not None:
            scorer.release()  # the solve's edge cache (a few MB) goes with it

    def _branch(self) -> dict:
        import torch

        t0 = time.perf_counter()
        obs = self._observe()
        t1 = time.perf_counter()
        if isinstance(obs, dict):
            return obs
        self.observation_seconds += t1 - t0
        self.observations += 1
        n = len(obs.candidate_vars)
        # inference_mode rather than no_grad: no version counters or autograd metadata on the
        # forward pass's ~100 small tensors (~5 % of a set cover node's inference).
        with torch.inference_mode():
            scores = self.policy.scores(obs)
        self.inference_seconds += time.perf_counter() - t1
        self.inferences += 1
        if scores.shape[0] != n or not bool(torch.isfinite(scores).all()):
            return self._fallback("nan_scores")
        self.model.branchVar(obs.candidate_vars[int(scores.argmax())])
        self.learned_calls += 1
        return {"result": scip.SCIP_RESULT.BRANCHED}

    def stats(self) -> dict[str, Any]:
        """The shared counts plus observation and inference time per call in ms."""
        return super().stats() | {
            "observation_ms": round(1e3 * self.observation_seconds / max(self.observations, 1), 3),
            "inference_ms": round(1e3 * self.inference_seconds / max(self.inferences, 1), 3),
        }
