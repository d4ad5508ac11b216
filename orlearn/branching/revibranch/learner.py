"""ReviBranch training: DQN over the candidate set with revived trajectories.

Why a DQN (as ReviBranch) and not policy gradient with a baseline (as the tree-MDP work): an
episode is a whole SCIP solve, seconds to minutes of CPU, so data is the scarce resource. A
value learner over the candidate set is off-policy: every stored decision is replayed in many
updates and stays useful after the policy has moved on, while REINFORCE must throw its episodes
away after one update. Its scores also slot into the imitation policy's candidate ranking (a
dueling head whose advantage starts as the imitation logits), so training starts exactly at
the imitation policy.

Targets are Monte-Carlo tree returns (:mod:`orlearn.branching.revibranch.rewards`): all of a
decision's consequences are known once the tree is complete, so no bootstrapping (and no target
network) is needed; the policy improves by acting greedily on the learned Q with epsilon
exploration. Returns are divided by a per-instance reference, the terminal reward's size on the
first complete episode of the instance plus a shift (10 nodes or 100 LP iterations, as in the
shifted geometric means of the benchmarks, so that a tree solved at the root does not blow the
targets up): easy and hard instances weigh alike, and a return of -0.5 means "half the
reference tree".

One round: write the current network to the output policy file (so a killed run leaves a valid
policy), solve ``episodes_per_round`` training instances with it (epsilon-greedy) in parallel
through :func:`orlearn.solver.executors.run_tasks` (local worker processes or Ray), add the complete episodes to the buffer (failed or time-limited ones
are counted and skipped), then take ``updates_per_round`` Adam steps on Huber losses between
``Q(s_t, a_t)`` and the targets plus between the stake ``S(s_t)`` and the decision's measured
subtree size (over the same reference). After every round a checkpoint (network, optimiser, random
states, buffer, history) is written atomically; a rerun resumes from it and makes the same next
round. Deterministic for a seed on one machine (SCIP single-threaded, one torch thread).
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch

from orlearn.branching.observation import FEATURE_VERSION
from orlearn.branching.revibranch import RAY_EPISODES_PER_WORKER
from orlearn.branching.revibranch.buffer import RevivedBuffer
from orlearn.branching.revibranch.episode import (
    Episode,
    EpisodeTask,
    failed_episode,
    run_episode,
)
from orlearn.branching.revibranch.policy import (
    KIND,
    MAX_ADVANTAGE,
    PATH_VERSION,
    PRIOR_WEIGHT,
    RevivedQNet,
    from_imitation,
    net_from_policy_file,
    save_rl_policy,
)
from orlearn.branching.revibranch.rewards import (
    check_reward,
    decision_returns,
    decision_stakes,
    terminal_reward,
)
from orlearn.errors import OrlearnError
from orlearn.solver.executors import TaskError, ray_session, run_tasks
from orlearn.training import (
    NumpyRNG,
    TorchRNG,
    TrainConfigBase,
    Trainer,
    pin_threads,
    read_checkpoint,
)

log = logging.getLogger(__name__)

#: Smallest subtree (reference trees) a Q error is divided by with ``relative_loss``.
RELATIVE_FLOOR = 0.01
#: Added to a reference episode's size before returns are divided by it (nodes, LP iterations).
REFERENCE_SHIFT = {"nodes": 10.0, "lp": 100.0}


@dataclass
class RLConfig(TrainConfigBase):
    """ReviBranch hyper-parameters. Time limit in seconds per episode; lr per Adam step. A run
    resumes a checkpoint made with the same settings and instances; ``rounds`` may grow.

    ``relative_loss``: divide each decision's Q error by its measured subtree (plus
    ``RELATIVE_FLOOR`` reference trees). With absolute errors the few decisions near the root,
    whose returns are large, carry almost all of the gradient, and the advantage learns from a
    few hundred of them; relative errors let the tens of thousands of deeper decisions (where
    exploration tried the prior's other plausible candidates) teach it which candidates shrink
    a subtree, and it carries that to the top, where the trust region lets it act.
    """

    rounds: int = 20
    episodes_per_round: int = 8
    updates_per_round: int = 50
    batch_size: int = 32
    lr: float = 3e-4
    epsilon_start: float = 0.2
    epsilon_end: float = 0.02
    epsilon_rounds: int = 10
    reward: str = "nodes"
    beta: float = 1.0
    revival: bool = True
    redistribution: bool = True
    max_path: int = 16
    prior_weight: float = PRIOR_WEIGHT
    max_advantage: float = MAX_ADVANTAGE
    relative_loss: bool = False
    heads: int = 4
    layers: int = 1
    capacity: int = 50_000
    n_instances: int = 100
    time_limit: float | None = 300.0
    settings: str = "gasse"

    resumable: ClassVar[frozenset[str]] = frozenset({"rounds"})

    def check(self) -> None:
        if min(self.rounds, self.episodes_per_round, self.batch_size, self.n_instances) < 1:
            raise OrlearnError("rounds, episodes per round, batch size and instances must be >= 1")
        if self.updates_per_round < 0 or self.max_path < 0 or self.epsilon_rounds < 0:
            raise OrlearnError("updates per round and path length must be non-negative")
        if not (0 <= self.epsilon_end <= 1 and 0 <= self.epsilon_start <= 1):
            raise OrlearnError("epsilon must be in [0, 1]")
        if self.lr <= 0 or self.beta < 0:
            raise OrlearnError("learning rate must be positive and beta non-negative")
        if not (math.isfinite(self.prior_weight) and self.prior_weight > 0):
            raise OrlearnError(f"prior weight must be positive, got {self.prior_weight}")
        if not (math.isfinite(self.max_advantage) and self.max_advantage >= 0):
            raise OrlearnError(f"max advantage must be non-negative, got {self.max_advantage}")
        if self.time_limit is not None and not (math.isfinite(self.time_limit) and self.time_limit > 0):
            raise OrlearnError(f"time limit must be a positive number of seconds, got {self.time_limit}")
        check_reward(self.reward)

    def epsilon(self, round_index: int) -> float:
        """Exploration rate of round ``round_index`` (0-based): linear from start to end over
        ``epsilon_rounds`` rounds, then constant (so that adding rounds changes no past round)."""
        frac = min(round_index / max(self.epsilon_rounds, 1), 1.0)
        return self.epsilon_start + frac * (self.epsilon_end - self.epsilon_start)


@dataclass
class RLResult:
    """What training produced."""

    policy: Path
    checkpoint: Path
    curves: Path | None
    history: dict[str, list[float]] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    best: Path | None = None  # the best evaluated network (``evaluate`` runs only)
    best_round: int | None = None


def initial_network(init: str | Path, config: RLConfig) -> tuple[RevivedQNet, str]:
    """The network training starts from and a description of where it came from.

    ``init``: an imitation policy (``gnn``, ``gnn:NAME``, a ``branching`` .pt file, or a
    published rl2branch ``il.pkl``, whose Ecole observation the network then reads) or a
    ``branching-rl`` file to continue from.
    """
    from orlearn.branching.loader import load_branching_policy, resolve_policy_path
    from orlearn.branching.revibranch.policy import RLBranchingPolicy
    from orlearn.policy_file import load_policy

    path = resolve_policy_path(init)
    prior = load_branching_policy(path)
    if isinstance(prior, RLBranchingPolicy):
        # A fresh network from the file: the loader's copy is cached and must stay as it is.
        pf = load_policy(path, kind=KIND, feature_version=FEATURE_VERSION)
        net = net_from_policy_file(pf)
        keys = ("revival", "max_path", "prior_weight", "max_advantage")
        if any(getattr(net, k) != getattr(config, k) for k in keys):
            raise OrlearnError(
                f"{path} was trained with "
                + ", ".join(f"{k}={getattr(net, k)}" for k in keys)
                + "; this run asks for "
                + ", ".join(f"{k}={getattr(config, k)}" for k in keys)
            )
        return net, f"{path} (branching-rl)"
    # Seed here: loading may or may not build a network (the loader caches), which draws numbers.
    torch.manual_seed(config.seed)
    net = from_imitation(
        prior, heads=config.heads, layers=config.layers, max_path=config.max_path,
        revival=config.revival, prior_weight=config.prior_weight,
        max_advantage=config.max_advantage,
    )  # fmt: skip
    return net, f"{path} (imitation, {net.observation} observation)"


class Learner:
    """The DQN state: network, optimiser, buffer, its sampling generator, reference sizes."""

    def __init__(self, net: RevivedQNet, config: RLConfig) -> None:
        self.net = net
        self.config = config
        self.optimizer = torch.optim.Adam(
            [p for p in net.parameters() if p.requires_grad], lr=config.lr
        )
        self.buffer = RevivedBuffer(config.capacity)
        self.rng = np.random.default_rng(config.seed)
        self.reference: dict[str, float] = {}  # instance -> |first terminal reward| + shift

    def add_episodes(self, episodes: list[Episode]) -> dict[str, float]:
        """Add a round's episodes (in task order) to the buffer; returns round statistics."""
        complete = [e for e in episodes if e.complete]
        shift = REFERENCE_SHIFT[self.config.reward]
        for e in sorted(episodes, key=lambda e: e.index):
            if not e.complete:
                self.buffer.add(e, [], [])  # counted as rejected
                log.warning("episode on %s ended with status %s: not used", e.instance, e.status)
                continue
            ref = self.reference.setdefault(
                e.instance, abs(terminal_reward(e, self.config.reward)) + shift
            )
            if e.decisions:
                returns = decision_returns(
                    e, self.config.reward, redistribution=self.config.redistribution,
                    beta=self.config.beta,
                )  # fmt: skip
                self.buffer.add(e, returns / ref, decision_stakes(e, self.config.reward) / ref)
        stats = {
            "complete": float(len(complete)),
            "failed": float(len(episodes) - len(complete)),
            "decisions": float(sum(len(e.decisions) for e in complete)),
        }
        if complete:
            stats["nodes"] = _geomean([e.nodes for e in complete])
            stats["lp_iterations"] = _geomean([e.lp_iterations for e in complete])
            stats["relative_size"] = float(
                np.exp(np.mean([
                    np.log((abs(terminal_reward(e, self.config.reward)) + shift)
                           / self.reference[e.instance])
                    for e in complete
                ]))
            )  # fmt: skip
        return stats

    def update(self, steps: int) -> float:
        """``steps`` Adam steps on sampled decisions; mean Huber loss (nan with no data)."""
        if len(self.buffer) == 0 or steps == 0:
            return float("nan")
        self.net.train()
        losses = []
        for _ in range(steps):
            idx = self.buffer.sample(self.rng, self.config.batch_size)
            batch, actions, targets, stakes = self.buffer.batch(
                idx, max_path=self.config.max_path, revival=self.config.revival
            )
            q, stake = self.net.q_and_stake(batch)
            q = q.gather(1, actions[:, None]).squeeze(1)
            if self.config.relative_loss:
                # Errors relative to the decision's subtree: the many deep decisions then teach
                # the advantage as much as the few at the top (see RLConfig).
                scale = stakes + RELATIVE_FLOOR
                q, targets = q / scale, targets / scale
            # The stake head learns the measured subtree sizes (the trust region's scale).
            loss = torch.nn.functional.smooth_l1_loss(q, targets) + torch.nn.functional.smooth_l1_loss(
                stake, stakes
            )
            self.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
            self.optimizer.step()
            losses.append(loss.item())
        self.net.eval()
        return float(np.mean(losses))

    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to make the same next round (plain values, tensors)."""
        return {
            "net": self.net.state_dict(),
            "normalization": self.net.gnn.normalization(),
            "optimizer": self.optimizer.state_dict(),
            "rng": NumpyRNG(self.rng).state_dict(),
            "buffer": self.buffer.state_dict(),
            "reference": dict(self.reference),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.net.load_state_dict(state["net"])
        self.net.gnn.load_normalization(state["normalization"])
        self.optimizer.load_state_dict(state["optimizer"])
        NumpyRNG(self.rng).load_state_dict(state["rng"])
        self.buffer.load_state_dict(state["buffer"])
        self.reference = dict(state["reference"])


def _geomean(values: list[float]) -> float:
    return float(np.exp(np.mean(np.log(np.maximum(np.asarray(values, dtype=np.float64), 1.0)))))


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a ReviBranch training checkpoint (see :mod:`orlearn.training`): the learner's state
    is under ``states["learner"]``, the network's sizes under ``extra["hyperparameters"]``.
    OrlearnError for another file."""
    ck = read_checkpoint(path)
    if ck.get("unit") != "round" or "learner" not in ck["states"]:
        raise OrlearnError(f"{path} is not a ReviBranch checkpoint")
    return ck


def checkpoint_path(out: str | Path) -> Path:
    """Where training into ``out`` keeps its checkpoint (beside it, kept after training)."""
    out = Path(out)
    return out.with_name(out.name + ".ckpt")


def train_revibranch(
    distributions: list[str],
    init: str | Path,
    out: str | Path,
    config: RLConfig | None = None,
    *,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    episodes_per_worker: int = RAY_EPISODES_PER_WORKER,
    cache_dir: str | Path | None = None,
    curves: str | Path | None = None,
    resume: bool = True,
    show_progress: bool = False,
    evaluate: list[str] | None = None,
    eval_every: int = 0,
    eval_instances: int = 20,
) -> RLResult:
    """Train a ReviBranch policy on instances of ``distributions``; save it to ``out``.

    ``distributions``: registry names (their first ``n_instances`` training instances,
    generated into ``cache_dir`` on demand), instance files or directories. ``init``: the
    imitation policy to start from (or a ``branching-rl`` file). The checkpoint
    ``<out>.ckpt`` is resumed from when ``resume`` and kept afterwards, so that a later run with
    more ``rounds`` continues training.

    ``executor="ray"``: the episodes run on the Ray cluster at ``address`` (a local Ray with
    ``jobs`` CPUs when None), ``jobs`` at a time, each task carrying the current weights and its
    instance as bytes (no shared file system needed), ``episodes_per_worker`` per worker process.
    The episodes, and so the training, are the same as with local workers.

    ``evaluate`` (instance files or folders, or registry names: their first ``eval_instances``
    *valid* instances, never trained or tested on) with ``eval_every = k > 0``:
    after every k-th round (and the last) the current network acts greedily on them,
    and so does the ``init`` policy (once); the history gets ``eval_round``,
    ``eval_nodes_ratio`` and ``eval_lp_ratio`` (shifted geometric means, shifts 10 nodes / 100
    LP iterations, over the instances both solved within the episode time limit, RL over
    ``init``). Each evaluated network is kept as ``<out stem>.evals/round<k>.pt`` with its
    solves in ``<out stem>.evals/results.jsonl`` (so that the best one can be picked, and a
    resumed run does not solve again). The best evaluated network so far (most instances solved,
    then the smallest ratio of the trained reward: nodes or LP iterations) is also written to
    ``<out stem>.best.pt``, its round in ``metadata["best_eval_round"]``: the checkpoint to pick
    on held-out data rather than the last one.
    """
    config = config or RLConfig()
    run = _Run.checked(
        distributions=list(distributions), init=init, out=Path(out), config=config, jobs=jobs,
        executor=executor, address=address, episodes_per_worker=episodes_per_worker,
        instances=[], eval_files=[], eval_every=eval_every,
    )  # fmt: skip
    run.instances = _instance_files(distributions, config.n_instances, "train", cache_dir)
    if evaluate and eval_every:
        if eval_instances < 1:
            raise OrlearnError(f"eval_instances must be >= 1, got {eval_instances}")
        run.eval_files = _instance_files(evaluate, eval_instances, "valid", cache_dir)
    out = run.out
    curves = Path(curves) if curves is not None else out.with_name(out.stem + ".curves.png")
    config.seed_everything()
    pin_threads("small")  # a small GNN: 1 thread unless ORLEARN_THREADS says otherwise
    net, origin = initial_network(init, config)
    net.eval()
    learner = Learner(net, config)
    trainer = Trainer(
        config, total=config.rounds, checkpoint=checkpoint_path(out), unit="round",
        states={"learner": learner, "torch_rng": TorchRNG()},
        data={"instances": run.instances, "feature_version": FEATURE_VERSION, "path_version": PATH_VERSION},
        description="ReviBranch rounds", show_progress=show_progress,
    )  # fmt: skip
    trainer.extra = {"origin": origin, "hyperparameters": net.hyperparameters()}
    if resume:
        trainer.resume()
    _fit(trainer, learner, run)
    metadata = _metadata(trainer, learner, run)
    save_rl_policy(out, net, metadata)
    png = trainer.save_curves(
        curves, ["relative_size", "loss"], title=f"{out.stem}: episode size / reference, Q loss", logy=True
    )
    best_round = best_eval_round(trainer.history, config.reward) if run.eval_files else None
    return RLResult(
        policy=out, checkpoint=trainer.checkpoint, curves=png, history=trainer.history,
        metadata=metadata, best=best_path(out) if best_round is not None else None,
        best_round=best_round,
    )  # fmt: skip


@dataclass
class _Run:
    """What one training run works on, besides the learner."""

    distributions: list[str]
    init: str | Path
    out: Path
    config: RLConfig
    jobs: int
    executor: str
    address: str | None
    episodes_per_worker: int
    instances: list[str]
    eval_files: list[str]
    eval_every: int
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def checked(cls, **fields: Any) -> _Run:
        """The run, after checking its settings (OrlearnError for a bad one)."""
        from orlearn.solver.settings import validate_settings

        run = cls(**fields)
        run.config.check()
        validate_settings(run.config.settings)
        if run.out.suffix != ".pt":
            raise OrlearnError(f"the output policy must be a .pt file, got {run.out}")
        if run.eval_every < 0:
            raise OrlearnError(f"eval_every must be >= 0, got {run.eval_every}")
        if run.episodes_per_worker < 1:
            raise OrlearnError(f"episodes per worker must be >= 1, got {run.episodes_per_worker}")
        return run


def _instance_files(names: list[str], count: int | None, split: str, cache_dir: str | Path | None) -> list[str]:
    from orlearn.milp.io import resolve_instances

    return [str(p.resolve()) for p in resolve_instances(names, count, split, cache_dir)]


def _fit(trainer: Trainer, learner: Learner, run: _Run) -> None:
    """The rounds: act with the current network, add the episodes, update, evaluate."""
    config = learner.config
    # On Ray the rounds share one connection (a local Ray starts once), and every task carries
    # the current weights and its instance as bytes: workers on other machines need no shared
    # file system. Episodes come back as the same records as from local workers.
    session = ray_session(run.jobs, run.address) if run.executor == "ray" else contextlib.nullcontext()
    with session:
        for rounds_done in trainer.steps():
            r = rounds_done - 1
            # The episode workers load the current network from ``out``; a killed run leaves a
            # valid policy there.
            save_rl_policy(run.out, learner.net, _metadata(trainer, learner, run))
            stats = learner.add_episodes(_play_round(_round_tasks(learner, run.instances, run.out, r), run))
            stats["loss"] = learner.update(config.updates_per_round)
            stats["epsilon"] = config.epsilon(r)
            evaluated = run.eval_files and (rounds_done % run.eval_every == 0 or rounds_done == config.rounds)
            if evaluated:
                stats.update(_evaluate(learner.net, run, rounds_done))
            trainer.log(stats)
            # After logging: the history then holds this evaluation, and the card this round's episodes.
            if evaluated and best_eval_round(trainer.history, config.reward) == rounds_done:
                meta = {**_metadata(trainer, learner, run), "rounds": rounds_done, "best_eval_round": rounds_done}
                save_rl_policy(best_path(run.out), learner.net, meta)
            trainer.status = (
                f"nodes {stats.get('nodes', float('nan')):.0f} "
                f"loss {stats['loss']:.4f} failed {int(stats['failed'])}"
            )


def best_path(out: str | Path) -> Path:
    """Where training into ``out`` keeps its best evaluated network."""
    out = Path(out)
    return out.with_name(out.stem + ".best.pt")


def best_eval_round(history: dict[str, list[float]], reward: str) -> int | None:
    """The round of the run's best evaluation: most instances solved by both rules, then the
    smallest ratio of the trained reward (NaN last); the earliest of equals. None without one."""
    key = "eval_nodes_ratio" if reward == "nodes" else "eval_lp_ratio"
    entries = zip(history.get("eval_solved", []), history.get(key, []), history.get("eval_round", []))
    ranked = [((-solved, ratio if math.isfinite(ratio) else math.inf), int(r)) for solved, ratio, r in entries]
    return min(ranked, key=lambda e: e[0])[1] if ranked else None


def _play_round(tasks: list[EpisodeTask], run: _Run) -> list[Episode]:
    """The round's episodes (a crashed or timed-out one as a failed episode)."""
    config = run.config
    timeout = None if config.time_limit is None else 2 * config.time_limit + 60
    if run.executor == "ray":
        tasks = [t.shipped() for t in tasks]
    episodes = []
    for task, result in run_tasks(
        run_episode, tasks, jobs=run.jobs, executor=run.executor, address=run.address,
        timeout=timeout, preload=("orlearn.branching.revibranch.episode",),
        tasks_per_worker=run.episodes_per_worker,
    ):  # fmt: skip
        if isinstance(result, TaskError):
            episodes.append(failed_episode(task, result.kind, result.message))
        else:
            episodes.append(result)
    return episodes


def _metadata(trainer: Trainer, learner: Learner, run: _Run) -> dict[str, Any]:
    history = trainer.history
    return {
        "origin": trainer.extra["origin"],
        "distributions": list(run.distributions),
        "instances": len(run.instances),
        "rounds": trainer.step,
        "episodes": int(sum(history.get("complete", [])) + sum(history.get("failed", []))),
        "failed_episodes": int(sum(history.get("failed", []))),
        "decisions_in_buffer": len(learner.buffer),
        "config": asdict(learner.config),
        "train_seconds_this_run": round(time.perf_counter() - run.started, 1),
    }


def _evaluate(net: RevivedQNet, run: _Run, round_number: int) -> dict[str, float]:
    """Greedy solves of the evaluation files by the current network and by ``init``: the ratios."""
    from orlearn.branching.loader import resolve_policy_path
    from orlearn.branching.plugin import solve_batch
    from orlearn.solver.metrics import shifted_geometric_mean

    config, files = run.config, run.eval_files
    folder = run.out.with_name(run.out.stem + ".evals")
    folder.mkdir(parents=True, exist_ok=True)
    snapshot = save_rl_policy(folder / f"round{round_number}.pt", net, {"round": round_number})
    rules = [str(resolve_policy_path(run.init)), str(snapshot)]
    results = solve_batch(
        files, rules, settings=config.settings, seeds=[config.seed], time_limit=config.time_limit,
        jobs=run.jobs, executor=run.executor, address=run.address, output=folder / "results.jsonl",
        progress=False,
    )  # fmt: skip
    # Results come in task order: instance by instance, the rules in order within each.
    pairs = [results[2 * i : 2 * i + 2] for i in range(len(files))]
    common = [pair for pair in pairs if all(r.solved for r in pair)]
    stats = {"eval_round": float(round_number), "eval_solved": float(len(common))}
    for key, attr, shift in (("nodes", "nodes", 10.0), ("lp", "lp_iterations", 100.0)):
        means = [
            shifted_geometric_mean([getattr(pair[k], attr) for pair in common], shift)
            for k in range(2)
        ]
        stats[f"eval_{key}_ratio"] = means[1] / means[0] if common and means[0] else float("nan")
    log.info("round %d greedy evaluation: %s", round_number, stats)
    return stats


def _round_tasks(learner: Learner, instances: list[str], acting: Path, r: int) -> list[EpisodeTask]:
    config = learner.config
    n = config.episodes_per_round
    picks = learner.rng.choice(len(instances), size=n, replace=n > len(instances))
    return [
        EpisodeTask(
            instance=instances[int(j)], policy=str(acting), seed=config.seed * 100_003 + r * 1000 + i,
            epsilon=config.epsilon(r), settings=config.settings, time_limit=config.time_limit,
            index=i,
        )
        for i, j in enumerate(picks)
    ]  # fmt: skip
