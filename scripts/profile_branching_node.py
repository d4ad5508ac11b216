"""Per-node cost of the learned branching rule: observation and inference, CPU and wall time.

    .venv/bin/python scripts/profile_branching_node.py [--dist setcover/small] [-n 3]
        [--nodes 100] [--policy gnn]

Solves ``n`` test instances of the distribution with the gasse settings and a node limit, with
the learned rule, and prints per-node medians (the first, uncached call excluded) of the
observation, of PySCIPOpt's plain ``getBipartiteGraphRepresentation`` (for comparison) and of the
GNN's forward pass, in CPU milliseconds of this process and wall milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    from orlearn.branching.plugin import attach_branching
    from orlearn.milp.io import read_model, resolve_instances
    from orlearn.solver.settings import SETTINGS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", default="setcover/small")
    ap.add_argument("-n", type=int, default=3, help="test instances")
    ap.add_argument("--nodes", type=int, default=100, help="node limit per solve")
    ap.add_argument("--policy", default="gnn")
    args = ap.parse_args()

    cpu: dict[str, list[float]] = {"observation": [], "plain graph": [], "inference": []}
    wall: dict[str, list[float]] = {"observation": [], "inference": []}
    for path in resolve_instances([args.dist], n=args.n, split="test"):
        model = read_model(path)
        model.hideOutput()
        for key, value in SETTINGS["gasse"].items():
            model.setParam(key, value)
        model.setParam("limits/nodes", args.nodes)
        rule = attach_branching(model, args.policy)
        build, score = rule.builder.extract, rule.policy.scores

        def timed_build(m, build=build):
            c, w = time.process_time(), time.perf_counter()
            obs = build(m)
            cpu["observation"].append(time.process_time() - c)
            wall["observation"].append(time.perf_counter() - w)
            return obs

        def timed_score(obs, score=score, model=model):
            c, w = time.process_time(), time.perf_counter()
            out = score(obs)
            cpu["inference"].append(time.process_time() - c)
            wall["inference"].append(time.perf_counter() - w)
            # After the inference, as the rule has no such call between observation and GNN:
            # its ~30,000 fresh Python lists would evict the GNN's data from the caches.
            c = time.process_time()
            model.getBipartiteGraphRepresentation()
            cpu["plain graph"].append(time.process_time() - c)
            return out

        rule.builder.extract = timed_build
        rule.policy.scores = timed_score
        model.optimize()
        rule.policy.scores = score
        print(f"{path.name}: {model.getNNodes()} nodes, {rule.stats()['learned_calls']} decisions")
    for name, values in cpu.items():
        print(f"{name:12s} CPU median {1e3 * statistics.median(values[1:]):7.2f} ms per node")
    for name, values in wall.items():
        print(f"{name:12s} wall median {1e3 * statistics.median(values[1:]):7.2f} ms per node")


if __name__ == "__main__":
    main()
