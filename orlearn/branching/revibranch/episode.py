"""Episodes: one SCIP solve with the ReviBranch rule, recorded decision by decision.

While SCIP solves, :class:`RevivedBranchrule` records every branching decision (node, parent
decision, depth, encoded observation, candidates, chosen variable, LP value, children) and
:class:`TreeRecorder` (an event handler on NODEFOCUSED and NODESOLVED) records every processed
node: its parent, its dual bound once solved, and the LP iterations spent from its focus until
the next node's focus (heuristics run between nodes are charged to the node before them, so the
iterations of all nodes add up to SCIP's total). After the solve, :func:`attach_consequences`
gives each decision the consequences the rewards use:

* every processed node is charged to its nearest recorded decision (itself, or the decision
  above it); ``local_nodes``/``local_lp`` are what a decision is charged, ``subtree_nodes`` /
  ``subtree_lp`` the totals over the decision's whole subtree;
* ``gain``: with ``z`` the node's LP value, ``U`` the final primal bound and ``b_c`` the dual
  bound of child ``c`` once solved (``+inf`` for a child that was infeasible or pruned before
  being processed), ``gain = mean_c clip((min(b_c, U) - z) / (U - z), 0, 1)``: the share of the
  node's gap its children closed (1 when ``U - z`` is 0, 0 when no primal solution exists).

An episode that does not finish the tree (time or node limit, interruption), that restarted
(SCIP threw the earlier tree away; the ``gasse`` settings disable restarts) or whose worker
crashed is kept with its status but marked not ``complete``: the buffer refuses it.
"""

from __future__ import annotations

import math
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyscipopt as scip

from orlearn.branching.rules.rl import Decision

#: SCIP statuses after which the whole tree was explored (consequences are final).
COMPLETE_STATUSES = frozenset({"optimal", "infeasible"})
_INF = 1e19  # SCIP reports infinite bounds as 1e20


class TreeRecorder(scip.Eventhdlr):
    """Records parent, depth, dual bound and LP iterations of every processed node."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}  # node -> parent node (-1 at the root)
        self.depth: dict[int, int] = {}
        self.bound: dict[int, float] = {}  # dual bound when the node was solved
        self.lp: dict[int, int] = {}  # LP iterations charged to the node
        self._current: int | None = None
        self._mark = 0

    def eventinit(self) -> None:
        self.model.catchEvent(scip.SCIP_EVENTTYPE.NODEFOCUSED, self)
        self.model.catchEvent(scip.SCIP_EVENTTYPE.NODESOLVED, self)

    def eventexit(self) -> None:
        self.model.dropEvent(scip.SCIP_EVENTTYPE.NODEFOCUSED, self)
        self.model.dropEvent(scip.SCIP_EVENTTYPE.NODESOLVED, self)

    def eventexec(self, event: Any) -> None:
        node = event.getNode()
        number = node.getNumber()
        if event.getType() == scip.SCIP_EVENTTYPE.NODEFOCUSED:
            self._close()
            parent = node.getParent()
            self.parent[number] = parent.getNumber() if parent is not None else -1
            self.depth[number] = node.getDepth()
            self.lp[number] = 0
            self._current = number
        else:
            self.bound[number] = node.getLowerbound()

    def _close(self) -> None:
        now = self.model.getNLPIterations()
        if self._current is not None:
            self.lp[self._current] += now - self._mark
        self._mark = now

    def finish(self) -> None:
        """Charge the LP iterations since the last focus; call once after ``optimize``."""
        self._close()
        self._current = None


def attach_consequences(decisions: list[Decision], tree: TreeRecorder, upper: float) -> None:
    """Fill each decision's subtree size, LP iterations and dual-bound gain (see module doc).

    ``upper``: the final primal bound in SCIP's transformed (minimising) objective, >= 1e19 when
    no solution was found.
    """
    by_node = {d.node: d for d in decisions}
    owner: dict[int, int] = {}
    # Children get larger numbers than their parents, so increasing order visits parents first.
    for number in sorted(tree.parent):
        if number in by_node:
            owner[number] = number
        else:
            parent = tree.parent[number]
            owner[number] = owner.get(parent, -1)
    for d in decisions:
        d.local_nodes = d.local_lp = 0
    for number, who in owner.items():
        if who >= 0:
            by_node[who].local_nodes += 1
            by_node[who].local_lp += tree.lp.get(number, 0)
    for d in decisions:
        d.subtree_nodes, d.subtree_lp = d.local_nodes, d.local_lp
    for d in sorted(decisions, key=lambda d: d.node, reverse=True):  # children before parents
        if d.parent >= 0:
            by_node[d.parent].subtree_nodes += d.subtree_nodes
            by_node[d.parent].subtree_lp += d.subtree_lp
    for d in decisions:
        d.gain = dual_gain(d.lp_bound, [tree.bound.get(c, math.inf) for c in d.children], upper)


def dual_gain(z: float, child_bounds: list[float], upper: float) -> float:
    """Share (0..1) of the gap ``upper - z`` closed by the children's dual bounds, averaged."""
    if upper >= _INF or not child_bounds:
        return 0.0
    gap = upper - z
    if gap <= 1e-9 * max(1.0, abs(upper)):
        return 1.0
    closed = [min(max((min(b, upper) - z) / gap, 0.0), 1.0) for b in child_bounds]
    return float(sum(closed) / len(closed))


@dataclass(frozen=True)
class EpisodeTask:
    """One episode to run: ``instance`` (MPS/LP file) solved with the policy file ``policy``.

    ``instance_data`` / ``policy_data``: the files' bytes, for workers that do not share the
    trainer's file system (Ray across machines); the worker then solves a private copy, and the
    episode still reports ``instance`` (the trainer's name for it).
    """

    instance: str
    policy: str
    seed: int = 0
    epsilon: float = 0.0
    settings: str = "gasse"
    time_limit: float | None = None
    index: int = 0  # position in its round (episodes finish out of order)
    instance_data: bytes | None = field(default=None, repr=False)
    policy_data: bytes | None = field(default=None, repr=False)

    def shipped(self) -> EpisodeTask:
        """This task with both files' bytes inside it."""
        return replace(
            self, instance_data=Path(self.instance).read_bytes(), policy_data=Path(self.policy).read_bytes()
        )


@dataclass
class Episode:
    """A recorded solve. ``status``: SCIP's status, or "crash"/"timeout"/"exception" when the
    worker failed; ``nodes``/``lp_iterations`` as SCIP counts them; times in seconds."""

    instance: str
    seed: int
    status: str
    nodes: int = 0
    lp_iterations: int = 0
    solving_time: float = 0.0
    wall_time: float = 0.0
    decisions: list[Decision] = field(default_factory=list)
    parents: dict[int, int] = field(default_factory=dict)  # processed node -> parent (-1)
    stats: dict[str, Any] = field(default_factory=dict)
    message: str = ""
    index: int = 0

    @property
    def complete(self) -> bool:
        """True when the tree was fully explored, so the consequences are final."""
        return self.status in COMPLETE_STATUSES


def run_episode(task: EpisodeTask) -> Episode:
    """Solve ``task.instance`` with the ReviBranch rule and return the recorded episode.

    Module-level so that :func:`orlearn.solver.executors.run_tasks` can run it in a worker process.
    """
    if task.instance_data is None and task.policy_data is None:
        return _run_episode(task, task.instance, task.policy)
    with tempfile.TemporaryDirectory(prefix="orlearn-episode-") as tmp:
        instance, policy = Path(task.instance), Path(task.policy)
        if task.instance_data is not None:
            instance = Path(tmp, "instance-" + instance.name)  # keeps the suffix (.mps.gz)
            instance.write_bytes(task.instance_data)
        if task.policy_data is not None:
            policy = Path(tmp, "policy-" + policy.name)
            policy.write_bytes(task.policy_data)
        return _run_episode(task, str(instance), str(policy))


def _run_episode(task: EpisodeTask, instance: str, policy: str) -> Episode:
    from orlearn.branching.rules.rl import attach_rl_branching
    from orlearn.milp.io import read_model
    from orlearn.solver.settings import SETTINGS, validate_settings

    t0 = time.perf_counter()
    validate_settings(task.settings)
    model = read_model(instance)
    model.hideOutput()
    for name, value in SETTINGS[task.settings].items():
        model.setParam(name, value)
    model.setParam("randomization/randomseedshift", task.seed)
    if task.time_limit is not None:
        model.setParam("limits/time", task.time_limit)
    rule = attach_rl_branching(model, policy, epsilon=task.epsilon, seed=task.seed, record=True)
    tree = TreeRecorder()
    model.includeEventhdlr(tree, "orlearn-revibranch-tree", "records the search tree")
    model.optimize()
    tree.finish()
    status = model.getStatus()
    if model.getNRuns() > 1:
        # A restart threw the earlier tree away: the earlier decisions' consequences are lost.
        status = f"{status}_after_restart"
    upper = model.getUpperbound() if model.getNSols() > 0 else math.inf
    if status in COMPLETE_STATUSES:
        attach_consequences(rule.decisions, tree, upper)
    return Episode(
        instance=task.instance, seed=task.seed, status=status, nodes=int(model.getNNodes()),
        lp_iterations=int(model.getNLPIterations()), solving_time=model.getSolvingTime(),
        wall_time=time.perf_counter() - t0, decisions=rule.decisions, parents=tree.parent,
        stats=rule.stats(),
        index=task.index,
    )  # fmt: skip


def failed_episode(task: EpisodeTask, kind: str, message: str) -> Episode:
    """The record of an episode whose worker crashed, raised or timed out."""
    return Episode(instance=task.instance, seed=task.seed, status=kind, message=message, index=task.index)
