"""Paired A/B of the GNN's forward pass: message chunk size x torch.no_grad / inference_mode.

    .venv/bin/python scripts/ab_branching_inference.py [--dist setcover/small] [--nodes 6]
        [--policy gnn] [--chunks 8192 4096 2048] [--repeats 60]

Records the observations of the first ``--nodes`` learned nodes of one test instance (gasse
settings), then scores them under every variant in turn, ``--repeats`` times, interleaved so
that the machine's load drifts alike over all variants; prints the CPU median and mean per
forward pass of each variant. It times the model's own forward pass
(``policy.reference_scores``; ``scripts/ab_branching_node.py`` compares it with the fast
scorer). All variants compute the same logits (the chunked sums add each
target's messages in edge order; tested in tests/branching/test_model.py).
"""

from __future__ import annotations

import argparse
import statistics
import time


def main() -> None:
    import torch

    import orlearn.branching.model as model_module
    from orlearn.branching.plugin import attach_branching
    from orlearn.milp.io import read_model, resolve_instances
    from orlearn.solver.settings import SETTINGS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dist", default="setcover/small")
    ap.add_argument("--nodes", type=int, default=6, help="node limit of the recording solve")
    ap.add_argument("--policy", default="gnn")
    ap.add_argument("--chunks", nargs="+", type=int, default=[8192, 4096, 2048])
    ap.add_argument("--repeats", type=int, default=60)
    args = ap.parse_args()
    torch.set_num_threads(1)

    (path,) = resolve_instances([args.dist], n=1, split="test")
    model = read_model(path)
    model.hideOutput()
    for key, value in SETTINGS["gasse"].items():
        model.setParam(key, value)
    model.setParam("limits/nodes", args.nodes)
    rule = attach_branching(model, args.policy)
    observations = []
    extract = rule.builder.extract

    def recording(m, extract=extract):
        obs = extract(m)
        observations.append(obs)
        return obs

    rule.builder.extract = recording
    model.optimize()
    policy = rule.policy
    variants = [(chunk, ctx) for ctx in (torch.no_grad, torch.inference_mode) for chunk in args.chunks]
    times: dict[tuple, list[float]] = {v: [] for v in variants}
    saved = model_module.CHUNK_EDGES
    try:
        for _ in range(args.repeats):
            for chunk, ctx in variants:
                model_module.CHUNK_EDGES = chunk
                with ctx():
                    for obs in observations:
                        start = time.process_time()
                        policy.reference_scores(obs)
                        times[(chunk, ctx)].append(time.process_time() - start)
    finally:
        model_module.CHUNK_EDGES = saved
    edges = observations[-1].edge_index.shape[1]
    print(f"{path.name}: {len(observations)} observations, {edges} edges, policy {args.policy}")
    for (chunk, ctx), values in times.items():
        print(f"chunk {chunk:5d} {ctx.__name__:15s} CPU median {1e3 * statistics.median(values):.3f} ms"
              f"  mean {1e3 * statistics.fmean(values):.3f} ms")


if __name__ == "__main__":
    main()
