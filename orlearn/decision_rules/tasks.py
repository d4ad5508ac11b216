"""The hydrothermal jobs the ``orlearn decision-rules`` verbs run, as library functions: load a
case as a multistage problem, train a TS-DDR policy with its defaults, evaluate a policy
out of sample against baselines, train and simulate SDDP.

The command line only parses options into these calls and prints what they return.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from orlearn.decision_rules.evaluate import Evaluation
    from orlearn.decision_rules.hydro import HydroCase
    from orlearn.decision_rules.sddp import SDDPResult

#: Seed suffix of out-of-sample scenarios, so that they never coincide with training scenarios
#: drawn from the same seed.
EVALUATION_STREAM = 424242


def load_problem(case: str | Path, stages: int | None = None, network: str = "dc") -> tuple[HydroCase, Any]:
    """A case folder or shipped case name (case3, bolivia) and its multistage problem over
    ``stages`` stages (None: the inflow file's rows), with DC power flow or one bus."""
    from orlearn.decision_rules.hydro import case_path, hydro_problem, load_case

    loaded = load_case(case_path(case))
    return loaded, hydro_problem(loaded, stages, network=network)


def default_penalty(case: HydroCase) -> float:
    """The slack penalty when none is given: twice the water-value bound of the case, so that
    a slack never pays off against releasing water."""
    return 2 * case.water_value_bound()


def evaluation_scenarios(problem: Any, count: int, seed: int) -> np.ndarray:
    """``count`` out-of-sample scenarios of ``problem``, seeded apart from training."""
    return problem.uncertainty.sample(count, np.random.default_rng([seed, EVALUATION_STREAM]))


@dataclass
class TrainedPolicy:
    """A written TS-DDR policy: its file, learning-curve PNG, best validation cost and
    training seconds."""

    path: Path
    curves: Path
    best_validation: float
    seconds: float


def train_policy(
    case: str,
    out: str | Path,
    *,
    stages: int | None = None,
    network: str = "dc",
    seed: int = 0,
    arch: str = "lstm",
    hidden: int = 64,
    iterations: int = 200,
    batch: int = 8,
    lr: float = 1e-2,
    lr_end: float | None = None,
    penalty: float | None = None,
    penalty_start: float | None = None,
    inflows: str = "independent",
    checkpoint: str | Path | None = None,
) -> TrainedPolicy:
    """Train a TS-DDR rule (``arch``: lstm, gru, mlp, linear) on ``case`` and save it to ``out``
    with its metadata, and its learning curves beside it (.png). ``penalty`` defaults to
    :func:`default_penalty`; ``inflows`` is the training scenario model (independent or a
    fitted log-normal AR(1)); ``checkpoint`` (default OUT.ckpt) makes the run resumable."""
    import torch

    from orlearn.curves import save_learning_curves
    from orlearn.decision_rules.hydro import LogNormalAR1
    from orlearn.decision_rules.policies import rule_for_problem, save_rule
    from orlearn.decision_rules.tsddr import TrainConfig, train_tsddr
    from orlearn.progress import progress_bar
    from orlearn.seeding import seed_everything

    seed_everything(seed)
    loaded, problem = load_problem(case, stages, network)
    rule = rule_for_problem(arch, problem, hidden=hidden)
    penalty = penalty or default_penalty(loaded)
    config = TrainConfig(
        iterations=iterations, batch_size=batch, learning_rate=lr, learning_rate_end=lr_end,
        penalty_end=penalty, penalty_start=penalty_start, seed=seed,
    )  # fmt: skip
    sampler = LogNormalAR1.fit(loaded, problem.n_stages).sample if inflows == "ar1" else None
    out = Path(out)
    ckpt = Path(checkpoint) if checkpoint else out.with_suffix(".ckpt")
    with progress_bar(f"TS-DDR {case}", iterations) as advance:
        result = train_tsddr(problem, rule, config, sampler=sampler, checkpoint=ckpt, progress=advance)
    metadata = {
        "case": case, "stages": problem.n_stages, "network": network, "penalty": penalty,
        "inflows": inflows, "iterations": result.iterations, "batch": batch,
        "learning_rate": lr, "learning_rate_end": lr_end, "seed": seed,
        "best_validation_cost": result.best_validation, "train_seconds": round(result.seconds, 1),
        "solve_failures": result.failures, "torch_threads": torch.get_num_threads(),
    }  # fmt: skip
    save_rule(out, rule, metadata)
    curves = dict(result.curves)
    curves[f"validation cost (every {config.validate_every} iterations)"] = curves.pop("validation cost")
    png = out.with_suffix(".png")
    save_learning_curves(png, curves, xlabel="iteration (validation: check number)", title=f"TS-DDR {case}")
    return TrainedPolicy(out, png, result.best_validation, result.seconds)


def evaluate_policy(
    case: str,
    policy: str | Path,
    *,
    stages: int | None = None,
    network: str = "dc",
    seed: int = 0,
    scenarios: int = 500,
    mode: str = "rollout",
    baselines: bool = False,
) -> dict[str, Evaluation]:
    """Out-of-sample costs of a saved policy on ``scenarios`` scenarios, by stage-wise rollout
    or one LP per scenario (``mode`` rollout or de), with the myopic and wait-and-see baselines
    when asked; keyed by method name. The penalty is the policy's own (else the default)."""
    from orlearn.decision_rules import evaluate as ev
    from orlearn.decision_rules.policies import load_rule

    loaded, problem = load_problem(case, stages, network)
    rule, meta = load_rule(policy)
    penalty = float(meta.get("penalty", default_penalty(loaded)))
    sampled = evaluation_scenarios(problem, scenarios, seed)
    costs = ev.rollout_costs if mode == "rollout" else ev.deterministic_equivalent_costs
    results = {f"policy ({mode})": costs(problem, rule, sampled, penalty)}
    if baselines:
        results["myopic"] = ev.myopic_costs(problem, sampled)
        results["wait-and-see"] = ev.wait_and_see_costs(problem, sampled)
    return results


def run_sddp(
    case: str,
    *,
    stages: int | None = None,
    network: str = "dc",
    seed: int = 0,
    iterations: int = 50,
    simulations: int = 200,
    time_limit: float | None = None,
) -> tuple[SDDPResult, Evaluation]:
    """Train SDDP on ``case`` (``iterations`` at most, ``time_limit`` seconds at most) and
    simulate its policy on ``simulations`` out-of-sample scenarios."""
    from orlearn.decision_rules.evaluate import Evaluation
    from orlearn.decision_rules.sddp import SDDP
    from orlearn.errors import OrlearnError
    from orlearn.progress import progress_bar

    if time_limit is not None and time_limit <= 0:
        raise OrlearnError(f"--time-limit must be positive, got {time_limit}")
    _, problem = load_problem(case, stages, network)
    sddp = SDDP(problem)
    with progress_bar(f"SDDP {case}", iterations) as advance:
        result = sddp.train(iterations, seed=seed, time_limit=time_limit,
                            callback=lambda i, lb: advance(status=f"lower bound {lb:.6g}"))  # fmt: skip
    sampled = evaluation_scenarios(problem, simulations, seed)
    start = time.perf_counter()
    costs = sddp.simulate(sampled)
    return result, Evaluation(costs, time.perf_counter() - start)


def save_evaluations(path: str | Path, results: dict[str, Evaluation]) -> None:
    """Write mean, standard error, seconds per scenario and failures per method as JSON."""
    payload = {
        name: {"mean": r.mean, "stderr": r.stderr, "seconds_per_scenario": r.seconds_per_scenario,
               "failures": r.failures}  # fmt: skip
        for name, r in results.items()
    }
    Path(path).write_text(json.dumps(payload, indent=2) + "\n")
