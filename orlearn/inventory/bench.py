"""The inventory benchmark: train each policy by HDPO, score it on test scenarios, compare it with
the published optimum or bound (Alvo, Russo and Kanoria) or with an optimized baseline evaluated
on the very same test scenarios.

Two budgets: ``full`` follows the settings files (tens of thousands of scenarios, long test
horizons: hours on a GPU); ``quick`` shrinks scenario counts, epochs and horizons to fit minutes
of a shared CPU. Results go to a JSON-lines file, one line per case, so a stopped run resumes.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from orlearn.errors import OrlearnError
from orlearn.inventory.bounds import transshipment_lower_bound
from orlearn.inventory.hdpo import TrainConfig, checkpoint_matches, evaluate, train
from orlearn.inventory.policies import build_policy, newsvendor_base_stock
from orlearn.inventory.policy_io import save_inventory_policy
from orlearn.inventory.settings import Setting, load_setting

log = logging.getLogger(__name__)

SCHEMA = 1
LOST_OPTIMA = {1: 5.44, 2: 6.09, 3: 6.53, 4: 6.84}  # one store, lost sales, Poisson(5), h = 1, p = 9
SERIAL_OPTIMA = {3: 9.87, 4: 10.74, 5: 10.99, 6: 11.78, 7: 12.58}  # echelon-stock optimum, published
TRANSSHIPMENT_BOUNDS = {3: 8.534, 5: 7.902, 10: 8.297, 20: 8.731, 30: 8.377, 50: 8.118}  # published


@dataclass
class Case:
    """One benchmark line: a policy trained on a setting, and what it is compared with."""

    key: str
    setting: str
    policy: str
    overrides: dict[str, Any] = field(default_factory=dict)
    train: TrainConfig = field(default_factory=TrainConfig)
    model: dict[str, Any] = field(default_factory=dict)
    reference: float | None = None  # a published value
    reference_label: str = ""
    reference_case: str | None = None  # or the test cost of another case (same test scenarios)
    reference_fn: Callable[[Setting], float] | None = None  # or a value computed from the setting
    target_gap: float | None = None  # percent
    test_samples: int | None = None
    test_periods: int | None = None
    test_warmup: int | None = None


def cases(budget: str = "quick") -> list[Case]:
    """The benchmark cases at a budget (``quick`` or ``full``), most important first."""
    if budget not in ("quick", "full"):
        raise OrlearnError(f"unknown budget '{budget}' (quick or full)")
    b = _Budget(budget == "full")
    lost, backlogged, later_backlogged = _one_store_cases(b)
    serial, later_serial = _serial_cases(b)
    trans, later_trans = _transshipment_cases(b)
    later = later_backlogged + later_serial + later_trans
    return lost[:2] + backlogged + lost[2:] + trans + serial + _warehouse_cases(b) + _favorita_cases(b) + later


class _Budget:
    """Training configurations and test sizes of a budget."""

    def __init__(self, full: bool) -> None:
        self.full = full
        self.test = {} if full else {"test_samples": 2048, "test_periods": 1500, "test_warmup": 500}
        self.gnn_test = {} if full else {"test_samples": 1024, "test_periods": 1000, "test_warmup": 400}
        self.baseline = TrainConfig(epochs=60 if full else 15, learning_rate=3e-2, train_samples=None if full else 1024,
                                    batch_size=None if full else 128, dev_samples=None if full else 1024, lr_decay=0.9)
        # GNN: its target levels move with every weight, so Adam steps above ~3e-3 swing whole
        # echelons by periods of demand and the closed loop diverges; many small steps instead.
        self.gnn = self.neural(10, 1024, 64, lr=2e-3, decay=0.9, dev=512)
        # One store: many cheap steps (small batches), a high rate decaying to ~2e-4; horizons of 60
        # periods (20 of warm-up) and dev costs over 150 periods, so that the truncated end of the
        # horizon and dev noise do not decide the last 0.1 %.
        self.single = replace(self.neural(80, 2048, 128, lr=1e-2, decay=0.95, periods=60, warmup=20, dev=1024),
                              patience=25, dev_periods=None if full else 200, dev_warmup=None if full else 50)

    def neural(self, epochs: int, samples: int | None, batch: int | None, *, lr: float = 3e-3, decay: float = 0.93,
               fixed_samples: bool = False, dev: int = 1024, periods: int | None = None,
               warmup: int | None = None) -> TrainConfig:
        if self.full:  # the files' scenario counts, long training, early stopping on dev
            return TrainConfig(epochs=2000, learning_rate=lr, train_samples=samples if fixed_samples else None,
                               batch_size=batch if fixed_samples else None, lr_decay=0.999, patience=200,
                               train_periods=periods, train_warmup=warmup)
        return TrainConfig(epochs=epochs, learning_rate=lr, train_samples=samples, batch_size=batch,
                           dev_samples=dev, lr_decay=decay, patience=10, train_periods=periods, train_warmup=warmup)


def _one_store_cases(b: _Budget) -> tuple[list[Case], list[Case], list[Case]]:
    """Lost sales at four lead times, then backlogged demand at lead times 4 and (later) 1."""
    lost, backlogged, later = [], [], []
    for lead, optimum in LOST_OPTIMA.items():
        ov = {"store_params.lead_time.value": lead, "store_params.underage_cost.value": 9.0}
        lost.append(Case(f"one_store_lost L={lead} vanilla", "one_store_lost", "vanilla", ov, b.single,
                         reference=optimum, reference_label="optimal (published)", target_gap=0.3, **b.test))
        lost.append(Case(f"one_store_lost L={lead} capped_base_stock", "one_store_lost", "capped_base_stock", ov,
                         b.baseline, reference=optimum, reference_label="optimal (published)", **b.test))
    for lead in (4, 1):
        ov = {"store_params.lead_time.value": lead}
        level, cost = newsvendor_base_stock(5.0, 1.6, lead, 1.0, 9.0)
        (backlogged if lead == 4 else later).append(
            Case(f"one_store_backlogged L={lead} vanilla", "one_store_backlogged", "vanilla", ov,
                 b.single, reference=cost,
                 reference_label=f"base-stock optimum, closed form (S = {level:.2f})", target_gap=0.1, **b.test))
    return lost, backlogged, later


def _serial_cases(b: _Budget) -> tuple[list[Case], list[Case]]:
    """Four echelons (echelon-stock baseline and GNN), then (later) three."""
    full = b.full
    # Serial: 13 periods of lead time from the top to the store need long horizons.
    long = {"train_periods": 100, "train_warmup": 40, "dev_periods": 300, "dev_warmup": 100}
    # Echelon levels by gradient are biased low on a finite horizon (upstream stock pays off late):
    # the longest horizons go to this baseline.
    serial = [
        Case("serial_system 4 echelons echelon_stock", "serial_system", "echelon_stock", {},
             replace(b.baseline, epochs=60 if full else 15, train_samples=None if full else 256,
                     batch_size=None if full else 32, train_periods=400, train_warmup=100,
                     dev_periods=400, dev_warmup=100),
             reference=SERIAL_OPTIMA[4], reference_label="echelon-stock optimum (published)", **b.gnn_test),
        Case("serial_system 4 echelons gnn", "serial_system", "gnn", {},
             replace(b.gnn, train_samples=None if full else 512, batch_size=None if full else 32,
                     dev_samples=None if full else 256, **long),
             reference=SERIAL_OPTIMA[4], reference_label="echelon-stock optimum (published)",
             target_gap=0.5, **b.gnn_test),
    ]  # fmt: skip
    # Three echelons: the file without its top echelon. The published 9.87 is for an instance whose
    # parameters are not in the files (this variant's echelon-stock optimum is higher), so the GNN
    # is compared with echelon-stock levels optimized here.
    three = {"problem_params.n_extra_echelons": 1, "echelon_params.holding_cost": [0.2], "echelon_params.lead_time": [4]}
    later = [
        Case("serial_system 3 echelons echelon_stock", "serial_system", "echelon_stock", three,
             serial[0].train, reference=SERIAL_OPTIMA[3],
             reference_label="published 3-echelon optimum, another instance", **b.gnn_test),
        Case("serial_system 3 echelons gnn", "serial_system", "gnn", three, serial[1].train,
             reference_case="serial_system 3 echelons echelon_stock",
             reference_label="echelon-stock, gradient-optimized here", target_gap=0.5, **b.gnn_test),
    ]  # fmt: skip
    return serial, later


def _transshipment_cases(b: _Budget) -> tuple[list[Case], list[Case]]:
    """Three stores, then (later) five and ten: echelon-stock baseline and GNN each."""
    trans, later = [], []
    for stores in (3, 5, 10):
        ov = {"problem_params.n_stores": stores}
        label = f"lower bound, balance relaxation (published {TRANSSHIPMENT_BOUNDS[stores]} for other draws)"
        for policy, config in (("echelon_stock", b.baseline), ("gnn", b.gnn)):
            (trans if stores == 3 else later).append(
                Case(f"transshipment {stores} stores {policy}", "transshipment_backlogged", policy, ov, config,
                     reference_fn=transshipment_lower_bound, reference_label=label,
                     target_gap=0.5 if policy == "gnn" else None, **b.gnn_test))
    return trans, later


def _warehouse_cases(b: _Budget) -> list[Case]:
    """One warehouse trained on few or many fixed scenarios."""
    out = []
    for samples in (16, 256) + ((8192,) if b.full else ()):
        for policy in ("vanilla", "gnn"):
            config = b.neural(30 if samples < 256 else 10, samples, min(samples, 128), fixed_samples=True, dev=512)
            out.append(Case(f"one_warehouse {samples} scenarios {policy}", "one_warehouse_lost_demand", policy,
                            {}, config, **b.gnn_test))
    return out


def _favorita_cases(b: _Budget) -> list[Case]:
    """Real sales: a base-stock baseline and a GNN."""
    return [
        Case("favorita base_stock", "favorita", "base_stock", {},
             replace(b.baseline, train_samples=None, batch_size=72, dev_samples=None)),
        Case("favorita gnn", "favorita", "gnn", {}, replace(b.neural(8, None, 72), dev_samples=None)),
    ]  # fmt: skip


def run_case(case: Case, previous: dict[str, dict], *, seed: int = 0, progress: bool = False,
             checkpoint_dir: Path | None = None, policy_dir: Path | None = None) -> dict[str, Any]:
    """Train and test one case; ``previous`` holds finished rows (for ``reference_case``)."""
    setting = load_setting(case.setting, case.overrides)
    policy = build_policy(case.policy, setting.observer(), **case.model)
    config = replace(case.train, seed=seed)
    ckpt = checkpoint_dir / (_slug(case.key) + ".ckpt") if checkpoint_dir else None
    if ckpt is not None and ckpt.is_file() and not checkpoint_matches(ckpt, config):
        log.info("case %s changed since its checkpoint: starting it again", case.key)
        ckpt.unlink()
    started = time.perf_counter()
    result = train(setting, policy, config, checkpoint=ckpt, progress=progress)
    train_seconds = result.seconds
    ev = evaluate(setting, policy, n_samples=case.test_samples, periods=case.test_periods,
                  warmup=case.test_warmup, seed=seed, progress=progress)
    reference = case.reference
    if case.reference_case is not None:
        reference = previous.get(case.reference_case, {}).get("test_cost")
    if case.reference_fn is not None:
        reference = case.reference_fn(setting)
    row: dict[str, Any] = {
        "schema": SCHEMA, "case": case.key, "setting": case.setting, "policy": case.policy,
        "overrides": case.overrides, "train": asdict(config), "train_seconds": round(train_seconds, 1),
        "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "dev_cost": result.best_dev,
        "test_cost": ev.cost, "test_stderr": ev.stderr, "test_scenarios": ev.scenarios, "test_periods": ev.periods,
        "reference": reference, "reference_label": case.reference_label, "target_gap": case.target_gap,
        "wall_seconds": round(time.perf_counter() - started, 1),
    }
    if reference:
        row["gap_percent"] = 100.0 * (ev.cost - reference) / abs(reference)
    if ev.profit is not None:
        row["profit"] = ev.profit
        row["oracle_profit"] = ev.oracle_profit
        row["profit_share_percent"] = 100.0 * ev.profit / ev.oracle_profit
    if hasattr(policy, "level"):
        row["levels"] = [round(float(v), 4) for v in policy.level.detach()]
    if policy_dir is not None:
        path = policy_dir / (_slug(case.key) + ".pt")
        save_inventory_policy(path, policy, case.policy, setting, case.model,
                              {k: row[k] for k in ("case", "train", "test_cost", "test_stderr", "train_seconds")})
        row["policy_file"] = str(path)
    return row


def _slug(key: str) -> str:
    return key.replace(" ", "_").replace("=", "")


def run(results: Path, *, budget: str = "quick", only: Callable[[Case], bool] | None = None, seed: int = 0,
        progress: bool = False, checkpoint_dir: Path | None = None,
        policy_dir: Path | None = None) -> list[dict[str, Any]]:
    """Run every (selected) case not yet in ``results`` (JSON lines), appending as it goes."""
    done: dict[str, dict] = {}
    if results.is_file():
        for line in results.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["case"]] = row
    results.parent.mkdir(parents=True, exist_ok=True)
    for case in cases(budget):
        if case.key in done or (only is not None and not only(case)):
            continue
        log.info("benchmark case %s", case.key)
        row = run_case(case, done, seed=seed, progress=progress, checkpoint_dir=checkpoint_dir, policy_dir=policy_dir)
        done[case.key] = row
        with results.open("a") as f:
            f.write(json.dumps(row) + "\n")
    return list(done.values())


def _natural(key: str) -> list[Any]:
    """Sort key that puts '3 stores' before '10 stores'."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def table(rows: list[dict[str, Any]]) -> str:
    """A Markdown table of benchmark rows, grouped by setting (case names in natural order)."""
    rows = sorted(rows, key=lambda r: _natural(r["case"]))
    lines = [
        "| case | test cost / period / store | ± s.e. | reference | gap % | target | train s | epochs |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ref = f"{r['reference']:.3f} ({r['reference_label']})" if r.get("reference") else "-"
        gap = f"{r['gap_percent']:.2f}" if "gap_percent" in r else "-"
        if "profit_share_percent" in r:
            ref, gap = f"JIT oracle profit {r['oracle_profit']:.0f}/period", f"profit share {r['profit_share_percent']:.1f} %"
        target = "-"
        if r.get("target_gap") is not None and "gap_percent" in r:
            target = f"<= {r['target_gap']} %: {'met' if r['gap_percent'] <= r['target_gap'] else 'missed'}"
        lines.append(
            f"| {r['case']} | {r['test_cost']:.4f} | {r['test_stderr']:.4f} | {ref} | {gap} | {target} | "
            f"{r['train_seconds']:.0f} | {r['epochs_run']} |"
        )
    return "\n".join(lines)
