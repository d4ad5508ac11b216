"""Paired A/B of the ReviBranch rule's two scoring paths on the same instances.

``batched``: every node through the padded batch (``RevivedQNet.scores`` of a one-node
:func:`~orlearn.branching.revibranch.policy.single_batch`), as the rule did before path version 4;
``node``: ``RevivedQNet.node_scores``, what the rule uses now. The two compute the same scores,
so the search trees must be identical (checked); the script prints each solve's nodes, SCIP CPU
time and the rule's wall ms per decision, alternating the paths ``--repeats`` times::

    python scripts/ab_revibranch_scoring.py POLICY.pt INSTANCE [INSTANCE ...]
"""

from __future__ import annotations

import argparse
import sys

import pyscipopt as scip
import torch

from orlearn.branching.revibranch.policy import load_rl_policy, single_batch
from orlearn.branching.rules.guarded import PRIORITY
from orlearn.branching.rules.rl import RULE_NAME, RevivedBranchrule
from orlearn.solver.settings import SETTINGS


class BatchedScoringRule(RevivedBranchrule):
    """The rule with the batched scoring path."""

    def _decide(self) -> dict:
        net = self.net
        net.node_scores = lambda c, s, d, a: net.scores(single_batch(c, s, d, a))[0]
        try:
            return super()._decide()
        finally:
            del net.node_scores  # back to the class's method


def solve(instance: str, policy: str, rule_class: type[RevivedBranchrule]) -> tuple[int, float, float]:
    """Nodes, SCIP CPU seconds and ms per decision of one gasse-settings solve."""
    model = scip.Model()
    model.hideOutput()
    model.readProblem(instance)
    for name, value in SETTINGS["gasse"].items():
        model.setParam(name, value)
    model.setParam("timing/clocktype", 1)
    rule = rule_class(load_rl_policy(policy))
    model.includeBranchrule(rule, RULE_NAME, "ReviBranch A/B", PRIORITY, -1, 1.0)
    model.optimize()
    return model.getNNodes(), model.getSolvingTime(), rule.stats()["decision_ms"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("policy")
    parser.add_argument("instances", nargs="+")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    ms: dict[str, list[float]] = {"batched": [], "node": []}
    for instance in args.instances:
        for _ in range(args.repeats):
            nodes = {}
            for name, rule_class in (("batched", BatchedScoringRule), ("node", RevivedBranchrule)):
                nodes[name], seconds, per = solve(instance, args.policy, rule_class)
                ms[name].append(per)
                print(f"{instance}: {name}: {nodes[name]} nodes, {seconds:.2f} s CPU, "
                      f"{per:.2f} ms/decision", flush=True)  # fmt: skip
            if nodes["batched"] != nodes["node"]:
                print(f"{instance}: the two paths built different trees", file=sys.stderr)
                return 1
    for name, values in ms.items():
        print(f"{name}: mean {sum(values) / len(values):.2f} ms/decision over {len(values)} solves")
    return 0


if __name__ == "__main__":
    sys.exit(main())
