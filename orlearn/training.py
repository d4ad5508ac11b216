"""One trainer for every training loop: checkpoint and resume keyed by the configuration, early
stopping, progress, learning curves and seeding.

A loop keeps its own step (an epoch of imitation, a round of episodes, an iteration of solves)
and hands the rest to :class:`Trainer`::

    trainer = Trainer(config, total=config.epochs, checkpoint=path,
                      states={"model": model, "optimizer": opt}, patience=config.patience)
    trainer.resume()
    for step in trainer.steps():          # 1-based, progress bar, checkpoint after each
        ...                               # one step of training
        trainer.log(loss=..., valid=...)  # the history (learning curves)
        trainer.score(valid, keep=model)  # best score, its step and weights
    model.load_state_dict(trainer.best_state)

Why one trainer: resuming must restore every random state and refuse a checkpoint made with
other settings, or a resumed run silently differs from an uninterrupted one; doing that once
keeps the five loops (branching imitation, ReviBranch, construct, TS-DDR, HDPO) from each
getting it slightly wrong.

A checkpoint is a dict of plain values and tensors, read back with ``weights_only=True``:
``format`` and ``version``, the step under the loop's unit name (``"epoch": 3``), ``key`` (what
the run may not change to resume, see :meth:`TrainConfigBase.resume_key`), the full ``config``,
``history``, ``best``, ``best_step``, ``best_state``, ``seconds`` (training time over every run),
``extra`` (the loop's plain counters) and ``states`` (each named object's ``state_dict()``). It
is written atomically (a kill never leaves half a file). A file in any other layout (a
checkpoint of another orlearn version included) is refused with a message saying to delete it
or train into another output; it is never half-read.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np

from orlearn.errors import OrlearnError
from orlearn.seeding import seed_everything
from orlearn.threads import Workload, set_threads

if TYPE_CHECKING:  # torch loads when a run starts: importing a trainer module stays cheap
    import torch

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "orlearn-training-checkpoint"
CHECKPOINT_VERSION = 1


@dataclasses.dataclass(kw_only=True)
class TrainConfigBase:
    """What every training configuration has: a seed, and which fields a resumed run may change.

    Subclasses list in ``resumable`` the fields that may differ between a checkpoint and the run
    resuming it (more epochs, more patience); every other field must be equal. ``seed`` is
    keyword-only so that subclasses may keep required positional fields.
    """

    seed: int = 0

    resumable: ClassVar[frozenset[str]] = frozenset()

    def resume_key(self) -> dict[str, Any]:
        """The settings a checkpoint must share with this run to be resumed by it."""
        return {k: v for k, v in dataclasses.asdict(self).items() if k not in self.resumable}

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Each field's default: a checkpoint that predates a field counts as having it."""
        out = {}
        for f in dataclasses.fields(cls):
            if f.default is not dataclasses.MISSING:
                out[f.name] = f.default
            elif f.default_factory is not dataclasses.MISSING:
                out[f.name] = f.default_factory()
        return out

    def seed_everything(self) -> None:
        """Seed Python's, NumPy's and torch's global generators with ``seed``."""
        seed_everything(self.seed)


def pin_threads(workload: Workload) -> int:
    """Set torch's thread count for a training run (see :func:`orlearn.threads.set_threads`)
    after finalising what the garbage collector still holds.

    Why the collection: a SCIP model with a learned rule puts back, when it is freed, the torch
    thread count it found when its solve began. Left to the collector, a model solved earlier in
    the process (at torch's default of one thread per core) is freed at a random point of the
    run, and the steps after it run on more threads, whose floating-point reductions differ in
    the last bits: a resumed run would not end with the weights of an uninterrupted one.
    Worker processes forked later inherit a clean process too.
    """
    gc.collect()
    return set_threads(None, workload)


class Stateful(Protocol):
    def state_dict(self) -> Any: ...

    def load_state_dict(self, state: Any) -> Any: ...


class TorchRNG:
    """Torch's global generator as a checkpointable object (dropout, ``randperm`` without a
    generator)."""

    def state_dict(self) -> torch.Tensor:
        import torch

        return torch.get_rng_state()

    def load_state_dict(self, state: torch.Tensor) -> None:
        import torch

        torch.set_rng_state(state)


class GeneratorState:
    """A ``torch.Generator`` (e.g. a data loader's shuffling) as a checkpointable object."""

    def __init__(self, generator: torch.Generator) -> None:
        self.generator = generator

    def state_dict(self) -> torch.Tensor:
        return self.generator.get_state()

    def load_state_dict(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)


class NumpyRNG:
    """A NumPy ``Generator`` as a checkpointable object. Its 128-bit integers are kept as
    strings: torch's safe loader reads plain values only."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def state_dict(self) -> dict[str, Any]:
        state = self.rng.bit_generator.state
        return {
            "bit_generator": state["bit_generator"],
            "state": {k: str(v) for k, v in state["state"].items()},
            "has_uint32": int(state["has_uint32"]),
            "uinteger": int(state["uinteger"]),
        }

    def load_state_dict(self, plain: dict[str, Any]) -> None:
        self.rng.bit_generator.state = {**plain, "state": {k: int(v) for k, v in plain["state"].items()}}


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint written by :class:`Trainer`; OrlearnError for anything else."""
    import torch

    path = Path(path)
    try:
        ck = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file; all mean the same here
        raise OrlearnError(
            f"{path} is not a readable training checkpoint ({type(exc).__name__}): delete it or "
            "train into another output"
        ) from exc
    if not isinstance(ck, dict) or ck.get("format") != CHECKPOINT_FORMAT:
        raise OrlearnError(
            f"{path} is not a training checkpoint of this orlearn (an older layout or another "
            "file): delete it or train into another output"
        )
    if ck.get("version") != CHECKPOINT_VERSION:
        raise OrlearnError(
            f"{path} is a training checkpoint of version {ck.get('version')}, this orlearn reads "
            f"version {CHECKPOINT_VERSION}: delete it or train into another output"
        )
    return ck


def changed_settings(saved: Mapping[str, Any], key: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """Names whose value in ``key`` differs from the checkpoint's (a name the checkpoint lacks
    counts as its default)."""
    missing = object()
    return sorted(
        k for k in set(key) | set(saved)
        if saved.get(k, defaults.get(k, missing)) != key.get(k, missing)
    )  # fmt: skip


def checkpoint_matches(path: str | Path, config: TrainConfigBase, data: Mapping[str, Any] | None = None) -> bool:
    """Whether the checkpoint at ``path`` can be resumed by a run with ``config`` (and ``data``)."""
    try:
        ck = read_checkpoint(path)
    except OrlearnError:
        return False
    key = {**config.resume_key(), **(data or {})}
    return not changed_settings(ck["key"], key, type(config).defaults())


class Trainer:
    """Step counting, history, best score, early stopping, checkpoints and progress of one run.

    ``config``: the run's settings (its :meth:`~TrainConfigBase.resume_key`, plus ``data``,
    e.g. the training files, key the checkpoint). ``total``: the steps to run. ``states``: named
    objects with ``state_dict`` / ``load_state_dict`` saved in the checkpoint and restored on
    resume (models, optimisers, schedulers, random generators). ``patience``: stop once that many
    steps have passed since the best score (None: never). ``checkpoint_every``: steps between
    checkpoints (the last step always writes one). ``unit`` names a step in messages, progress
    and the checkpoint. ``progress``: an ``advance(n=1, status=...)`` to report to, else a bar
    of ``description`` is shown when ``show_progress``.
    """

    def __init__(
        self,
        config: TrainConfigBase,
        *,
        total: int,
        checkpoint: str | Path | None = None,
        states: Mapping[str, Stateful] | None = None,
        data: Mapping[str, Any] | None = None,
        patience: int | None = None,
        checkpoint_every: int = 1,
        unit: str = "epoch",
        description: str = "training",
        show_progress: bool = False,
        progress: Callable[..., None] | None = None,
    ) -> None:
        self.config = config
        self.total = int(total)
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.states = dict(states or {})
        self.key = {**config.resume_key(), **(data or {})}
        self.patience = patience
        self.checkpoint_every = max(1, int(checkpoint_every))
        self.unit = unit
        self.description = description
        self.show_progress = show_progress
        self.progress = progress
        self.step = 0
        self.history: dict[str, list[float]] = {}
        self.best = math.inf
        self.best_step = 0
        self.best_state: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}  # the loop's own plain values, checkpointed
        self.saved_config: dict[str, Any] | None = None  # the resumed checkpoint's settings
        self.status = ""
        self._seconds = 0.0
        self._started = time.perf_counter()

    # -- resume and checkpoint ---------------------------------------------------------------
    def resume(self) -> bool:
        """Restore the checkpoint if there is one; refuse one made with other settings."""
        if self.checkpoint is None or not self.checkpoint.is_file():
            return False
        ck = read_checkpoint(self.checkpoint)
        changed = changed_settings(ck["key"], self.key, type(self.config).defaults())
        if changed:
            raise OrlearnError(
                f"{self.checkpoint} was made with other settings ({', '.join(changed)}): use the "
                "same ones to resume, or train into another output"
            )
        missing = sorted(set(self.states) - set(ck["states"]))
        if missing:
            raise OrlearnError(f"{self.checkpoint} lacks the state of {', '.join(missing)}")
        for name, obj in self.states.items():
            obj.load_state_dict(ck["states"][name])
        self.step = int(ck[ck["unit"]])
        self.history = {k: list(v) for k, v in ck["history"].items()}
        self.best, self.best_step, self.best_state = ck["best"], ck["best_step"], ck["best_state"]
        self.extra = dict(ck["extra"])
        self.saved_config = dict(ck["config"])
        self._seconds = float(ck["seconds"])
        self._started = time.perf_counter()
        log.info("resuming at %s %d from %s", self.unit, self.step + 1, self.checkpoint)
        return True

    def save_checkpoint(self) -> None:
        """Write the checkpoint now (atomically)."""
        if self.checkpoint is None:
            return
        state = {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "unit": self.unit,
            self.unit: self.step,
            "key": self.key,
            "config": dataclasses.asdict(self.config),
            "history": {k: list(v) for k, v in self.history.items()},
            "best": self.best,
            "best_step": self.best_step,
            "best_state": self.best_state,
            "seconds": self.seconds,
            "extra": dict(self.extra),
            "states": {name: obj.state_dict() for name, obj in self.states.items()},
        }
        import torch

        self.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.checkpoint.with_name(self.checkpoint.name + ".tmp")
        torch.save(state, tmp)
        tmp.replace(self.checkpoint)

    # -- the loop ----------------------------------------------------------------------------
    @property
    def seconds(self) -> float:
        """Training time in seconds, over this run and the runs it resumes."""
        return self._seconds + time.perf_counter() - self._started

    def stopped_early(self) -> bool:
        """Whether ``patience`` steps have passed since the best score."""
        return self.patience is not None and self.step - self.best_step >= self.patience

    def steps(self) -> Iterator[int]:
        """The steps still to run (1-based). After each: count it, checkpoint, show progress.
        Ends at ``total`` or on early stopping; a ``break`` in the body ends it uncounted."""
        with self._progress() as advance:
            if self.step:
                advance(self.step, status="resumed")
            while self.step < self.total:
                if self.stopped_early():
                    log.info("early stop after %s %d (best %d)", self.unit, self.step, self.best_step)
                    break
                yield self.step + 1
                self.step += 1
                if self.step % self.checkpoint_every == 0 or self.step == self.total:
                    self.save_checkpoint()
                advance(1, status=self.status)

    @contextmanager
    def _progress(self) -> Iterator[Callable[..., None]]:
        if self.progress is not None:
            progress = self.progress

            def advance(n: int = 1, **fields: Any) -> None:
                if n:
                    progress(n=n, **fields)

            yield advance
            return
        from orlearn.progress import progress_bar

        with progress_bar(self.description, self.total, disable=not self.show_progress) as advance:
            yield advance

    def log(self, values: Mapping[str, float] | None = None, **named: float) -> None:
        """Append values to the history (one point per name, e.g. per step)."""
        for name, value in {**(values or {}), **named}.items():
            self.history.setdefault(name, []).append(float(value))

    def score(self, value: float, keep: torch.nn.Module | None = None, *, step: int | None = None) -> bool:
        """Record a validation score (lower is better); True when it is the best so far, whose
        weights are then copied from ``keep`` into :attr:`best_state`."""
        if not value < self.best:
            return False
        self.best = float(value)
        self.best_step = self.step + 1 if step is None else step
        if keep is not None:
            self.best_state = {k: v.detach().clone() for k, v in keep.state_dict().items()}
        return True

    def save_curves(self, path: str | Path, names: list[str] | None = None, **kwargs: Any) -> Path | None:
        """The learning curves of ``names`` (default: the whole history) as a PNG."""
        from orlearn.curves import save_learning_curves

        names = list(self.history) if names is None else [k for k in names if k in self.history]
        curves = {k: self.history[k] for k in names}
        return save_learning_curves(path, curves, xlabel=kwargs.pop("xlabel", self.unit), **kwargs)
