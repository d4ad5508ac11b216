"""Short ReviBranch training runs: the policy changes and stays valid in SCIP, failed episodes
are skipped, a resumed run makes the same next round (also when a learned rule is left to the
garbage collector), foreign checkpoints are refused."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from orlearn.branching.loader import load_branching_policy
from orlearn.branching.plugin import solve
from orlearn.branching.revibranch.episode import EpisodeTask, failed_episode, run_episode
from orlearn.branching.revibranch.learner import (
    Learner,
    RLConfig,
    best_eval_round,
    best_path,
    checkpoint_path,
    load_checkpoint,
    train_revibranch,
)
from orlearn.branching.revibranch.policy import from_imitation, load_rl_policy
from orlearn.branching.rules.rl import attach_rl_branching
from orlearn.cli import build_parser, main
from orlearn.errors import OrlearnError
from orlearn.milp.io import read_model
from orlearn.solver.settings import SETTINGS
from orlearn.threads import resolve_threads

CLI_ARGS = [
    "--rounds", "2", "--episodes", "5", "--updates", "4", "--batch-size", "8", "--lr", "1e-3",
    "--max-path", "4", "--time-limit", "30", "-j", "2",
]  # fmt: skip
EVAL_ARGS = ["--eval-every", "2"]  # + the instance folder
# The same settings as CLI_ARGS (a run resumes only with the settings it was made with).
CONFIG = dict(
    episodes_per_round=5, updates_per_round=4, batch_size=8, lr=1e-3, max_path=4,
    time_limit=30.0,
)  # fmt: skip


@pytest.fixture(scope="module")
def train_dir(instance_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny instances plus one corrupt file whose episodes crash in their worker."""
    d = tmp_path_factory.mktemp("train")
    for p in instance_dir.iterdir():
        shutil.copy(p, d / p.name)
    (d / "aaa_corrupt.mps.gz").write_bytes(b"\x1f\x8b broken")
    return d


@pytest.fixture(scope="module")
def cli_run(
    train_dir: Path, imitation_policy: Path, instance_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:  # fmt: skip
    out = tmp_path_factory.mktemp("cli") / "rl.pt"
    argv = ["branching", "train-rl", str(train_dir), "--init", str(imitation_policy), "-o", str(out)]
    assert main(argv + CLI_ARGS + EVAL_ARGS + ["--eval", str(instance_dir)]) == 0
    return out


def test_training_changes_the_policy_and_keeps_it_valid(
    cli_run: Path, imitation_policy: Path, instance_dir: Path
) -> None:
    trained = load_rl_policy(cli_run)
    assert trained.metadata["rounds"] == 2
    # The corrupt instance is in every round (5 episodes over 5 files): crashed, skipped.
    assert trained.metadata["failed_episodes"] == 2
    assert trained.metadata["decisions_in_buffer"] > 0
    start = from_imitation(load_branching_policy(imitation_policy).model, max_path=4)
    changed = [
        k for k, v in trained.net.state_dict().items() if not torch.equal(v, start.state_dict()[k])
    ]
    assert any(k.startswith("advantage") for k in changed)
    assert not any(k.startswith("gnn.") for k in changed)  # the imitation GNN stays as it was
    assert cli_run.with_name("rl.curves.png").is_file()

    inst = instance_dir / "mkp_3.mps.gz"
    model = read_model(inst)
    model.hideOutput()
    for name, value in SETTINGS["gasse"].items():
        model.setParam(name, value)
    rule = attach_rl_branching(model, cli_run)
    model.optimize()
    reference = solve(inst, "relpscost", settings="gasse")
    assert model.getStatus() == "optimal" and reference.status == "optimal"
    assert model.getObjVal() == pytest.approx(reference.primal_bound)
    stats = rule.stats()
    assert stats["learned_calls"] > 0 and stats["fallbacks"] == 0


def test_weakly_trained_policy_keeps_the_imitation_choices(cli_run: Path) -> None:
    """After a short run the KL trust region keeps the prior's choice in nearly every recorded
    state; the greedy evaluation against the imitation policy is in the history."""
    ck = load_checkpoint(checkpoint_path(cli_run))
    learner = Learner(load_rl_policy(cli_run).net, RLConfig(**ck["config"]))
    learner.buffer.load_state_dict(ck["states"]["learner"]["buffer"])
    batch, _, _, _ = learner.buffer.batch(range(len(learner.buffer)), max_path=4)
    with torch.no_grad():
        greedy = learner.net.scores(batch).argmax(1)
        prior = learner.net.prior_log_probs(batch).argmax(1)
    assert len(greedy) > 50 and (greedy == prior).float().mean() >= 0.95
    history = ck["history"]
    assert history["eval_round"] == [2.0] and history["eval_solved"] == [4.0]
    assert history["eval_nodes_ratio"][0] > 0 and history["eval_lp_ratio"][0] > 0
    assert cli_run.with_name("rl.evals").joinpath("round2.pt").is_file()
    best = load_rl_policy(best_path(cli_run))  # the only evaluation is the best one
    assert best.metadata["best_eval_round"] == 2 and best.metadata["rounds"] == 2


def test_the_best_evaluation_solves_most_then_has_the_smallest_ratio() -> None:
    history = {
        "eval_round": [5.0, 10.0, 15.0, 20.0],
        "eval_solved": [20.0, 19.0, 20.0, 20.0],
        "eval_nodes_ratio": [0.95, 0.70, 0.90, 0.90],
        "eval_lp_ratio": [0.80, 0.60, 1.10, float("nan")],
    }
    assert best_eval_round(history, "nodes") == 15  # round 10 solved fewer; 20 only ties 15
    assert best_eval_round(history, "lp") == 5  # NaN ranks last
    assert best_eval_round({}, "nodes") is None


def test_resume_from_a_checkpoint_makes_the_same_next_round(
    cli_run: Path, train_dir: Path, imitation_policy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rl.pt"
    train_revibranch([str(train_dir)], imitation_policy, out, RLConfig(rounds=1, **CONFIG), jobs=2)
    assert load_checkpoint(checkpoint_path(out))["round"] == 1
    result = train_revibranch([str(train_dir)], imitation_policy, out, RLConfig(rounds=2, **CONFIG), jobs=1)
    assert len(result.history["loss"]) == 2
    uninterrupted = load_rl_policy(cli_run).net.state_dict()
    resumed = load_rl_policy(out).net.state_dict()
    assert all(torch.equal(uninterrupted[k], resumed[k]) for k in uninterrupted)

    with pytest.raises(OrlearnError, match="other settings \\(lr\\)"):
        train_revibranch([str(train_dir)], imitation_policy, out, RLConfig(rounds=3, **{**CONFIG, "lr": 0.1}))


def test_training_collects_leftover_rules_before_it_pins_its_threads(
    cli_run: Path, instance_dir: Path, imitation_policy: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A freed SCIP model's learned rule puts back the torch thread count its solve began with.
    Training collects such leftovers before it sets its own count, so that none is freed in the
    middle of a run, where more threads change the update's last bits (and a resumed run's
    weights)."""
    seen = []
    real_update = Learner.update

    def update_after_a_collection(self: Learner, steps: int) -> float:
        gc.collect()  # the collector runs in the middle of the run
        seen.append(torch.get_num_threads())
        return real_update(self, steps)

    monkeypatch.setattr(Learner, "update", update_after_a_collection)
    pinned, before = resolve_threads(None, "small"), torch.get_num_threads()
    config = RLConfig(rounds=1, **dict(CONFIG, episodes_per_round=2, updates_per_round=1))
    gc.disable()  # the model solved below stays for the collector
    try:
        torch.set_num_threads(pinned + 1)
        task = EpisodeTask(instance=str(instance_dir / "mkp_0.mps.gz"), policy=str(cli_run), seed=1)
        assert run_episode(task).complete
        train_revibranch([str(instance_dir)], imitation_policy, tmp_path / "rl.pt", config)
    finally:
        gc.enable()
        torch.set_num_threads(before)
    assert seen == [pinned]


def test_checkpoint_from_another_feature_version_is_refused(
    cli_run: Path, train_dir: Path, imitation_policy: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rl.pt"
    ck = load_checkpoint(checkpoint_path(cli_run))
    ck["key"]["feature_version"] += 1
    torch.save(ck, checkpoint_path(out))
    with pytest.raises(OrlearnError, match="other settings \\(feature_version\\)"):
        train_revibranch([str(train_dir)], imitation_policy, out, RLConfig(rounds=3, **CONFIG))
    checkpoint_path(out).write_bytes(b"junk")
    with pytest.raises(OrlearnError, match="not a readable training checkpoint"):
        load_checkpoint(checkpoint_path(out))


def test_failed_episodes_are_counted_not_learned_from(imitation_policy: Path) -> None:
    net = from_imitation(load_branching_policy(imitation_policy).model, max_path=4)
    learner = Learner(net, RLConfig())
    task = EpisodeTask(instance="x.mps", policy="p.pt")
    stats = learner.add_episodes([failed_episode(task, "timeout", "worker timed out")])
    assert stats["failed"] == 1 and len(learner.buffer) == 0
    assert learner.buffer.rejected == {"timeout": 1}
    assert learner.update(3) != learner.update(3)  # nan: nothing to learn from yet


def test_cli_registers_the_verb_and_checks_input(tmp_path: Path) -> None:
    args = build_parser().parse_args(["branching", "train-rl", "setcover/small", "-o", "x.pt"])
    assert args.init == "gnn" and args.rounds == 20 and not args.no_revival
    missing = str(tmp_path / "none.pt")
    assert main(["branching", "train-rl", "setcover/small", "--init", missing, "-o", "x.pt"]) == 2
    with pytest.raises(OrlearnError, match="epsilon"):
        RLConfig(epsilon_start=2.0).check()
    with pytest.raises(OrlearnError, match="prior weight"):
        RLConfig(prior_weight=0.0).check()


def test_relative_loss_weighs_small_subtrees_up(cli_run: Path) -> None:
    """With relative errors a deep decision's miss counts as much as a root decision's of the
    same relative size: the loss on the recorded buffer is larger, and an update is finite."""
    ck = load_checkpoint(checkpoint_path(cli_run))
    losses = {}
    for relative in (False, True):
        config = RLConfig(**(ck["config"] | {"relative_loss": relative}))
        learner = Learner(load_rl_policy(cli_run).net, config)
        learner.buffer.load_state_dict(ck["states"]["learner"]["buffer"])
        before = [p.detach().clone() for p in learner.net.parameters() if p.requires_grad]
        losses[relative] = learner.update(3)
        after = [p for p in learner.net.parameters() if p.requires_grad]
        assert any(not torch.equal(a, b) for a, b in zip(after, before))
    assert np.isfinite(losses[True]) and losses[True] > losses[False]


@pytest.mark.slow  # starting a local Ray takes most of its 20-30 s
def test_a_ray_round_learns_what_the_local_round_learns(
    instance_dir: Path, imitation_policy: Path, tmp_path: Path
) -> None:
    """One round of 2 episodes on a local Ray (2 CPUs, started by the trainer) gives the same
    episodes (decisions, nodes), the same updates and the same weights as local workers."""
    ray = pytest.importorskip("ray")
    config = dict(CONFIG, episodes_per_round=2, updates_per_round=2)
    local = train_revibranch([str(instance_dir)], imitation_policy, tmp_path / "local.pt", RLConfig(rounds=1, **config))
    assert not ray.is_initialized()
    on_ray = train_revibranch(
        [str(instance_dir)], imitation_policy, tmp_path / "ray.pt", RLConfig(rounds=1, **config),
        jobs=2, executor="ray",
    )  # fmt: skip
    assert not ray.is_initialized()  # the session the trainer opened is closed again
    assert local.history["complete"] == [2.0] and local.history["decisions"][0] > 0
    assert on_ray.history == local.history  # decisions, nodes, LP iterations, loss
    a, b = load_rl_policy(local.policy).net.state_dict(), load_rl_policy(on_ray.policy).net.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
