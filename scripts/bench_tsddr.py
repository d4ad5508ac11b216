"""Benchmark TS-DDR against SDDP, a linear decision rule, myopic and wait-and-see policies.

Every method is evaluated on the same out-of-sample scenarios (stagewise-independent draws from
the case's per-stage inflow scenarios). For a one-reservoir case the exact optimum is computed
too. Writes a JSON record and prints a markdown table.

Full target configuration (hours on 2 cores for bolivia):
    python scripts/bench_tsddr.py --case bolivia --stages 48 --scenarios 500 \
        --policy policies/ddr/bolivia_lstm.pt --ldr-policy policies/ddr/bolivia_linear.pt \
        --sddp-iterations 500
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from orlearn.decision_rules import evaluate as ev
from orlearn.decision_rules.exact import exact_value_1d
from orlearn.decision_rules.hydro import case_path, hydro_problem, load_case
from orlearn.decision_rules.policies import load_rule
from orlearn.decision_rules.sddp import SDDP
from orlearn.errors import OrlearnError
from orlearn.seeding import seed_everything


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--case", default="case3")
    parser.add_argument("--stages", type=int, default=None)
    parser.add_argument("--network", choices=("dc", "single"), default="dc")
    parser.add_argument("--scenarios", type=int, default=500, help="shared out-of-sample scenarios")
    parser.add_argument("--policy", required=True, help="trained TS-DDR policy (orlearn decision-rules train)")
    parser.add_argument("--ldr-policy", default=None, help="trained linear decision rule")
    parser.add_argument("--sddp-iterations", type=int, default=100)
    parser.add_argument(
        "--sddp-time-limit", type=float, default=None, help="seconds of SDDP training at most"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", default=None, help="JSON output (default runs/ddr/bench_<case>.json)"
    )
    args = parser.parse_args()
    torch.set_num_threads(1)
    seed_everything(args.seed)

    case = load_case(case_path(args.case))
    problem = hydro_problem(case, args.stages, network=args.network)
    scenarios = problem.uncertainty.sample(
        args.scenarios, np.random.default_rng([args.seed, 424242])
    )
    rows: dict[str, dict] = {}
    costs_of: dict[str, np.ndarray] = {}

    def record(
        name: str, e: ev.Evaluation, train_seconds: float | None = None, note: str = ""
    ) -> None:
        costs_of[name] = e.costs
        rows[name] = {
            "mean": e.mean,
            "stderr": e.stderr,
            "seconds_per_scenario": e.seconds_per_scenario,
            "failures": e.failures,
            "train_seconds": train_seconds,
            "note": note,
        }
        print(
            f"{name}: {e.mean:.2f} +- {e.stderr:.2f} "
            f"({e.seconds_per_scenario * 1000:.1f} ms/scenario)",
            flush=True,
        )

    rule, meta = load_rule(args.policy)
    penalty = float(meta.get("penalty", 2 * case.water_value_bound()))
    record(
        "TS-DDR (stage rollout)",
        ev.rollout_costs(problem, rule, scenarios, penalty),
        meta.get("train_seconds"),
    )
    record(
        "TS-DDR (one LP per scenario)",
        ev.deterministic_equivalent_costs(problem, rule, scenarios, penalty),
        meta.get("train_seconds"),
    )
    # the policy's own decision (all targets of a scenario, stage by stage), without dispatch LPs
    t0 = time.perf_counter()
    with torch.no_grad():
        for w in scenarios:
            rule(torch.as_tensor(w[None], dtype=torch.float32))
    inference = (time.perf_counter() - t0) / len(scenarios)
    t0 = time.perf_counter()
    with torch.no_grad():
        rule(torch.as_tensor(scenarios, dtype=torch.float32))  # all scenarios as one batch
    batched = (time.perf_counter() - t0) / len(scenarios)
    if args.ldr_policy:
        ldr, lmeta = load_rule(args.ldr_policy)
        record(
            "linear DR (stage rollout)",
            ev.rollout_costs(problem, ldr, scenarios, penalty),
            lmeta.get("train_seconds"),
        )

    sddp = SDDP(problem)
    result = sddp.train(args.sddp_iterations, seed=args.seed, time_limit=args.sddp_time_limit)
    t0 = time.perf_counter()
    costs = sddp.simulate(scenarios)
    record(
        "SDDP (forward simulation)",
        ev.Evaluation(costs, time.perf_counter() - t0),
        result.seconds,
        f"lower bound {result.lower_bound:.2f} after {result.iterations} iterations",
    )
    record("myopic", ev.myopic_costs(problem, scenarios))
    record("wait-and-see (perfect foresight)", ev.wait_and_see_costs(problem, scenarios))
    exact = None
    if problem.n_state == 1:
        t0 = time.perf_counter()
        exact = exact_value_1d(problem).value
        print(f"exact optimum {exact:.2f} ({time.perf_counter() - t0:.0f} s)")

    # paired comparison on the shared scenarios: far less noisy than comparing two means
    base = costs_of["SDDP (forward simulation)"]
    for name, r in rows.items():
        diff = (costs_of[name] - base) / np.nanmean(base)
        diff = diff[np.isfinite(diff)]
        r["gap_vs_sddp"] = float(diff.mean())
        r["gap_vs_sddp_stderr"] = float(diff.std(ddof=1) / np.sqrt(len(diff)))
    out = Path(args.out or f"runs/ddr/bench_{args.case}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "case": args.case,
                "stages": problem.n_stages,
                "network": args.network,
                "scenarios": args.scenarios,
                "seed": args.seed,
                "policy": args.policy,
                "policy_metadata": meta,
                "sddp_lower_bound": result.lower_bound,
                "sddp_iterations": result.iterations,
                "exact_optimum": exact,
                "tsddr_inference_seconds_per_scenario": inference,
                "tsddr_batched_inference_seconds_per_scenario": batched,
                "results": rows,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    sddp_time = rows["SDDP (forward simulation)"]["seconds_per_scenario"]
    print(
        f"\n{args.case}, {problem.n_stages} stages, {args.network} network, "
        f"{args.scenarios} shared scenarios"
    )
    if exact is not None:
        print(f"exact optimum (expected cost): {exact:,.2f}; mean / exact - 1:")
        for name, r in rows.items():
            rel, se = 100 * (r["mean"] / exact - 1), 100 * r["stderr"] / exact
            print(f"  {name}: {rel:+.2f} % (± {se:.2f} %)")
    print(f"SDDP lower bound: {result.lower_bound:,.2f} ({result.iterations} iterations)\n")
    print(
        "| method | mean cost | std. error | vs SDDP (paired) | training (s) | decision (ms/scenario) |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows.items():
        train = "" if r["train_seconds"] is None else f"{float(r['train_seconds']):.0f}"
        gap = f"{100 * r['gap_vs_sddp']:+.2f} ± {100 * r['gap_vs_sddp_stderr']:.2f} %"
        print(
            f"| {name} | {r['mean']:,.2f} | {r['stderr']:,.2f} | {gap} | {train} | "
            f"{1000 * r['seconds_per_scenario']:.1f} |"
        )
    speed = sddp_time / rows["TS-DDR (stage rollout)"]["seconds_per_scenario"]
    speed_de = sddp_time / rows["TS-DDR (one LP per scenario)"]["seconds_per_scenario"]
    print(
        f"\nTS-DDR network inference alone: {1000 * inference:.2f} ms/scenario "
        f"({sddp_time / inference:.1f}x faster than SDDP's forward simulation); "
        f"all scenarios in one batch: {1000 * batched:.3f} ms/scenario ({sddp_time / batched:.0f}x)"
    )
    print(
        "SDDP forward simulation time / TS-DDR time per scenario: "
        f"{speed:.2f}x (rollout), {speed_de:.2f}x (one LP)"
    )


if __name__ == "__main__":
    try:
        main()
    except OrlearnError as exc:
        raise SystemExit(f"bench_tsddr: error: {exc}") from None
