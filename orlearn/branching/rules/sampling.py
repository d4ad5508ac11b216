"""The data-collection rule (Gasse et al. 2019): at a node, with probability ``expert_prob``,
record the observation and the expert's (strong branching) scores and branch on its choice;
otherwise decline, so that SCIP's next rule (pseudo costs, in collection) branches there."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

import numpy as np
import pyscipopt as scip

from orlearn.branching.expert import ExpertError, strong_branching_scores
from orlearn.branching.observation import ObservationBuilder

if TYPE_CHECKING:
    from orlearn.branching.dataset import ShardWriter

log = logging.getLogger(__name__)


class SamplingBranchrule(scip.Branchrule):
    """Queries the expert with probability ``expert_prob`` and branches on its choice."""

    def __init__(self, writer: ShardWriter, expert_prob: float, seed: int) -> None:
        self.writer = writer
        self.expert_prob = expert_prob
        self.rng = np.random.default_rng(seed)
        self.builder = ObservationBuilder()
        self.expert_calls = 0
        self.expert_seconds = 0.0
        self.failures = 0

    def branchexeclp(self, allowaddcons: bool) -> dict:
        if self.rng.random() >= self.expert_prob:
            return {"result": scip.SCIP_RESULT.DIDNOTRUN}
        try:
            t0 = time.perf_counter()
            obs = self.builder(self.model)
            if len(obs.candidate_vars) == 0:
                return {"result": scip.SCIP_RESULT.DIDNOTRUN}
            scores = strong_branching_scores(self.model, obs.candidate_vars)
            self.expert_seconds += time.perf_counter() - t0
            self.expert_calls += 1
            if not np.all(np.isfinite(scores)):
                raise ExpertError("non-finite strong-branching score")
            node = self.model.getCurrentNode()
            self.writer.add(obs, scores, depth=node.getDepth(), node=node.getNumber())
            self.model.branchVar(obs.candidate_vars[int(np.argmax(scores))])
            return {"result": scip.SCIP_RESULT.BRANCHED}
        except Exception as exc:  # never let one node end the episode: pscost takes over
            self.failures += 1
            log.debug("expert failed at a node: %s", exc)
            return {"result": scip.SCIP_RESULT.DIDNOTRUN}

    def branchexecps(self, allowaddcons: bool) -> dict:
        return {"result": scip.SCIP_RESULT.DIDNOTRUN}

    def branchexecext(self, allowaddcons: bool) -> dict:
        return {"result": scip.SCIP_RESULT.DIDNOTRUN}
