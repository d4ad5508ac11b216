"""`orlearn decision-rules train|evaluate|sddp`: TS-DDR decision rules and SDDP on
hydrothermal dispatch cases."""

from __future__ import annotations

import argparse
from typing import Any

from orlearn.cli.common import verb_group
from orlearn.threads import add_threads_option


def register(subparsers: argparse._SubParsersAction) -> None:
    verbs = verb_group(subparsers, "decision-rules",
                       "TS-DDR decision rules and SDDP (hydrothermal dispatch)")  # fmt: skip
    _register_train(verbs)
    _register_evaluate(verbs)
    _register_sddp(verbs)


def _case_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("case", help="case folder, or a shipped case name (case3, bolivia)")
    p.add_argument("--stages", type=int, default=None, help="horizon (default: the inflow file's rows)")
    p.add_argument("--network", choices=("dc", "single"), default="dc", help="DC power flow or one bus")
    p.add_argument("--seed", type=int, default=0)


def _register_train(verbs: argparse._SubParsersAction) -> None:
    train = verbs.add_parser("train", help="train a TS-DDR policy")
    _case_arguments(train)
    add_threads_option(train, "small")
    train.add_argument("-o", "--output", required=True, help="policy file to write (.pt)")
    train.add_argument("--arch", choices=("lstm", "gru", "mlp", "linear"), default="lstm")
    train.add_argument("--hidden", type=int, default=64)
    train.add_argument("--iterations", type=int, default=200)
    train.add_argument("--batch", type=int, default=8, help="scenarios per iteration")
    train.add_argument("--lr", type=float, default=1e-2)
    train.add_argument("--lr-end", type=float, default=None, help="final learning rate (geometric decay)")
    train.add_argument("--penalty", type=float, default=None,
                       help="final slack penalty (default: 2x the water-value bound)")  # fmt: skip
    train.add_argument("--penalty-start", type=float, default=None,
                       help="initial slack penalty (default: final / 10)")  # fmt: skip
    train.add_argument("--inflows", choices=("independent", "ar1"), default="independent",
                       help="training scenario model")  # fmt: skip
    train.add_argument("--checkpoint", default=None, help="resumable checkpoint (default: OUTPUT.ckpt)")
    train.set_defaults(func=_train)


def _register_evaluate(verbs: argparse._SubParsersAction) -> None:
    ev = verbs.add_parser("evaluate", help="out-of-sample cost of a policy and baselines")
    _case_arguments(ev)
    add_threads_option(ev, "small")
    ev.add_argument("--policy", required=True)
    ev.add_argument("--scenarios", type=int, default=500, help="out-of-sample scenarios (default 500)")
    ev.add_argument("--mode", choices=("rollout", "de"), default="rollout",
                    help="stage-wise rollout or one LP per scenario")  # fmt: skip
    ev.add_argument("--baselines", action="store_true", help="also myopic and wait-and-see")
    ev.add_argument("--json", default=None, help="write the results here")
    ev.set_defaults(func=_evaluate)


def _register_sddp(verbs: argparse._SubParsersAction) -> None:
    sd = verbs.add_parser("sddp", help="train SDDP and simulate it")
    _case_arguments(sd)
    sd.add_argument("--iterations", type=int, default=50, help="SDDP iterations (default 50)")
    sd.add_argument("--simulations", type=int, default=200, help="scenarios simulated (default 200)")
    sd.add_argument("--time-limit", type=float, default=None, help="seconds of training at most")
    sd.set_defaults(func=_sddp)


def _at_least(value: int | None, minimum: int, option: str) -> None:
    from orlearn.errors import OrlearnError

    if value is not None and value < minimum:
        raise OrlearnError(f"{option} must be at least {minimum}, got {value}")


def _case_options(args: argparse.Namespace) -> dict[str, Any]:
    """The case options of every verb, checked; torch threads set for the verbs that run it."""
    from orlearn.threads import set_threads

    _at_least(args.stages, 1, "--stages")
    if hasattr(args, "threads"):  # train and evaluate run torch; sddp does not
        set_threads(args.threads, "small")  # small recurrent nets: more threads only add overhead
    return {"stages": args.stages, "network": args.network, "seed": args.seed}


def _train(args: argparse.Namespace) -> int:
    from orlearn.decision_rules.tasks import train_policy

    for value, minimum, option in ((args.iterations, 1, "--iterations"), (args.batch, 1, "--batch"),
                                   (args.hidden, 1, "--hidden")):
        _at_least(value, minimum, option)
    result = train_policy(
        args.case, args.output, **_case_options(args), arch=args.arch, hidden=args.hidden,
        iterations=args.iterations, batch=args.batch, lr=args.lr, lr_end=args.lr_end,
        penalty=args.penalty, penalty_start=args.penalty_start, inflows=args.inflows,
        checkpoint=args.checkpoint,
    )  # fmt: skip
    print(
        f"wrote {result.path} (best validation cost {result.best_validation:.6g}, {result.seconds:.0f} s)"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from orlearn.decision_rules.tasks import evaluate_policy, save_evaluations

    _at_least(args.scenarios, 1, "--scenarios")
    results = evaluate_policy(
        args.case, args.policy, **_case_options(args), scenarios=args.scenarios, mode=args.mode,
        baselines=args.baselines,
    )  # fmt: skip
    _print_table(results)
    if args.json:
        save_evaluations(args.json, results)
    return 1 if any(r.failures for r in results.values()) else 0


def _sddp(args: argparse.Namespace) -> int:
    from orlearn.decision_rules.tasks import run_sddp

    _at_least(args.iterations, 1, "--iterations")
    _at_least(args.simulations, 1, "--simulations")
    result, simulated = run_sddp(
        args.case, **_case_options(args), iterations=args.iterations,
        simulations=args.simulations, time_limit=args.time_limit,
    )  # fmt: skip
    print(
        f"lower bound {result.lower_bound:.6g} after {result.iterations} iterations "
        f"({result.seconds:.0f} s)"
    )
    _print_table({"SDDP (simulated)": simulated})
    return 1 if simulated.failures else 0


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
