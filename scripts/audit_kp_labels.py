"""How far OR-Tools' integer knapsack solver, fed weights scaled by 1e6 / capacity and floored
(the KP expert of the shipped kp100 policy's training), is from the exact optimum.

Flooring lets a set whose real weight exceeds the capacity look feasible; dropping an item
afterwards repairs feasibility but not optimality. For each instance set: how many solutions
differ from the exact expert's (orlearn.construct.problems.experts.exact_knapsack), how many are
worse, the mean and largest loss:
    .venv/bin/python scripts/audit_kp_labels.py --set train:100:2000:1 --set bench:100:128:12345
(the shipped policy's training instances are seed 1, its benchmark instances seed 12345).
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from orlearn.construct.problems import get_problem
from orlearn.construct.problems.experts import exact_knapsack


def floored_ortools(values: np.ndarray, weights: np.ndarray, capacity: float) -> list[int]:
    """The audited routine: OR-Tools branch and bound on floored integer weights, then the
    worst-ratio item dropped while the real weight exceeds the capacity."""
    from ortools.algorithms.python import knapsack_solver

    scale = 1e6 / max(float(np.max(weights)), float(capacity))
    vscale = 1e6 / max(float(np.max(values)), 1e-12)
    solver = knapsack_solver.KnapsackSolver(
        knapsack_solver.SolverType.KNAPSACK_MULTIDIMENSION_BRANCH_AND_BOUND_SOLVER, "kp"
    )
    solver.init(
        np.rint(values * vscale).astype(np.int64).tolist(),
        [np.floor(weights * scale).astype(np.int64).tolist()],
        [int(np.floor(capacity * scale))],
    )
    solver.solve()
    chosen = [i for i in range(len(values)) if solver.best_solution_contains(i)]
    while chosen and weights[chosen].sum() > capacity + 1e-12:
        chosen.remove(min(chosen, key=lambda i: values[i] / weights[i]))
    return chosen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--set", action="append", required=True,
                    help="NAME:N:COUNT:SEED, KP instances from the standard generator")
    args = ap.parse_args(argv)
    kp = get_problem("kp")
    print("| set | instances | different item sets | worse than exact | mean loss % | "
          "max loss % | exact ms / instance | OR-Tools ms / instance |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for spec in args.set:
        name, n, count, seed = spec.split(":")
        instances = kp.generate(int(n), int(count), int(seed))
        t0 = time.perf_counter()
        exact = [exact_knapsack(i.values, i.weights, i.capacity) for i in instances]
        t1 = time.perf_counter()
        old = [floored_ortools(i.values, i.weights, i.capacity) for i in instances]
        t2 = time.perf_counter()
        differ, losses = 0, []
        for inst, e, o in zip(instances, exact, old):
            assert kp.check(inst, e) is None and kp.check(inst, o) is None
            differ += sorted(e) != sorted(o)
            best = kp.objective(inst, e)
            losses.append(max(0.0, (best - kp.objective(inst, o)) / best * 100))
        worse = sum(loss > 1e-9 for loss in losses)
        print(f"| {name} (KP{n}, seed {seed}) | {len(instances)} | {differ} | {worse} | "
              f"{np.mean(losses):.4f} | {max(losses):.3f} | {(t1 - t0) / len(instances) * 1e3:.2f} | "
              f"{(t2 - t1) / len(instances) * 1e3:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
