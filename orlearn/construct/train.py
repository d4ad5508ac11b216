"""Imitation training with BQ's sub-path augmentation, checkpoints, early stopping, resume.

Every suffix of an expert solution is itself an expert solution of the reduced sub-problem, so a
training sample is (instance, random prefix length t): the state after the expert's first t
steps and, as target, the expert's step t+1 (cross-entropy), or for KP every item of the optimal
set still to be taken (multi-label: maximise the probability mass on the correct items).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from orlearn.construct.decode import solve
from orlearn.construct.labels import DEFAULT_CACHE, label_instances
from orlearn.construct.model import ARCHS, DEFAULTS, build_model, load_model, policy_logits
from orlearn.construct.perceiver import DEFAULTS as PERCEIVER_DEFAULTS
from orlearn.construct.problems import get_problem
from orlearn.errors import OrlearnError, PolicyFileError
from orlearn.policy_file import PolicyFile, save_policy
from orlearn.training import NumpyRNG, TorchRNG, TrainConfigBase, Trainer

log = logging.getLogger(__name__)

EXPERTS = {"kp": "an exact branch and bound (orlearn.construct.problems.experts.exact_knapsack)"}


@dataclasses.dataclass
class TrainConfig(TrainConfigBase):
    """Everything a training run depends on (stored in the checkpoint and the model card).

    A run resumes the checkpoint in its ``run_dir`` when the problem and the model's sizes are
    the same (see :meth:`resume_key`): every other setting may change between phases of one
    training (more epochs, another step size, a larger validation set).
    """

    problem: str
    out: str  # the policy file to write (.pt)
    n: int = 100  # training instance size
    train_instances: int = 800
    val_instances: int = 32
    label_time: float = 0.5  # expert seconds per instance
    label_clock: str = "wall"  # clock of label_time: "wall", or "cpu" (not shortened by load)
    arch: str = "transformer"  # or "perceiver" (BQ-PerceiverIO, TSP and CVRP)
    # Model sizes; None takes the architecture's default (model.DEFAULTS, perceiver.DEFAULTS).
    d_model: int | None = None
    n_layers: int | None = None
    n_heads: int | None = None
    d_ff: int | None = None
    latent_len: int | None = None  # perceiver only
    latent_dim: int | None = None  # perceiver only
    # Start from the weights of this policy (an orlearn policy file or a BQ-NCO .best
    # checkpoint): fine-tuning. Its architecture and sizes are used.
    init: str | None = None
    distribution: str = "uniform"  # instance distribution of training and validation
    batch_size: int = 128
    lr: float = 2e-4
    epochs: int = 100
    steps_per_epoch: int = 100
    augment: bool = True  # random equivalent copies of the labelled instances (Problem.augment)
    knn: int | None = None  # train and validate on sub-problems cut to the k nearest candidates
    patience: int = 10  # epochs without a better validation gap before stopping
    max_minutes: float | None = None  # stop (resumably) after this much training time
    workers: int = 1  # label processes
    cache_dir: str = str(DEFAULT_CACHE)
    run_dir: str | None = None  # checkpoint and curves; default runs/construct/<out stem>

    def resume_key(self) -> dict[str, Any]:
        """The problem and the model's sizes (defaults filled in)."""
        return {"problem": self.problem, "hyperparameters": self.hyperparameters()}

    def hyperparameters(self) -> dict[str, Any]:
        """The model's architecture and sizes, defaults filled in (transformer policies keep
        their historical keys, without ``arch``)."""
        if self.arch == "perceiver":
            sizes = {k: getattr(self, k) for k in PERCEIVER_DEFAULTS}
            return {"arch": "perceiver", **{
                k: PERCEIVER_DEFAULTS[k] if v is None else v for k, v in sizes.items()
            }}
        if self.arch != "transformer":
            raise OrlearnError(f"unknown architecture '{self.arch}' (choose from {', '.join(ARCHS)})")
        if self.latent_len is not None or self.latent_dim is not None:
            raise OrlearnError("latent sizes apply to the perceiver architecture only")
        return {k: DEFAULTS[k] if getattr(self, k) is None else getattr(self, k) for k in DEFAULTS}


def _dataset(cfg: TrainConfig, count: int, seed: int, show_progress: bool):
    problem = get_problem(cfg.problem)
    instances = problem.sample(cfg.n, count, seed, cfg.distribution)
    sols = label_instances(
        cfg.problem, instances, time_limit=cfg.label_time, seed=0, cache_dir=cfg.cache_dir,
        workers=cfg.workers, show_progress=show_progress, clock=cfg.label_clock,
    )
    trajs = [problem.trajectory(inst, sol) for inst, sol in zip(instances, sols)]
    return instances, sols, trajs


def _batch(
    problem, data, lengths, rng: np.random.Generator, batch_size: int, augment: bool,
    knn: int | None = None,
):
    """A batch of sub-problems: one prefix length t for the whole batch, so every state has the
    same number of tokens; only instances whose trajectory is longer than t take part.
    ``data`` = (instances, solutions, trajectories); with ``augment`` every picked instance is
    replaced by a random equivalent copy (its trajectory has the same length). With ``knn`` each
    state is cut to its k nearest candidates (:meth:`Problem.knn`), as decoding with ``knn``
    sees it: k + 2 tokens instead of all remaining ones, so a step costs a fraction; the rare
    samples whose expert step lies outside the k nearest are dropped."""
    instances, sols, trajs = data
    t = int(rng.integers(0, lengths.max()))
    eligible = np.flatnonzero(lengths > t)
    pick = rng.choice(eligible, size=min(batch_size, len(eligible)), replace=len(eligible) < batch_size)
    if augment:
        pairs = [problem.augment(instances[i], sols[i], rng) for i in pick]
        insts = [inst for inst, _ in pairs]
        picked = [problem.trajectory(inst, sol) for inst, sol in pairs]
    else:
        insts = [instances[i] for i in pick]
        picked = [trajs[i] for i in pick]
    rows = torch.as_tensor(np.stack([tr[: t + 1] for tr in picked]))
    state = problem.reduce(problem.initial_state(insts), rows[:, :t])
    target = problem.target_actions(state, rows[:, t])
    restricted = problem.knn(state, knn) if knn else None
    if restricted is None:
        return state, target
    sub, pos = restricted
    a = problem.actions_per_token
    hit = pos == (target // a)[:, None]  # (B, k + fixed): where the expert's token went
    inside = hit.any(1)
    target = hit.float().argmax(1) * a + target % a
    keep = inside.nonzero()[:, 0]
    return sub.select(keep), target[keep]


def _loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    log_z = torch.logsumexp(logits, 1)
    if target.dtype == torch.bool:  # multi-label: -log of the probability of any correct action
        good = torch.logsumexp(logits.masked_fill(~target, float("-inf")), 1)
        return (log_z - good).mean()
    return (log_z - logits.gather(1, target[:, None])[:, 0]).mean()


def validation_gap(
    problem, model, instances, reference: list[float], knn: int | None = None
) -> float:
    """Mean greedy gap (%) to the expert objectives, positive when worse."""
    decoded = solve(problem, model, instances, beam=1, knn=knn, batch_size=64)
    sign = 1.0 if problem.sense == "min" else -1.0
    gaps = [sign * (d.objective - r) / abs(r) * 100 for d, r in zip(decoded, reference)]
    return float(np.mean(gaps))


def _gap_of_file(cfg: TrainConfig, problem, val_inst, reference: list[float]) -> float:
    """Validation gap of the policy already at ``cfg.out`` (inf if there is none or it does not
    load)."""
    if not Path(cfg.out).is_file():
        return float("inf")
    try:
        model, _ = load_model(cfg.out, problem)
    except PolicyFileError:
        return float("inf")
    return validation_gap(problem, model, val_inst, reference, cfg.knn)


def _from_init(cfg: TrainConfig, problem) -> tuple[TrainConfig, Any, dict[str, Any]]:
    """The configuration with the architecture and sizes of the ``cfg.init`` policy, its model
    and its metadata; refuses sizes given explicitly that differ from the init policy's."""
    model, meta = load_model(cfg.init, problem)
    hp = dict(model.hyperparameters)
    arch = hp.pop("arch", "transformer")
    if cfg.arch != arch and cfg.arch != "transformer":  # "transformer" is the default
        raise OrlearnError(f"--init {cfg.init} is a {arch} policy, not {cfg.arch}")
    for key, value in hp.items():
        given = getattr(cfg, key)
        if given is not None and given != value:
            raise OrlearnError(
                f"--init {cfg.init} has {key} {value}, not {given}: drop the size options to fine-tune it"
            )
    return dataclasses.replace(cfg, arch=arch, **hp), model, meta


#: Settings that change how validation measures: a phase that changes one re-scores the policy
#: already written before it competes.
_VALIDATION_KEYS = ("knn", "val_instances", "label_time", "label_clock")


def train(cfg: TrainConfig, *, show_progress: bool = True) -> Path:
    """Train (or resume) a policy; writes the best one to ``cfg.out`` and returns that path.
    With ``cfg.init`` training starts from that policy's weights (fine-tuning): it is first
    scored on the validation set and written as the policy to beat. The checkpoint
    ``<run_dir>/checkpoint.pt`` is resumed (see :mod:`orlearn.training`; one made for another
    problem or model size is refused)."""
    problem = get_problem(cfg.problem)
    if cfg.train_instances < 1 or cfg.val_instances < 1:
        raise OrlearnError("train_instances and val_instances must be positive")
    problem.sample(3, 1, 0, cfg.distribution)  # an unknown distribution fails before labelling
    init_model, init_meta = None, {}
    if cfg.init:
        cfg, init_model, init_meta = _from_init(cfg, problem)
    cfg.seed_everything()
    # Built before labelling, so an architecture the problem lacks fails at once.
    model = build_model(problem, cfg.hyperparameters())
    if init_model is not None:
        model.load_state_dict(init_model.state_dict())
    run_dir = Path(cfg.run_dir or Path("runs/construct") / Path(cfg.out).stem)
    run_dir.mkdir(parents=True, exist_ok=True)
    run = _Run(cfg, problem, run_dir, init_meta, *_datasets(cfg, problem, show_progress))
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    rng = np.random.default_rng(cfg.seed)
    trainer = Trainer(
        cfg, total=cfg.epochs, checkpoint=run_dir / "checkpoint.pt", patience=cfg.patience,
        states={"model": model, "optimizer": opt, "rng": NumpyRNG(rng), "torch_rng": TorchRNG()},
        description=f"train {cfg.problem}", show_progress=show_progress,
    )  # fmt: skip
    if trainer.resume():
        _resumed(trainer, run, opt)
    elif init_model is not None:
        # Fine-tuning: the starting policy is the one to beat on the user's distribution.
        trainer.best = validation_gap(problem, model, run.val_inst, run.reference, cfg.knn)
        log.info("init policy %s: validation gap %.3f %%", cfg.init, trainer.best)
        _save(cfg, model, 0, trainer.best, 0.0, len(run.data[0]), init_meta)
    _fit(trainer, run, model, opt, rng)
    if not Path(cfg.out).is_file():
        _save(cfg, model, trainer.step, trainer.best, trainer.seconds, len(run.data[0]), init_meta)
    return Path(cfg.out)


@dataclasses.dataclass
class _Run:
    """A run's fixed inputs: settings, problem, folder, labelled data and validation set."""

    cfg: TrainConfig
    problem: Any
    run_dir: Path
    init_meta: dict[str, Any]
    val_inst: list[Any]
    reference: list[float]  # the expert's validation objectives
    data: tuple[Any, Any, Any]  # training instances, solutions, trajectories
    lengths: np.ndarray  # trajectory lengths


def _datasets(cfg: TrainConfig, problem, show_progress: bool) -> tuple[Any, ...]:
    """Validation instances, their expert objectives, the training data and its lengths."""
    # Validation instances come from another seed than the training ones.
    val_inst, val_sols, _ = _dataset(cfg, cfg.val_instances, cfg.seed * 1000 + 2, show_progress)
    data = _dataset(cfg, cfg.train_instances, cfg.seed * 1000 + 1, show_progress)
    reference = [problem.objective(i, s) for i, s in zip(val_inst, val_sols)]
    lengths = np.array([len(t) for t in data[2]])
    return val_inst, reference, data, lengths


def _resumed(trainer: Trainer, run: _Run, opt: torch.optim.Optimizer) -> None:
    """Apply this phase's settings to a resumed run."""
    cfg = run.cfg
    for group in opt.param_groups:  # a resumed run may continue at another step size
        group["lr"] = cfg.lr
    before = trainer.saved_config or {}
    if [k for k in _VALIDATION_KEYS if before.get(k) != getattr(cfg, k)]:
        # Validation measures otherwise now: the policy to beat is the one already written,
        # measured the new way (a later phase may use a larger, less noisy validation set,
        # or better expert labels).
        trainer.best = _gap_of_file(cfg, run.problem, run.val_inst, run.reference)
        trainer.best_step = trainer.step
        log.info("validation changed: %s scores %.3f %% on it", cfg.out, trainer.best)
    log.info("resumed %s at epoch %d (best gap %.3f %%)", trainer.checkpoint, trainer.step, trainer.best)


def _fit(trainer: Trainer, run: _Run, model, opt: torch.optim.Optimizer, rng: np.random.Generator) -> None:
    """The epochs: train, validate, write the policy when it has the best gap so far."""
    cfg, problem = run.cfg, run.problem

    def out_of_time() -> bool:
        return cfg.max_minutes is not None and trainer.seconds > cfg.max_minutes * 60

    for epoch in trainer.steps():
        if out_of_time():
            log.info("time budget reached after %d epochs", epoch - 1)
            break
        losses = _train_epoch(run, model, opt, rng, out_of_time)
        if not losses:
            break
        gap = validation_gap(problem, model, run.val_inst, run.reference, cfg.knn)
        trainer.log({"train loss": float(np.mean(losses)), "validation gap %": gap})
        if trainer.score(gap):
            _save(cfg, model, epoch, gap, trainer.seconds, len(run.data[0]), run.init_meta)
        trainer.save_curves(run.run_dir / "curves.png", title=f"{cfg.problem} n={cfg.n}", xlabel="epoch")
        (run.run_dir / "history.json").write_text(json.dumps(trainer.history))
        loss = trainer.history["train loss"][-1]
        log.info("epoch %d loss %.4f val gap %.3f %%", epoch, loss, gap)
        trainer.status = f"loss {loss:.3f} gap {gap:.2f}% best {trainer.best:.2f}%"


def _train_epoch(run: _Run, model, opt: torch.optim.Optimizer, rng: np.random.Generator, out_of_time) -> list[float]:
    """Up to ``steps_per_epoch`` Adam steps (fewer when the time budget ends); their losses."""
    cfg, problem = run.cfg, run.problem
    model.train()
    losses = []
    for _ in range(cfg.steps_per_epoch):
        if out_of_time():  # a short last epoch still validates and checkpoints
            break
        state, target = _batch(problem, run.data, run.lengths, rng, cfg.batch_size, cfg.augment, cfg.knn)
        loss = _loss(policy_logits(model, problem, state), target)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def _lineage(cfg: TrainConfig, init_meta: dict[str, Any]) -> dict[str, Any]:
    """Model-card fields naming where a fine-tuned policy's weights come from and their licence
    (a policy derived from the BQ-NCO authors' weights keeps their CC BY-NC-SA 4.0)."""
    if not cfg.init:
        return {}
    source = {"file": Path(cfg.init).name}
    for key in ("origin", "source_sha256", "licence"):
        if key in init_meta:
            source[key] = init_meta[key]
    if "init" in init_meta:  # fine-tuned from a fine-tuned policy: keep the chain
        source["init"] = init_meta["init"]
    out: dict[str, Any] = {"init": source}
    if "licence" in init_meta:
        out["licence"] = init_meta["licence"]
        out["origin"] = f"fine-tuned from {init_meta.get('origin', Path(cfg.init).name)}"
    return out


def _save(
    cfg: TrainConfig, model, epoch: int, gap: float, seconds: float, n_train: int,
    init_meta: dict[str, Any],
) -> None:
    problem = get_problem(cfg.problem)
    dist = "" if cfg.distribution == "uniform" else f" {cfg.distribution}"
    save_policy(
        cfg.out,
        PolicyFile(
            kind=f"construct/{cfg.problem}",
            feature_version=problem.feature_version,
            hyperparameters=cfg.hyperparameters(),
            state_dict={k: v.detach().clone() for k, v in model.state_dict().items()},
            metadata={
                "problem": cfg.problem,
                **_lineage(cfg, init_meta),
                "training_data": (
                    f"{n_train} random{dist} {cfg.problem.upper()}{cfg.n} instances (seed "
                    f"{cfg.seed * 1000 + 1}) labelled by {EXPERTS.get(cfg.problem, 'PyVRP')} "
                    f"({cfg.label_time} s{' CPU' if cfg.label_clock == 'cpu' else ''} each), "
                    "with sub-path augmentation"
                    + (" and random equivalent copies (Problem.augment)" if cfg.augment else "")
                    + (f", cut to the {cfg.knn} nearest candidates" if cfg.knn else "")
                ),
                "epochs": epoch,
                "steps_per_epoch": cfg.steps_per_epoch,
                "batch_size": cfg.batch_size,
                "training_seconds": round(seconds, 1),
                "validation_gap_percent": round(gap, 3),
                "validation": (
                    f"greedy on {cfg.val_instances} random{dist} instances (seed {cfg.seed * 1000 + 2}), "
                    "gap to the expert labels" + (f", decoded with knn {cfg.knn}" if cfg.knn else "")
                ),
                "config": dataclasses.asdict(cfg),
            },
        ),
    )
