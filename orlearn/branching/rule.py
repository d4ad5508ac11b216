"""The learned branching rule: a pyscipopt ``Branchrule`` driven by a trained GNN.

At each node with a solved LP it builds the observation, runs the GNN (no gradients, one torch
thread unless told otherwise) and branches on the candidate with the highest logit. Whatever goes
wrong at a node (no optimal LP, an exception, a non-finite logit, a candidate without a graph
column) makes the rule return DIDNOTRUN, so SCIP's next rule by priority (its default,
relpscost) branches there instead; the fallback is counted by reason and the solve goes on.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyscipopt as scip

from orlearn.branching.observation import (
    FEATURE_VERSION,
    Observation,
    ObservationBuilder,
    ObservationFunction,
)
from orlearn.branching.policies import resolve_policy_path
from orlearn.errors import OrlearnError

if TYPE_CHECKING:
    from orlearn.branching.revibranch.policy import RLBranchingPolicy
    from orlearn.branching.revibranch.rule import RevivedBranchrule

log = logging.getLogger(__name__)

KIND = "branching"
#: Above every SCIP rule's default priority (relpscost: 10000), so the learned rule goes first.
PRIORITY = 1_000_000

_CACHE: dict[tuple[str, int], BranchingPolicy | RLBranchingPolicy] = {}


@dataclass
class BranchingPolicy:
    """A loaded branching GNN with its policy-file metadata."""

    model: Any  # orlearn.branching.model.BranchingGNN, in eval mode
    path: Path
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    def observation_function(self) -> ObservationFunction:
        """A fresh observation function of the features this policy reads."""
        return ObservationBuilder()

    def scores(self, obs: Observation) -> Any:
        """Logits (torch, float32) of ``obs``'s candidates; call under ``torch.inference_mode``
        (or ``torch.no_grad``)."""
        import torch

        from orlearn.branching.model import BipartiteData

        data = BipartiteData(
            x_c=torch.from_numpy(obs.cons_features),
            x_v=torch.from_numpy(obs.var_features),
            edge_index=torch.from_numpy(obs.edge_index),
            edge_attr=torch.from_numpy(obs.edge_features),
        )
        return self.model(data, torch.from_numpy(obs.candidates))


def load_branching_policy(spec: str | Path | BranchingPolicy | RLBranchingPolicy) -> BranchingPolicy | RLBranchingPolicy:
    """Load ``gnn`` (shipped default), ``gnn:NAME`` (shipped) or a file: an orlearn imitation
    policy, a ReviBranch policy (kind ``branching-rl``), or a published rl2branch state dict
    (``il.pkl``, see :mod:`orlearn.branching.published`), told apart by their contents. A hybrid
    spec (``hybrid[:POLICY][:depth=D][:below=RULE]``, see :mod:`orlearn.branching.hybrid`) is
    parsed and loads the policy it names.

    Raises :class:`~orlearn.errors.PolicyFileError` for a missing, corrupted, unrecognised or
    mismatched file (another kind, another feature version), OrlearnError for a malformed hybrid
    spec. Loaded policies are cached per file.
    """
    from orlearn.branching.hybrid import is_hybrid_spec, parse_hybrid_spec
    from orlearn.branching.revibranch.policy import KIND as RL_KIND
    from orlearn.branching.revibranch.policy import RLBranchingPolicy, load_rl_policy

    if isinstance(spec, BranchingPolicy | RLBranchingPolicy):
        return spec
    if is_hybrid_spec(spec):
        spec = parse_hybrid_spec(spec).policy
    from orlearn.branching.model import BranchingGNN
    from orlearn.branching.published import is_rl2branch_state_dict, load_rl2branch_policy
    from orlearn.errors import PolicyFileError
    from orlearn.policy_file import FORMAT as POLICY_FORMAT
    from orlearn.policy_file import load_policy, read_torch_file

    path = resolve_policy_path(spec).resolve()
    key = (str(path), path.stat().st_mtime_ns)
    if key in _CACHE:
        return _CACHE[key]
    payload = read_torch_file(
        path, "policy file: expected an orlearn policy or an rl2branch GCNN state dict (il.pkl)"
    )
    if is_rl2branch_state_dict(payload):
        _CACHE[key] = load_rl2branch_policy(path, payload)
        return _CACHE[key]
    if not (isinstance(payload, dict) and payload.get("format") == POLICY_FORMAT):
        raise PolicyFileError(
            f"{path} is neither an orlearn policy file nor an rl2branch GCNN state dict (il.pkl)"
        )
    if payload.get("kind") == RL_KIND:  # trained by `orlearn train branching-rl`
        _CACHE[key] = load_rl_policy(path)
        return _CACHE[key]
    pf = load_policy(path, kind=KIND, feature_version=FEATURE_VERSION, payload=payload)
    try:
        model = BranchingGNN(**pf.hyperparameters)
        model.load_state_dict(pf.state_dict)
        model.load_normalization(pf.extra["normalization"])
    except Exception as exc:  # wrong keys or shapes: the file does not fit this model
        first = " ".join(str(exc).split())[:200]
        raise PolicyFileError(f"{path} does not fit this orlearn's branching GNN: {first}") from exc
    model.eval()
    policy = BranchingPolicy(model=model, path=path, metadata=pf.metadata)
    _CACHE[key] = policy
    return policy



class GuardedBranchrule(scip.Branchrule):
    """What every learned rule shares: a node where anything fails (no LP solution, an
    exception, ...) goes to SCIP's next rule (DIDNOTRUN) and is counted by reason, so a policy
    never crashes a solve; torch runs on ``threads`` threads during the solve. Subclasses
    implement ``_branch`` and extend ``stats``."""

    def __init__(self, policy: Any, threads: int = 1) -> None:
        import torch

        if threads < 1:
            raise OrlearnError(f"threads must be at least 1, got {threads}")
        self._torch = torch  # kept: exitsol may run while Python shuts down (no imports then)
        self.policy = policy
        self.threads = threads
        # The features the policy was trained on (orlearn's own, or Ecole's for published ones).
        self.builder: ObservationFunction = (
            policy.observation_function() if isinstance(policy, BranchingPolicy) else ObservationBuilder()
        )
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


class LearnedBranchrule(GuardedBranchrule):
    """Branches on the GNN's best candidate; falls back to SCIP's next rule at a failed node."""

    def __init__(self, policy: BranchingPolicy, threads: int = 1) -> None:
        super().__init__(policy, threads)
        self.observations = 0
        self.inferences = 0
        self.observation_seconds = 0.0
        self.inference_seconds = 0.0

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


def attach_branching(
    model: scip.Model,
    policy: str | Path | BranchingPolicy | RLBranchingPolicy = "gnn",
    *,
    threads: int = 1,
    maxdepth: int = -1,
) -> LearnedBranchrule | RevivedBranchrule:
    """Include a learned branching rule in ``model`` (before ``optimize``) and return it.

    ``policy``: ``gnn`` (shipped default), ``gnn:NAME``, a ``.pt`` path, a published rl2branch
    ``il.pkl`` path, a hybrid spec (``hybrid[:POLICY][:depth=D][:below=RULE]``, see
    :mod:`orlearn.branching.hybrid`) or a loaded :class:`BranchingPolicy`. ``threads``: torch
    threads for inference. ``maxdepth``: SCIP calls the rule at depths ``0..maxdepth`` only
    (-1: everywhere). Read ``rule.stats()`` after the solve for the learned decisions and
    fallbacks.
    """
    from orlearn.branching.hybrid import attach_hybrid, is_hybrid_spec
    from orlearn.branching.memory import reuse_freed_memory

    if is_hybrid_spec(policy):
        return attach_hybrid(model, policy, threads=threads)
    loaded = load_branching_policy(policy)
    if not isinstance(loaded, BranchingPolicy):  # ReviBranch: its own rule reads the tree path
        from orlearn.branching.revibranch.rule import attach_rl_branching

        return attach_rl_branching(model, loaded, threads=threads, maxdepth=maxdepth)
    rule = LearnedBranchrule(loaded, threads=threads)
    reuse_freed_memory()
    model.includeBranchrule(
        rule, "orlearn-gnn", "learned GNN branching (orlearn)", PRIORITY, maxdepth, 1.0
    )
    return rule
