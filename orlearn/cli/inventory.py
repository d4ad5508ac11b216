"""`orlearn inventory`: train, evaluate and benchmark inventory policies (HDPO)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from orlearn.cli.common import verb_group
from orlearn.threads import add_threads_option

# The defaults shown in --help, kept in step with orlearn.inventory.tasks (a test checks it) so
# that `--help` needs no import of torch.
DEFAULT_OUTPUT = "runs/inventory"
QUICK_TEST = {"test_samples": 2048, "test_periods": 1500, "test_warmup": 500}

SETTING_HELP = (
    "one_store_lost, one_store_backlogged, one_warehouse_lost_demand, serial_system, "
    "transshipment_backlogged, favorita, or a settings .yml file"
)


def _add_setting_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--lead-time", type=int, help="store lead time (periods), for one-supplier stores")
    p.add_argument("--underage-cost", type=float, help="store underage cost per unit")
    p.add_argument("--stores", type=int, help="number of stores")
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override any key of the settings file, dotted (e.g. problem_params.n_extra_echelons=1); repeatable",
    )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    from orlearn.inventory.tasks import setting_overrides

    return setting_overrides(
        args.set, lead_time=args.lead_time, underage_cost=args.underage_cost, stores=args.stores
    )


def _threads(n: int | None) -> None:
    from orlearn.threads import set_threads

    set_threads(n, "batched")  # thousands of scenarios simulated at once


def _test_size(args: argparse.Namespace) -> dict[str, int | None]:
    from orlearn.inventory.tasks import evaluation_size

    return evaluation_size(
        args.full_test, test_samples=args.test_samples, test_periods=args.test_periods,
        test_warmup=args.test_warmup,
    )  # fmt: skip


def _train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.inventory.tasks import train_policy

    _threads(args.threads)
    test = _test_size(args)
    result = train_policy(
        args.setting, args.policy, overrides=_overrides(args), output=args.output,
        hidden=args.hidden, rounds=args.rounds, learning_rate=args.lr, checkpoint=args.checkpoint,
        test=test, seed=args.seed, progress=not args.quiet, epochs=args.epochs,
        train_samples=args.train_samples, batch_size=args.batch_size, train_periods=args.periods,
        dev_samples=args.dev_samples, patience=args.patience, lr_decay=args.lr_decay,
    )  # fmt: skip
    console = Console()
    console.print(f"dev cost per period per store {result.best_dev:.4f} (epoch {result.best_epoch}, {result.seconds:.0f} s)")
    if result.test_cost is not None:
        console.print(f"test cost per period per store {result.test_cost:.4f} ± {result.test_stderr:.4f}")
    console.print(f"policy written to {result.path} (learning curves {result.curves})")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.inventory.tasks import evaluate_target

    _threads(args.threads)
    test = _test_size(args)
    overrides = {} if args.target.endswith(".pt") else _overrides(args)
    record = evaluate_target(
        args.target, args.policy, overrides=overrides, test=test, seed=args.seed,
        progress=not args.quiet,
    )  # fmt: skip
    if args.json:
        print(json.dumps(record))
    else:
        Console().print(f"{record['setting']}: test cost per period per store {record['test_cost']:.4f} "
                        f"± {record['test_stderr']:.4f} ({record['scenarios']} scenarios x {record['periods']} periods)")
        if "profit" in record:
            Console().print(f"profit per period {record['profit']:.1f}, just-in-time oracle "
                            f"{record['oracle_profit']:.1f} ({100 * record['profit_share']:.1f} %)")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.inventory.bench import table
    from orlearn.inventory.tasks import run_bench

    _threads(args.threads)
    rows = run_bench(args.results, budget=args.budget, only=args.only, seed=args.seed, progress=not args.quiet)
    Console().print(table(rows))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    verbs = verb_group(subparsers, "inventory", "inventory policies trained by HDPO (train, evaluate, bench)")

    p = verbs.add_parser("train", help="train a policy on a setting by HDPO and save it")
    p.add_argument("setting", help=SETTING_HELP)
    p.add_argument("--policy", default="gnn",
                   choices=["vanilla", "symmetric", "gnn", "base_stock", "capped_base_stock", "echelon_stock"])
    p.add_argument("-o", "--output", help=f"policy file (.pt); default {DEFAULT_OUTPUT}/SETTING_POLICY.pt "
                   "in the current directory")
    p.add_argument("--epochs", type=int, default=50)
    p.add_argument("--lr", type=float, help="Adam learning rate (default 2e-3 gnn, 3e-3 other networks, 3e-2 baselines)")
    p.add_argument("--lr-decay", type=float, default=0.95, help="learning-rate factor per epoch")
    p.add_argument("--train-samples", type=int, help="training scenarios (default: the setting's)")
    p.add_argument("--batch-size", type=int, help="scenarios per gradient step (default: the setting's)")
    p.add_argument("--periods", type=int, help="periods per training scenario (default: the setting's)")
    p.add_argument("--dev-samples", type=int, help="dev scenarios (default: the setting's)")
    p.add_argument("--patience", type=int, default=15, help="stop after this many epochs without a better dev cost")
    p.add_argument("--hidden", type=int, default=64, help="hidden width of neural policies")
    p.add_argument("--rounds", type=int, default=3, help="message-passing rounds of the GNN")
    p.add_argument("--checkpoint", help="checkpoint file: resume from it and update it every epoch")
    _add_test_options(p, train=True)
    _add_setting_options(p)
    p.set_defaults(func=_train)

    p = verbs.add_parser("evaluate", help="test cost of a saved policy (or of a baseline on a setting)")
    p.add_argument("target", help="a policy file .pt, or a setting name with --policy")
    p.add_argument("--policy", help="baseline to evaluate on a setting")
    p.add_argument("--json", action="store_true", help="print one JSON record")
    _add_test_options(p, train=False)
    _add_setting_options(p)
    p.set_defaults(func=_evaluate)

    p = verbs.add_parser("bench", help="the benchmark table (same as scripts/bench_inventory.py)")
    p.add_argument("--budget", choices=["quick", "full"], default="quick")
    p.add_argument("--only", action="append", default=[], help="run the cases whose name contains this; repeatable")
    p.add_argument("--results", default="runs/inventory/bench.jsonl", help="JSON-lines results (resumed)")
    p.add_argument("--seed", type=int, default=0)
    add_threads_option(p, "batched")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_bench)


def _add_test_options(p: argparse.ArgumentParser, *, train: bool) -> None:
    quick = (f"{QUICK_TEST['test_samples']} scenarios x {QUICK_TEST['test_periods']} periods, "
             f"the first {QUICK_TEST['test_warmup']} left out")
    p.add_argument("--test-samples", type=int, default=None, help=f"test scenarios (default {QUICK_TEST['test_samples']}"
                   + ("; 0 skips the test after training)" if train else ")"))
    p.add_argument("--test-periods", type=int, default=None,
                   help=f"periods per test scenario (default {QUICK_TEST['test_periods']})")
    p.add_argument("--test-warmup", type=int, default=None,
                   help=f"warm-up periods left out of the test cost (default {QUICK_TEST['test_warmup']})")
    p.add_argument("--full-test", action="store_true",
                   help=f"test on the setting's own test set (the published one: 32,768 scenarios x 5,000 "
                   f"periods for the one-store settings) instead of the quick test ({quick})")
    p.add_argument("--seed", type=int, default=0)
    add_threads_option(p, "batched")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
