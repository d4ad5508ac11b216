"""Paired A/B of a learned rule's per-node cost inside a solve: reference against fast path.

    .venv/bin/python scripts/ab_branching_node.py [--dist setcover/small] [-n 3] [--nodes 60]
        [--policy gnn] [--repeats 2]

Solves each of ``n`` test instances of the distribution (gasse settings, a node limit) with
the learned rule once per variant and repeat, the variants alternating (A B A B ...) so that
the machine's load drifts alike over both: A is the reference (the model's own forward pass,
:meth:`BranchingPolicy.reference_scores`, and the observation function's reference extraction),
B the fast path (:class:`~orlearn.branching.scoring.NodeScorer`, the observation's cached
static parts). Prints per variant the median CPU milliseconds (this process's clock) per learned
node of the observation and of the inference (first call of each solve excluded), the ratio
B / A, and checks that both variants branch on the same variables at the same nodes (same
trees) and that the logits agree (largest absolute difference over all nodes).
"""

from __future__ import annotations

import argparse
import statistics
import time


def solve_once(path, policy, nodes: int, fast: bool) -> dict:
    """One solve of ``path`` with ``policy`` (a fresh one: nothing cached), timed per node."""
    from orlearn.branching.plugin import attach_branching
    from orlearn.milp.io import read_model
    from orlearn.solver.settings import SETTINGS

    model = read_model(path)
    model.hideOutput()
    for key, value in SETTINGS["gasse"].items():
        model.setParam(key, value)
    model.setParam("limits/nodes", nodes)
    rule = attach_branching(model, policy)
    builder, pol = rule.builder, rule.policy
    if hasattr(builder, "fast"):
        builder.fast = fast
    extract = builder.extract
    score = pol.scores if fast else pol.reference_scores
    rec: dict = {"observation": [], "inference": [], "choices": [], "logits": []}

    def timed_extract(m, extract=extract):
        c = time.process_time()
        obs = extract(m)
        rec["observation"].append(time.process_time() - c)
        return obs

    def timed_score(obs, score=score):
        c = time.process_time()
        out = score(obs)
        rec["inference"].append(time.process_time() - c)
        rec["choices"].append(
            (model.getCurrentNode().getNumber(), obs.candidate_vars[int(out.argmax())].name)
        )
        rec["logits"].append(out.clone())
        return out

    builder.extract = timed_extract
    pol.scores = timed_score
    try:
        model.optimize()
    finally:
        del pol.scores
        builder.extract = extract
    rec["nodes"] = model.getNNodes()
    rec["fast_calls"] = pol.scorer.fast_calls
    return rec


def main() -> None:
    import torch

    from orlearn.branching.loader import load_branching_policy
    from orlearn.milp.io import resolve_instances

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", default="setcover/small")
    ap.add_argument("-n", type=int, default=3, help="test instances")
    ap.add_argument("--nodes", type=int, default=60, help="node limit per solve")
    ap.add_argument("--policy", default="gnn")
    ap.add_argument("--repeats", type=int, default=2, help="solves per instance and variant")
    args = ap.parse_args()
    torch.set_num_threads(1)

    times = {v: {"observation": [], "inference": []} for v in ("A", "B")}
    max_diff, decisions, same, fast_calls = 0.0, 0, True, 0
    for path in resolve_instances([args.dist], n=args.n, split="test"):
        runs: dict[str, list[dict]] = {"A": [], "B": []}
        for _ in range(args.repeats):
            for variant in ("A", "B"):
                policy = load_branching_policy(args.policy)  # fresh: no cache from another solve
                rec = solve_once(path, policy, args.nodes, variant == "B")
                runs[variant].append(rec)
                for part in ("observation", "inference"):
                    times[variant][part] += rec[part][1:]
        a, b = runs["A"][0], runs["B"][0]
        same &= all(r["choices"] == a["choices"] for r in runs["A"] + runs["B"])
        decisions += len(a["choices"])
        fast_calls += b["fast_calls"]
        for la, lb in zip(a["logits"], b["logits"]):
            max_diff = max(max_diff, float((la - lb).abs().max()))
        print(
            f"{path.name}: {a['nodes']} nodes, {len(a['choices'])} learned decisions, "
            f"same choices in every solve: {all(r['choices'] == a['choices'] for r in runs['A'] + runs['B'])}"
        )
    med = {
        v: {p: 1e3 * statistics.median(t) for p, t in parts.items()} for v, parts in times.items()
    }
    print(
        f"policy {args.policy}, {args.dist}, {decisions} learned decisions per variant and repeat"
    )
    print("variant        observation  inference  total   (CPU ms per learned node, medians)")
    for v, label in (("A", "A reference"), ("B", "B fast")):
        total = med[v]["observation"] + med[v]["inference"]
        print(f"{label:14s} {med[v]['observation']:9.2f}  {med[v]['inference']:9.2f}  {total:6.2f}")
    ratio = {p: med["B"][p] / med["A"][p] for p in ("observation", "inference")}
    total_ratio = sum(med["B"].values()) / sum(med["A"].values())
    print(
        f"B / A          {ratio['observation']:9.2f}  {ratio['inference']:9.2f}  {total_ratio:6.2f}"
    )
    print(f"same decisions: {same}; largest logit difference: {max_diff:.3g}; "
          f"fast path at {fast_calls} of {decisions} B nodes (the others: the model's row-subset pass)")


if __name__ == "__main__":
    main()
