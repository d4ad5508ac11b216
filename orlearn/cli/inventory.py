"""`orlearn inventory`: train, evaluate and benchmark inventory policies (HDPO)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from orlearn.threads import add_threads_option

# Trained policies go here by default, never into the shipped policies/inventory/.
DEFAULT_OUTPUT = "runs/inventory"
# The test run of `train` and `evaluate` unless --full-test: 2,048 scenarios of 1,500 periods
# (the first 500 left out), the benchmark's test (scripts/bench_inventory.py --budget quick).
# The published test sets (32,768 x 5,000 periods) take minutes on a CPU.
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


def _overrides(args: argparse.Namespace) -> dict:
    from orlearn.inventory.settings import parse_override

    overrides = dict(parse_override(text) for text in args.set)
    if args.lead_time is not None:
        overrides["store_params.lead_time.value"] = args.lead_time
    if args.underage_cost is not None:
        overrides["store_params.underage_cost.value"] = args.underage_cost
    if args.stores is not None:
        overrides["problem_params.n_stores"] = args.stores
    return overrides


def _threads(n: int | None) -> None:
    from orlearn.threads import set_threads

    set_threads(n, "batched")  # thousands of scenarios simulated at once


def _test_size(args: argparse.Namespace) -> dict:
    """Scenarios, periods and warm-up of the test run: the quick test with each option given
    replacing its part, or with --full-test the setting's own test set (None = the setting's)."""
    from orlearn.errors import OrlearnError

    given = {key: getattr(args, key) for key in QUICK_TEST if getattr(args, key) is not None}
    if args.full_test:
        if given:
            raise OrlearnError("--full-test uses the setting's test set; drop --test-samples, --test-periods and --test-warmup")
        return dict.fromkeys(QUICK_TEST)
    for key, value in given.items():
        if value < 0 or (key == "test_periods" and value < 1):
            raise OrlearnError(f"--{key.replace('_', '-')} must be {'at least 1' if key == 'test_periods' else '>= 0'}, got {value}")
    return {**QUICK_TEST, **given}


def _train(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.errors import OrlearnError
    from orlearn.inventory.hdpo import TrainConfig, evaluate, train
    from orlearn.inventory.policies import build_policy
    from orlearn.inventory.policy_io import save_inventory_policy
    from orlearn.inventory.settings import load_setting

    _threads(args.threads)
    setting = load_setting(args.setting, _overrides(args))
    neural = args.policy in ("vanilla", "symmetric", "gnn")
    model = {"hidden": args.hidden} if neural else {}
    if args.policy == "gnn":
        model["rounds"] = args.rounds
    policy = build_policy(args.policy, setting.observer(), **model)
    # Default step sizes: 2e-3 for the GNN (larger steps swung its stock targets until it lost
    # every gradient, docs/inventory.md), 3e-3 for the other networks, 3e-2 for the baselines.
    default_lr = 2e-3 if args.policy == "gnn" else (3e-3 if neural else 3e-2)
    config = TrainConfig(
        epochs=args.epochs, learning_rate=args.lr or default_lr,
        train_samples=args.train_samples, batch_size=args.batch_size, train_periods=args.periods,
        dev_samples=args.dev_samples, patience=args.patience, lr_decay=args.lr_decay, seed=args.seed,
    )
    out = Path(args.output or Path(DEFAULT_OUTPUT) / f"{setting.name}_{args.policy}.pt")
    if out.suffix != ".pt":
        raise OrlearnError(f"the policy file must end in .pt, got {out}")
    result = train(
        setting, policy, config, checkpoint=args.checkpoint, curves=out.with_suffix(".png"), progress=not args.quiet
    )
    metadata = {"train": config.__dict__, "best_dev_cost": result.best_dev, "best_epoch": result.best_epoch,
                "train_seconds": round(result.seconds, 1)}
    test = _test_size(args)
    if test["test_samples"] != 0:
        ev = evaluate(setting, policy, n_samples=test["test_samples"], periods=test["test_periods"],
                      warmup=test["test_warmup"], seed=args.seed, progress=not args.quiet)
        metadata["test_cost"], metadata["test_stderr"] = ev.cost, ev.stderr
    save_inventory_policy(out, policy, args.policy, setting, model, metadata)
    console = Console()
    console.print(f"dev cost per period per store {result.best_dev:.4f} (epoch {result.best_epoch}, {result.seconds:.0f} s)")
    if "test_cost" in metadata:
        console.print(f"test cost per period per store {metadata['test_cost']:.4f} ± {metadata['test_stderr']:.4f}")
    console.print(f"policy written to {out} (learning curves {out.with_suffix('.png')})")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.errors import OrlearnError
    from orlearn.inventory.hdpo import evaluate
    from orlearn.inventory.policies import POLICIES, build_policy
    from orlearn.inventory.policy_io import load_inventory_policy
    from orlearn.inventory.settings import load_setting

    _threads(args.threads)
    test = _test_size(args)
    if test["test_samples"] == 0:
        raise OrlearnError("--test-samples must be at least 1 for evaluate")
    if args.target.endswith(".pt"):
        policy, setting, _ = load_inventory_policy(args.target)
    elif args.policy in ("base_stock", "capped_base_stock", "echelon_stock"):
        setting = load_setting(args.target, _overrides(args))
        policy = build_policy(args.policy, setting.observer())
    else:
        raise OrlearnError(
            f"evaluate takes a policy file (.pt) or a setting with --policy base_stock / capped_base_stock / "
            f"echelon_stock (untrained default levels); policies: {', '.join(POLICIES)}"
        )
    ev = evaluate(setting, policy, n_samples=test["test_samples"], periods=test["test_periods"],
                  warmup=test["test_warmup"], seed=args.seed, progress=not args.quiet)
    record = {"setting": setting.name, "test_cost": ev.cost, "test_stderr": ev.stderr,
              "scenarios": ev.scenarios, "periods": ev.periods}
    if ev.profit is not None:
        record.update(profit=ev.profit, oracle_profit=ev.oracle_profit, profit_share=ev.profit / ev.oracle_profit)
    if args.json:
        print(json.dumps(record))
    else:
        Console().print(f"{setting.name}: test cost per period per store {ev.cost:.4f} ± {ev.stderr:.4f} "
                        f"({ev.scenarios} scenarios x {ev.periods} periods)")
        if ev.profit is not None:
            Console().print(f"profit per period {ev.profit:.1f}, just-in-time oracle {ev.oracle_profit:.1f} "
                            f"({100 * ev.profit / ev.oracle_profit:.1f} %)")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from rich.console import Console

    from orlearn.errors import OrlearnError
    from orlearn.inventory.bench import cases, run, table

    _threads(args.threads)
    for pattern in args.only:
        if not any(pattern in case.key for case in cases(args.budget)):
            names = "; ".join(case.key for case in cases(args.budget))
            raise OrlearnError(f"--only '{pattern}' matches no {args.budget} benchmark case; cases: {names}")
    rows = run(Path(args.results), budget=args.budget, seed=args.seed, progress=not args.quiet,
               only=(lambda c: any(s in c.key for s in args.only)) if args.only else None,
               checkpoint_dir=Path(args.results).parent / "checkpoints")
    Console().print(table(rows))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("inventory", help="inventory policies trained by HDPO (train, evaluate, bench)")
    verbs = parser.add_subparsers(dest="inventory_command", metavar="VERB", required=True)

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
