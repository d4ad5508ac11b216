"""The inventory jobs the ``orlearn inventory`` verbs run, as library functions: setting
overrides, the size of the test run, default step sizes and output paths, train-test-save,
evaluate a policy file or a baseline, run the benchmark.

The command line only parses options into these calls and prints what they return.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orlearn.errors import OrlearnError

#: Trained policies go here by default, never into the shipped policies/inventory/.
DEFAULT_OUTPUT = "runs/inventory"
#: The test run unless the full test is asked for: 2,048 scenarios of 1,500 periods (the first
#: 500 left out), the benchmark's quick test (scripts/bench_inventory.py --budget quick). The
#: published test sets (32,768 x 5,000 periods) take minutes on a CPU.
QUICK_TEST = {"test_samples": 2048, "test_periods": 1500, "test_warmup": 500}
NEURAL_POLICIES = ("vanilla", "symmetric", "gnn")
BASELINES = ("base_stock", "capped_base_stock", "echelon_stock")


def setting_overrides(
    assignments: Iterable[str] = (),
    *,
    lead_time: int | None = None,
    underage_cost: float | None = None,
    stores: int | None = None,
) -> dict[str, Any]:
    """Dotted settings-file overrides from ``KEY=VALUE`` texts plus the three common ones
    (store lead time in periods, store underage cost per unit, number of stores)."""
    from orlearn.inventory.settings import parse_override

    overrides = dict(parse_override(text) for text in assignments)
    if lead_time is not None:
        overrides["store_params.lead_time.value"] = lead_time
    if underage_cost is not None:
        overrides["store_params.underage_cost.value"] = underage_cost
    if stores is not None:
        overrides["problem_params.n_stores"] = stores
    return overrides


def evaluation_size(full_test: bool = False, **given: int | None) -> dict[str, int | None]:
    """Scenarios, periods and warm-up of the test run (keys of :data:`QUICK_TEST`): the quick
    test with each size given replacing its part, or with ``full_test`` the setting's own test
    set (all None: the setting's)."""
    given = {key: value for key, value in given.items() if value is not None}
    if full_test:
        if given:
            raise OrlearnError("--full-test uses the setting's test set; drop --test-samples, --test-periods and --test-warmup")
        return dict.fromkeys(QUICK_TEST)
    for key, value in given.items():
        if value < 0 or (key == "test_periods" and value < 1):
            raise OrlearnError(f"--{key.replace('_', '-')} must be {'at least 1' if key == 'test_periods' else '>= 0'}, got {value}")
    return {**QUICK_TEST, **given}



def default_learning_rate(policy: str) -> float:
    """Adam step size when none is given: 2e-3 for the GNN (larger steps swung its stock
    targets until it lost every gradient, docs/inventory.md), 3e-3 for the other networks,
    3e-2 for the baselines (a handful of levels)."""
    if policy == "gnn":
        return 2e-3
    return 3e-3 if policy in NEURAL_POLICIES else 3e-2


def default_output(setting: str, policy: str) -> Path:
    """Where a trained policy goes when no file is given: runs/inventory/SETTING_POLICY.pt."""
    return Path(DEFAULT_OUTPUT) / f"{setting}_{policy}.pt"


@dataclass
class TrainedPolicy:
    """A written policy: file, learning-curve PNG, best dev cost and epoch, training seconds,
    and the test cost and its standard error (None: not tested)."""

    path: Path
    curves: Path
    best_dev: float
    best_epoch: int
    seconds: float
    test_cost: float | None = None
    test_stderr: float | None = None


def train_policy(
    setting_name: str,
    policy_name: str = "gnn",
    *,
    overrides: dict[str, Any] | None = None,
    output: str | Path | None = None,
    hidden: int = 64,
    rounds: int = 3,
    learning_rate: float | None = None,
    checkpoint: str | Path | None = None,
    test: dict[str, int | None] | None = None,
    seed: int = 0,
    progress: bool = False,
    **train_options: Any,
) -> TrainedPolicy:
    """Train ``policy_name`` on a setting by HDPO (``train_options``: the other fields of
    :class:`orlearn.inventory.hdpo.TrainConfig`), test it (``test``: :func:`evaluation_size`; zero
    scenarios skips it) and save it with its model card and learning curves."""
    from orlearn.inventory.hdpo import TrainConfig, evaluate, train
    from orlearn.inventory.policies import build_policy
    from orlearn.inventory.policy_io import save_inventory_policy
    from orlearn.inventory.settings import load_setting

    setting = load_setting(setting_name, overrides or {})
    model: dict[str, Any] = {"hidden": hidden} if policy_name in NEURAL_POLICIES else {}
    if policy_name == "gnn":
        model["rounds"] = rounds
    policy = build_policy(policy_name, setting.observer(), **model)
    config = TrainConfig(learning_rate=learning_rate or default_learning_rate(policy_name), seed=seed,
                         **train_options)  # fmt: skip
    out = Path(output or default_output(setting.name, policy_name))
    if out.suffix != ".pt":
        raise OrlearnError(f"the policy file must end in .pt, got {out}")
    result = train(setting, policy, config, checkpoint=checkpoint, curves=out.with_suffix(".png"), progress=progress)
    metadata = {"train": config.__dict__, "best_dev_cost": result.best_dev, "best_epoch": result.best_epoch,
                "train_seconds": round(result.seconds, 1)}  # fmt: skip
    test = test or QUICK_TEST
    if test["test_samples"] != 0:
        ev = evaluate(setting, policy, n_samples=test["test_samples"], periods=test["test_periods"],
                      warmup=test["test_warmup"], seed=seed, progress=progress)  # fmt: skip
        metadata["test_cost"], metadata["test_stderr"] = ev.cost, ev.stderr
    save_inventory_policy(out, policy, policy_name, setting, model, metadata)
    return TrainedPolicy(out, out.with_suffix(".png"), result.best_dev, result.best_epoch, result.seconds,
                         metadata.get("test_cost"), metadata.get("test_stderr"))  # fmt: skip


def evaluate_target(
    target: str,
    policy_name: str | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    test: dict[str, int | None] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Test a saved policy (``target`` ends in .pt) or an untrained baseline (``policy_name``)
    on a setting; returns a record: setting, test cost and standard error, scenarios, periods,
    and for profit settings the profit, the just-in-time oracle's and their ratio."""
    from orlearn.inventory.hdpo import evaluate
    from orlearn.inventory.policies import POLICIES, build_policy
    from orlearn.inventory.policy_io import load_inventory_policy
    from orlearn.inventory.settings import load_setting

    test = test or QUICK_TEST
    if test["test_samples"] == 0:
        raise OrlearnError("--test-samples must be at least 1 for evaluate")
    if target.endswith(".pt"):
        policy, setting, _ = load_inventory_policy(target)
    elif policy_name in BASELINES:
        setting = load_setting(target, overrides or {})
        policy = build_policy(policy_name, setting.observer())
    else:
        raise OrlearnError(
            f"evaluate takes a policy file (.pt) or a setting with --policy base_stock / capped_base_stock / "
            f"echelon_stock (untrained default levels); policies: {', '.join(POLICIES)}"
        )
    ev = evaluate(setting, policy, n_samples=test["test_samples"], periods=test["test_periods"],
                  warmup=test["test_warmup"], seed=seed, progress=progress)  # fmt: skip
    record = {"setting": setting.name, "test_cost": ev.cost, "test_stderr": ev.stderr,
              "scenarios": ev.scenarios, "periods": ev.periods}  # fmt: skip
    if ev.profit is not None:
        record.update(profit=ev.profit, oracle_profit=ev.oracle_profit, profit_share=ev.profit / ev.oracle_profit)
    return record


def run_bench(
    results: str | Path,
    *,
    budget: str = "quick",
    only: Sequence[str] = (),
    seed: int = 0,
    progress: bool = False,
) -> list[dict[str, Any]]:
    """Run the benchmark cases of ``budget`` whose name contains one of ``only`` (all when
    empty), resuming from the JSON-lines ``results`` (checkpoints beside it); returns the rows."""
    from orlearn.inventory.bench import cases, run

    names = [case.key for case in cases(budget)]
    for pattern in only:
        if not any(pattern in name for name in names):
            raise OrlearnError(f"--only '{pattern}' matches no {budget} benchmark case; cases: {'; '.join(names)}")
    results = Path(results)
    return run(results, budget=budget, seed=seed, progress=progress,
               only=(lambda c: any(s in c.key for s in only)) if only else None,
               checkpoint_dir=results.parent / "checkpoints")  # fmt: skip
