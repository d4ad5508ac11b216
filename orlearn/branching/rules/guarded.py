"""What every learned branching rule shares: a node where anything fails goes to SCIP.

A learned rule is a pyscipopt ``Branchrule`` that asks its policy's observation function
(``before_reset`` at the start of a solve, ``extract`` at a node) for the node's observation and
branches on the policy's choice. Whatever goes wrong at a node (no optimal LP, an exception, a
non-finite score, a candidate without a graph column) makes the rule return DIDNOTRUN, so SCIP's
next rule by priority (its default, relpscost) branches there instead; the fallback is counted by
reason and the solve goes on.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

import pyscipopt as scip

from orlearn.branching.observation import Observation, ObservationFunction
from orlearn.errors import OrlearnError

log = logging.getLogger(__name__)

#: Above every SCIP rule's default priority (relpscost: 10000), so the learned rule goes first.
PRIORITY = 1_000_000


class GuardedBranchrule(scip.Branchrule):
    """What every learned rule shares: a node where anything fails (no LP solution, an
    exception, ...) goes to SCIP's next rule (DIDNOTRUN) and is counted by reason, so a policy
    never crashes a solve; torch runs on ``threads`` threads during the solve. Subclasses
    implement ``_branch`` and extend ``stats``."""

    def __init__(self, policy: Any, threads: int = 1) -> None:
        """``policy``: anything with ``name`` and ``observation_function()``."""
        import torch

        if threads < 1:
            raise OrlearnError(f"threads must be at least 1, got {threads}")
        self._torch = torch  # kept: exitsol may run while Python shuts down (no imports then)
        self.policy = policy
        self.threads = threads
        # The features the policy was trained on (orlearn's own, or Ecole's for published ones).
        self.builder: ObservationFunction = policy.observation_function()
        self.calls = 0
        self.learned_calls = 0
        self.fallbacks: Counter[str] = Counter()
        self._torch_threads: int | None = None

    def branchinitsol(self) -> None:
        self.builder.before_reset(self.model)  # a new solve: nothing cached is valid
        if self._torch_threads is None:
            self._torch_threads = self._torch.get_num_threads()

    def branchexitsol(self) -> None:
        if self._torch_threads is not None:
            try:
                self._torch.set_num_threads(self._torch_threads)
            except Exception:  # at interpreter exit nothing is left to restore
                pass
            self._torch_threads = None

    def branchexeclp(self, allowaddcons: bool) -> dict:
        self.calls += 1
        try:
            # Torch's thread count is process-wide and other code (another model's rule freed by
            # the garbage collector, the user) may change it: check at every node. Idle OpenMP
            # threads spin, which on a busy machine made a forward pass 20x slower.
            if self._torch.get_num_threads() != self.threads:
                self._torch.set_num_threads(self.threads)
            return self._branch()
        except Exception as exc:  # a policy never crashes a solve
            log.debug("learned branching failed at a node: %r", exc)
            return self._fallback("exception")

    def branchexecps(self, allowaddcons: bool) -> dict:
        return self._fallback("no_lp")

    def branchexecext(self, allowaddcons: bool) -> dict:
        return self._fallback("external_candidates")

    def _observe(self) -> Observation | dict:
        """The node's observation, or the fallback result when the node cannot be scored."""
        model = self.model
        if model.getLPSolstat() != scip.SCIP_LPSOLSTAT.OPTIMAL:
            return self._fallback("no_lp")
        obs = self.builder.extract(model)
        if len(obs.candidate_vars) == 0:
            return self._fallback("no_candidates")
        if (obs.candidates < 0).any() or (obs.candidates >= obs.n_vars).any():
            return self._fallback("candidate_missing")
        return obs

    def _branch(self) -> dict:
        raise NotImplementedError

    def _fallback(self, reason: str) -> dict:
        self.fallbacks[reason] += 1
        return {"result": scip.SCIP_RESULT.DIDNOTRUN}

    def stats(self) -> dict[str, Any]:
        """Calls, learned decisions and fallbacks (total and by reason)."""
        return {
            "policy": self.policy.name,
            "calls": self.calls,
            "learned_calls": self.learned_calls,
            "fallbacks": sum(self.fallbacks.values()),
            "fallback_reasons": dict(self.fallbacks),
        }
