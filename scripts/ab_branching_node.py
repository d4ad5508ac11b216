"""Paired A/B of a learned rule's per-node cost inside a solve: reference against fast path.

    .venv/bin/python scripts/ab_branching_node.py [--dist setcover/small] [-n 3] [--nodes 60]
        [--policy gnn]

Solves ``n`` test instances of the distribution (gasse settings, a node limit) with the learned
rule. At every learned node both variants run on the same node, in alternating order (A first
at even nodes, B first at odd ones), so that load and cache state fall alike on both:

* A, the reference: fresh PySCIPOpt column lists (``fast = False`` on the observation function)
  and the model's own forward pass (``policy.reference_scores``);
* B, the fast path: reused column lists and :class:`~orlearn.branching.scoring.NodeScorer`
  (``policy.scores``), which the rule branches on.

Prints, per variant, the median CPU milliseconds (this process's clock) of the observation and
of the inference per learned node, over the nodes where the variant ran first (cold caches, as
in a solve) and over all nodes, the ratios B / A, and checks at every node that both
observations are equal and that both variants pick the same candidate (largest logit difference
printed). ``--split`` adds where the fast path's time goes (the B-first nodes' medians per step).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import defaultdict


def observation_split(model, obs_fn, split: dict[str, list[float]]) -> None:
    """The observation's steps, timed again at this node after the paired calls: PySCIPOpt's
    graph call (cached edges handed back), its lists to NumPy, the LP-row key that decides the
    edge cache, the candidates."""
    import gc

    from orlearn.branching.observation import branching_candidates, feature_array

    def timed(name, fn):
        c = time.process_time()
        out = fn()
        split.setdefault(name, []).append(time.process_time() - c)
        return out

    gc.disable()  # as the observation functions do around PySCIPOpt's lists
    rows = timed(
        "obs: LP rows and their key", lambda: tuple(hash(r) for r in model.getLPRowsData())
    )
    del rows
    col, _, row, _ = timed(
        "obs: PySCIPOpt graph call",
        lambda: model.getBipartiteGraphRepresentation(
            prev_edge_features=obs_fn._prev_edges, suppress_warnings=True
        ),
    )
    timed("obs: column lists to NumPy", lambda: feature_array(col))
    timed("obs: row lists to NumPy", lambda: feature_array(row))
    timed("obs: freeing the lists", lambda: col.clear() or row.clear())
    timed("obs: candidates", lambda: branching_candidates(model))
    gc.enable()


def main() -> None:
    import numpy as np
    import torch

    from orlearn.branching.loader import load_branching_policy
    from orlearn.branching.plugin import attach_branching
    from orlearn.milp.io import read_model, resolve_instances
    from orlearn.solver.settings import SETTINGS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", default="setcover/small")
    ap.add_argument("-n", type=int, default=3, help="test instances")
    ap.add_argument("--nodes", type=int, default=60, help="node limit per solve")
    ap.add_argument("--policy", default="gnn")
    ap.add_argument("--split", action="store_true", help="time the fast path's steps")
    args = ap.parse_args()
    torch.set_num_threads(1)

    # times[variant][part][first?] -> CPU seconds per node
    times: dict = {
        v: {p: {True: [], False: []} for p in ("observation", "inference")} for v in "AB"
    }
    split: dict[str, list[float]] = defaultdict(list)
    nodes, same, feature_diff, logit_diff, fast_calls = 0, 0, 0.0, 0.0, 0
    for path in resolve_instances([args.dist], n=args.n, split="test"):
        model = read_model(path)
        model.hideOutput()
        for key, value in SETTINGS["gasse"].items():
            model.setParam(key, value)
        model.setParam("limits/nodes", args.nodes)
        policy = load_branching_policy(args.policy)
        policy._scorer = None  # a fresh scorer: nothing cached from another solve
        rule = attach_branching(model, policy)
        obs_b = rule.builder
        obs_a = policy.observation_function()
        obs_a.fast = False
        extract_b = obs_b.extract
        score_b = policy.scores
        state: dict = {}

        def run(variant: str, part: str, fn, arg, first: bool):
            c = time.process_time()
            out = fn(arg)
            times[variant][part][first].append(time.process_time() - c)
            return out

        def paired_extract(m, extract_b=extract_b, obs_a=obs_a, state=state):
            a_first = len(state.setdefault("count", [])) % 2 == 0
            state["count"].append(a_first)
            if a_first:
                a = run("A", "observation", obs_a.extract, m, True)
                b = run("B", "observation", extract_b, m, False)
            else:
                b = run("B", "observation", extract_b, m, True)
                a = run("A", "observation", obs_a.extract, m, False)
            state["obs_a"] = a
            return b

        def paired_score(
            obs, score_b=score_b, policy=policy, state=state, model=model, obs_b=obs_b
        ):
            nonlocal same, feature_diff, logit_diff
            a_first = state["count"][-1]
            scorer = policy.scorer
            scorer.split = split if args.split and not a_first else None
            if a_first:
                la = run("A", "inference", policy.reference_scores, obs, True)
                lb = run("B", "inference", score_b, obs, False)
            else:
                lb = run("B", "inference", score_b, obs, True)
                la = run("A", "inference", policy.reference_scores, obs, False)
            scorer.split = None
            if args.split and not a_first:
                observation_split(model, obs_b, split)
            a = state["obs_a"]
            feature_diff = max(
                feature_diff,
                float(np.nanmax(np.abs(a.var_features - obs.var_features), initial=0.0)),
                float(np.nanmax(np.abs(a.cons_features - obs.cons_features), initial=0.0)),
            )
            logit_diff = max(logit_diff, float((la - lb).abs().max()))
            same += int(la.argmax()) == int(lb.argmax())
            return lb

        obs_b.extract = paired_extract
        policy.scores = paired_score
        try:
            model.optimize()
        finally:
            del policy.scores
        fast_calls += policy.scorer.fast_calls
        learned = rule.stats()["learned_calls"]
        nodes += learned
        print(f"{path.name}: {model.getNNodes()} nodes, {learned} learned decisions", flush=True)

    def med(values: list[float]) -> float:
        return 1e3 * statistics.median(values) if values else float("nan")

    first = {v: {p: med(times[v][p][True]) for p in ("observation", "inference")} for v in "AB"}
    every = {
        v: {p: med(times[v][p][True] + times[v][p][False]) for p in ("observation", "inference")}
        for v in "AB"
    }
    print(f"policy {args.policy}, {args.dist}, {nodes} learned nodes; CPU ms per node, medians")
    print("                  ran first (cold)              all nodes")
    print("variant         observ.  infer.   total    observ.  infer.   total")
    for v, label in (("A", "A reference"), ("B", "B fast")):
        f, e = first[v], every[v]
        print(
            f"{label:14s} {f['observation']:7.2f} {f['inference']:7.2f} {sum(f.values()):7.2f}   "
            f"{e['observation']:7.2f} {e['inference']:7.2f} {sum(e.values()):7.2f}"
        )
    rf = [first["B"][p] / first["A"][p] for p in ("observation", "inference")]
    re_ = [every["B"][p] / every["A"][p] for p in ("observation", "inference")]
    print(
        f"{'B / A':14s} {rf[0]:7.2f} {rf[1]:7.2f} {sum(first['B'].values()) / sum(first['A'].values()):7.2f}   "
        f"{re_[0]:7.2f} {re_[1]:7.2f} {sum(every['B'].values()) / sum(every['A'].values()):7.2f}"
    )
    print(
        f"same candidate at {same} of {nodes} nodes; largest feature difference {feature_diff:.3g}, "
        f"largest logit difference {logit_diff:.3g}; fast scorer at {fast_calls} of {nodes} nodes "
        "(the others: the model's row-subset pass)"
    )
    if split:
        print("where B's time goes, B-first nodes, median CPU ms per step:")
        for k, v in split.items():
            print(f"  {k:42s} {med(v):6.3f}")


if __name__ == "__main__":
    main()
