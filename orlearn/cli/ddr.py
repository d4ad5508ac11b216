"""`orlearn ddr`: TS-DDR decision rules and SDDP on hydrothermal dispatch cases."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from orlearn.threads import add_threads_option


def register(subparsers: argparse._SubParsersAction) -> None:
    ddr = subparsers.add_parser(
        "ddr", help="TS-DDR decision rules and SDDP (hydrothermal dispatch)"
    )
    verbs = ddr.add_subparsers(dest="ddr_command", metavar="VERB", required=True)

    def case_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("case", help="case folder, or a shipped case name (case3, bolivia)")
        p.add_argument(
            "--stages", type=int, default=None, help="horizon (default: the inflow file's rows)"
        )
        p.add_argument(
            "--network", choices=("dc", "single"), default="dc", help="DC power flow or one bus"
        )
        p.add_argument("--seed", type=int, default=0)

    train = verbs.add_parser("train", help="train a TS-DDR policy")
    case_args(train)
    add_threads_option(train, "small")
    train.add_argument("-o", "--output", required=True, help="policy file to write (.pt)")
    train.add_argument("--arch", choices=("lstm", "gru", "mlp", "linear"), default="lstm")
    train.add_argument("--hidden", type=int, default=64)
    train.add_argument("--iterations", type=int, default=200)
    train.add_argument("--batch", type=int, default=8, help="scenarios per iteration")
    train.add_argument("--lr", type=float, default=1e-2)
    train.add_argument(
        "--lr-end", type=float, default=None, help="final learning rate (geometric decay)"
    )
    train.add_argument(
        "--penalty",
        type=float,
        default=None,
        help="final slack penalty (default: 2x the water-value bound)",
    )
    train.add_argument(
        "--penalty-start",
        type=float,
        default=None,
        help="initial slack penalty (default: final / 10)",
    )
    train.add_argument(
        "--inflows",
        choices=("independent", "ar1"),
        default="independent",
        help="training scenario model",
    )
    train.add_argument(
        "--checkpoint", default=None, help="resumable checkpoint (default: OUTPUT.ckpt)"
    )
    train.set_defaults(func=_train)

    ev = verbs.add_parser("evaluate", help="out-of-sample cost of a policy and baselines")
    case_args(ev)
    add_threads_option(ev, "small")
    ev.add_argument("--policy", required=True)
    ev.add_argument("--scenarios", type=int, default=500, help="out-of-sample scenarios (default 500)")
    ev.add_argument(
        "--mode",
        choices=("rollout", "de"),
        default="rollout",
        help="stage-wise rollout or one LP per scenario",
    )
    ev.add_argument("--baselines", action="store_true", help="also myopic and wait-and-see")
    ev.add_argument("--json", default=None, help="write the results here")
    ev.set_defaults(func=_evaluate)

    sd = verbs.add_parser("sddp", help="train SDDP and simulate it")
    case_args(sd)
    sd.add_argument("--iterations", type=int, default=50, help="SDDP iterations (default 50)")
    sd.add_argument("--simulations", type=int, default=200, help="scenarios simulated (default 200)")
    sd.add_argument("--time-limit", type=float, default=None, help="seconds of training at most")
    sd.set_defaults(func=_sddp)


def _at_least(value: int | None, minimum: int, option: str) -> None:
    from orlearn.errors import OrlearnError

    if value is not None and value < minimum:
        raise OrlearnError(f"{option} must be at least {minimum}, got {value}")


def _problem(args: argparse.Namespace):  # noqa: ANN202 (pyomo types stay inside)
    from orlearn.decision_rules.hydro import case_path, hydro_problem, load_case
    from orlearn.threads import set_threads

    _at_least(args.stages, 1, "--stages")
    if hasattr(args, "threads"):  # train and evaluate run torch; sddp does not
        set_threads(args.threads, "small")  # small recurrent nets: more threads only add overhead

    case = load_case(case_path(args.case))
    return case, hydro_problem(case, args.stages, network=args.network)


def _train(args: argparse.Namespace) -> int:
    import torch

    from orlearn.curves import save_learning_curves
    from orlearn.decision_rules.hydro import LogNormalAR1
    from orlearn.decision_rules.policies import rule_for_problem, save_rule
    from orlearn.decision_rules.tsddr import TrainConfig, train_tsddr
    from orlearn.progress import progress_bar
    from orlearn.seeding import seed_everything

    for value, minimum, option in ((args.iterations, 1, "--iterations"), (args.batch, 1, "--batch"),
                                   (args.hidden, 1, "--hidden")):
        _at_least(value, minimum, option)
    seed_everything(args.seed)
    case, problem = _problem(args)
    rule = rule_for_problem(args.arch, problem, hidden=args.hidden)
    penalty = args.penalty or 2 * case.water_value_bound()
    config = TrainConfig(
        iterations=args.iterations,
        batch_size=args.batch,
        learning_rate=args.lr,
        learning_rate_end=args.lr_end,
        penalty_end=penalty,
        penalty_start=args.penalty_start,
        seed=args.seed,
    )
    sampler = LogNormalAR1.fit(case, problem.n_stages).sample if args.inflows == "ar1" else None
    out = Path(args.output)
    ckpt = Path(args.checkpoint) if args.checkpoint else out.with_suffix(".ckpt")
    with progress_bar(f"TS-DDR {args.case}", args.iterations) as advance:
        result = train_tsddr(
            problem, rule, config, sampler=sampler, checkpoint=ckpt, progress=advance
        )
    metadata = {
        "case": args.case,
        "stages": problem.n_stages,
        "network": args.network,
        "penalty": penalty,
        "inflows": args.inflows,
        "iterations": result.iterations,
        "batch": args.batch,
        "learning_rate": args.lr,
        "learning_rate_end": args.lr_end,
        "seed": args.seed,
        "best_validation_cost": result.best_validation,
        "train_seconds": round(result.seconds, 1),
        "solve_failures": result.failures,
        "torch_threads": torch.get_num_threads(),
    }
    save_rule(out, rule, metadata)
    curves = dict(result.curves)
    curves[f"validation cost (every {config.validate_every} iterations)"] = curves.pop(
        "validation cost"
    )
    save_learning_curves(
        out.with_suffix(".png"),
        curves,
        xlabel="iteration (validation: check number)",
        title=f"TS-DDR {args.case}",
    )
    print(
        f"wrote {out} (best validation cost {result.best_validation:.6g}, {result.seconds:.0f} s)"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    import numpy as np

    from orlearn.decision_rules import evaluate as ev
    from orlearn.decision_rules.policies import load_rule

    _at_least(args.scenarios, 1, "--scenarios")
    case, problem = _problem(args)
    rule, meta = load_rule(args.policy)
    penalty = float(meta.get("penalty", 2 * case.water_value_bound()))
    scenarios = problem.uncertainty.sample(
        args.scenarios, np.random.default_rng([args.seed, 424242])
    )
    fn = ev.rollout_costs if args.mode == "rollout" else ev.deterministic_equivalent_costs
    results = {f"policy ({args.mode})": fn(problem, rule, scenarios, penalty)}
    if args.baselines:
        results["myopic"] = ev.myopic_costs(problem, scenarios)
        results["wait-and-see"] = ev.wait_and_see_costs(problem, scenarios)
    _print_table(results)
    if args.json:
        _write_json(args.json, results)
    return 1 if any(r.failures for r in results.values()) else 0


def _sddp(args: argparse.Namespace) -> int:
    import numpy as np

    from orlearn.decision_rules.evaluate import Evaluation
    from orlearn.decision_rules.sddp import SDDP
    from orlearn.progress import progress_bar

    _at_least(args.iterations, 1, "--iterations")
    _at_least(args.simulations, 1, "--simulations")
    if args.time_limit is not None and args.time_limit <= 0:
        from orlearn.errors import OrlearnError

        raise OrlearnError(f"--time-limit must be positive, got {args.time_limit}")
    _, problem = _problem(args)
    sddp = SDDP(problem)
    with progress_bar(f"SDDP {args.case}", args.iterations) as advance:
        result = sddp.train(
            args.iterations,
            seed=args.seed,
            time_limit=args.time_limit,
            callback=lambda i, lb: advance(status=f"lower bound {lb:.6g}"),
        )
    scenarios = problem.uncertainty.sample(
        args.simulations, np.random.default_rng([args.seed, 424242])
    )
    import time

    t0 = time.perf_counter()
    costs = sddp.simulate(scenarios)
    sim = Evaluation(costs, time.perf_counter() - t0)
    print(
        f"lower bound {result.lower_bound:.6g} after {result.iterations} iterations "
        f"({result.seconds:.0f} s)"
    )
    _print_table({"SDDP (simulated)": sim})
    return 1 if sim.failures else 0


def _print_table(results: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table("method", "mean cost", "std. error", "s / scenario", "failed")
    for name, r in results.items():
        table.add_row(
            name,
            f"{r.mean:,.2f}",
            f"{r.stderr:,.2f}",
            f"{r.seconds_per_scenario:.4f}",
            str(r.failures),
        )
    Console().print(table)


def _write_json(path: str, results: dict) -> None:
    payload = {
        name: {
            "mean": r.mean,
            "stderr": r.stderr,
            "seconds_per_scenario": r.seconds_per_scenario,
            "failures": r.failures,
        }
        for name, r in results.items()
    }
    Path(path).write_text(json.dumps(payload, indent=2) + "\n")
