"""The ReviBranch branching rule: a pyscipopt ``Branchrule`` driven by a :class:`RevivedQNet`.

At each node with a solved LP it builds the observation (its policy's observation function:
:class:`~orlearn.branching.observation.ObservationBuilder`, or Ecole's NodeBipartite for a network trained
from a published ``il.pkl``), encodes it once with the frozen GNN,
gathers the revived trajectory (the state and action embeddings it remembered for the
decisions on the node's search-tree path, found by walking SCIP's parent links) and branches on
the candidate with the highest KL-regularised score ``lambda log pi_0 + Q``
(:meth:`~orlearn.branching.revibranch.policy.RevivedQNet.scores`). With ``epsilon > 0``, at that
rate it instead samples a candidate from the KL-regularised policy
``pi(a) ~ pi_0(a) exp((Q(a) - V) / lambda)`` (exploration while collecting episodes): the
exploratory choices are ones the imitation prior finds plausible, which keeps exploratory
trees near the size of the prior's (uniform exploration picked hopeless candidates at the top
of the tree and made the episodes explode) and spends the data where the trust region allows
the policy to move. With ``record`` it
keeps a :class:`Decision` per node for the learner.

Like every learned rule (:mod:`orlearn.branching.rules.guarded`), whatever goes wrong at a node
makes it return DIDNOTRUN, so SCIP's next rule (relpscost) branches there; the fallback is
counted by reason and the solve goes on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyscipopt as scip
import torch

from orlearn.branching.revibranch.policy import RLBranchingPolicy, load_rl_policy
from orlearn.branching.rules.guarded import PRIORITY, GuardedBranchrule
from orlearn.errors import OrlearnError

RULE_NAME = "orlearn-revibranch"


@dataclass
class Decision:
    """One branching decision and, once the solve is over, its consequences.

    ``node``/``parent``: SCIP node numbers of the decision and of the nearest recorded decision
    above it (-1: none). ``state`` (2 emb) and ``cand`` (n_cands x emb, float16) are the encoded
    observation; ``candidates`` the candidates' graph columns; ``action`` the index of the chosen
    candidate; ``lp_bound`` the node's LP value (SCIP's transformed, minimising objective);
    ``children`` the node numbers SCIP created. Consequences (filled by
    :func:`orlearn.branching.revibranch.episode.attach_consequences`): processed nodes and LP
    iterations in the decision's subtree and those charged to the decision itself, and
    ``gain``, the share of the node's gap closed by its children's dual bounds (0..1).
    """

    node: int
    parent: int
    depth: int
    state: np.ndarray
    cand: np.ndarray
    candidates: np.ndarray
    action: int
    variable: str
    lp_bound: float
    children: tuple[int, ...]
    explored: bool = False
    subtree_nodes: int = 0
    subtree_lp: int = 0
    local_nodes: int = 0
    local_lp: int = 0
    gain: float = 0.0


class RevivedBranchrule(GuardedBranchrule):
    """Branches on the best score (or explores); remembers the path embeddings per node."""

    def __init__(
        self, policy: RLBranchingPolicy, *, epsilon: float = 0.0, seed: int = 0,
        threads: int = 1, record: bool = False,
    ) -> None:  # fmt: skip
        if not 0.0 <= epsilon <= 1.0:
            raise OrlearnError(f"epsilon must be in [0, 1], got {epsilon}")
        super().__init__(policy, threads)
        self.net = policy.net
        self.epsilon = epsilon
        self.rng = np.random.default_rng(seed)
        self.record = record
        self.memory: dict[int, tuple[Any, Any, int]] = {}  # node -> (state, action emb, depth)
        self.decisions: list[Decision] = []
        self.explored = 0
        self.seconds = 0.0

    def path(self, node: Any) -> tuple[int, list[tuple[Any, Any, int]]]:
        """The nearest remembered decision above ``node`` (-1: none) and up to ``max_path``
        remembered (state, action, depth) triples on its path, root first."""
        parent, ancestors = -1, []
        p = node.getParent()
        while p is not None and len(ancestors) < self.net.max_path:
            entry = self.memory.get(p.getNumber())
            if entry is not None:
                if parent < 0:
                    parent = p.getNumber()
                ancestors.append(entry)
            p = p.getParent()
        ancestors.reverse()
        return parent, ancestors

    def _branch(self) -> dict:
        # inference_mode rather than no_grad: no autograd bookkeeping on the many small tensor
        # operations of a node (about a tenth of a decision's time on cauctions/small), the
        # same numbers and the same trees.
        with torch.inference_mode():
            return self._decide()

    def _decide(self) -> dict:
        model = self.model
        t0 = time.perf_counter()
        obs = self._observe()
        if isinstance(obs, dict):
            return obs
        n = len(obs.candidate_vars)
        node = model.getCurrentNode()
        depth = node.getDepth()
        parent, ancestors = self.path(node)
        cand, state = self.net.encode(obs)
        q = self.net.node_scores(cand, state, depth, ancestors)
        if q.shape[0] != n or not bool(torch.isfinite(q).all()):
            return self._fallback("nan_scores")
        action = int(q.argmax())
        explored = self.epsilon > 0 and self.rng.random() < self.epsilon
        if explored:
            p = torch.softmax(q.double() / self.net.prior_weight, 0).numpy()
            action = int(self.rng.choice(n, p=p / p.sum()))
            self.explored += 1
        lp_bound = model.getLPObjVal()
        children = model.branchVar(obs.candidate_vars[action])
        self.memory[node.getNumber()] = (state, cand[action], depth)
        if self.record:
            self.decisions.append(
                Decision(
                    node=node.getNumber(), parent=parent, depth=depth,
                    state=state.numpy().astype(np.float32),
                    cand=cand.numpy().astype(np.float16),
                    candidates=obs.candidates.copy(), action=action,
                    variable=obs.candidate_vars[action].name, lp_bound=float(lp_bound),
                    children=tuple(c.getNumber() for c in children if c is not None),
                    explored=explored,
                )
            )  # fmt: skip
        self.learned_calls += 1
        self.seconds += time.perf_counter() - t0
        return {"result": scip.SCIP_RESULT.BRANCHED}

    def stats(self) -> dict[str, Any]:
        """The shared counts plus exploratory decisions and time per decision in ms."""
        return super().stats() | {
            "explored": self.explored,
            "decision_ms": round(1e3 * self.seconds / max(self.learned_calls, 1), 3),
        }


def attach_rl_branching(
    model: scip.Model, policy: str | Path | RLBranchingPolicy, *, threads: int = 1,
    epsilon: float = 0.0, seed: int = 0, record: bool = False, maxdepth: int = -1,
) -> RevivedBranchrule:  # fmt: skip
    """Include a ReviBranch rule in ``model`` (before ``optimize``) and return it.

    ``policy``: a ``branching-rl`` policy file or a loaded :class:`RLBranchingPolicy`.
    ``maxdepth``: SCIP calls the rule at depths ``0..maxdepth`` only (-1: everywhere).
    """
    if not isinstance(policy, RLBranchingPolicy):
        policy = load_rl_policy(policy)
    rule = RevivedBranchrule(policy, epsilon=epsilon, seed=seed, threads=threads, record=record)
    model.includeBranchrule(rule, RULE_NAME, "ReviBranch RL branching (orlearn)", PRIORITY, maxdepth, 1.0)
    return rule
