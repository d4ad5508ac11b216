"""Imitation training of the branching GNN on collected shards.

Cross-entropy between the softmax over each sample's candidates and the expert's choice, Adam,
learning-rate decay on a validation plateau, early stopping with the best validation weights
kept, top-1/3/5/10 accuracy per epoch (a prediction counts as right when one of its top k
candidates has the expert's best score, ties included, as in Gasse et al.), a learning-curve PNG,
and a checkpoint after every epoch so that a killed run resumes where it stopped. The validation
set is a seeded share of the instances of every distribution (never samples of a training
instance). Deterministic for a seed on one machine.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from orlearn.branching.dataset import find_shards, load_shard, shard_to_data
from orlearn.branching.observation import FEATURE_VERSION
from orlearn.errors import OrlearnError
from orlearn.training import GeneratorState, TorchRNG, TrainConfigBase, Trainer, pin_threads

log = logging.getLogger(__name__)

KIND = "branching"
TOPK = (1, 3, 5, 10)
_RECIPE = ("expert_prob", "node_limit", "time_limit")


@dataclass
class TrainConfig(TrainConfigBase):
    """Training hyper-parameters (learning rate per step; patience in epochs). A run resumes a
    checkpoint made with the same settings and shards; ``epochs`` and ``patience`` may grow."""

    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    lr_decay: float = 0.2
    lr_patience: int = 5
    patience: int = 12
    valid_fraction: float = 0.15
    emb: int = 64
    norm_samples: int = 256  # samples used to fit the input standardisation

    resumable: ClassVar[frozenset[str]] = frozenset({"epochs", "patience"})

    def check(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise OrlearnError("epochs and batch size must be at least 1")
        if not 0.0 < self.valid_fraction < 1.0:
            raise OrlearnError(f"validation fraction must be in (0, 1), got {self.valid_fraction}")
        if self.lr <= 0:
            raise OrlearnError(f"learning rate must be positive, got {self.lr}")


@dataclass
class TrainResult:
    """What training produced: the policy path, curves, and the best validation scores."""

    policy: Path
    curves: Path | None
    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = 0
    valid: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)


def split_shards(
    payloads: Sequence[dict[str, Any]], valid_fraction: float, seed: int
) -> tuple[list[int], list[int]]:
    """Indices of training and validation shards: a seeded share of each distribution's."""
    by_dist: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(payloads):
        by_dist[p["distribution"]].append(i)
    rng = np.random.default_rng(seed)
    train: list[int] = []
    valid: list[int] = []
    for dist in sorted(by_dist):
        idx = list(by_dist[dist])
        rng.shuffle(idx)
        if len(idx) < 2:
            raise OrlearnError(
                f"distribution {dist} has {len(idx)} instance(s) of data: need at least 2 "
                "(one for validation)"
            )
        n_valid = min(len(idx) - 1, max(1, round(valid_fraction * len(idx))))
        valid.extend(idx[:n_valid])
        train.extend(idx[n_valid:])
    return sorted(train), sorted(valid)


def candidate_logits(model: Any, batch: Any) -> Any:
    """Logits of ``batch``'s candidates placed in a vector over all its variables (zero
    elsewhere): the model scores the candidates only, which is the same function for the loss
    at a fraction of the cost (the last convolution runs over the candidates' edges)."""
    import torch

    z = model(batch, batch.candidates)
    return torch.zeros(batch.x_v.size(0), dtype=z.dtype).index_put((batch.candidates,), z)


def candidate_log_softmax(logits: Any, batch: Any) -> Any:
    """Log-probabilities over each sample's candidates (concatenated, batch order)."""
    from torch_geometric.utils import scatter

    z = logits[batch.candidates]
    group = batch.candidates_batch
    z = z - scatter(z, group, reduce="max")[group]
    return z - scatter(z.exp(), group, reduce="sum").log()[group]


def imitation_loss(logits: Any, batch: Any) -> Any:
    """Mean cross-entropy of the expert's choice under the candidate softmax."""
    logp = candidate_log_softmax(logits, batch)
    target = batch.candidates == batch.y[batch.candidates_batch]
    return -logp[target].mean()


def topk_hits(logits: Any, batch: Any, ks: Sequence[int] = TOPK) -> np.ndarray:
    """Per k, how many samples have a candidate with the expert's best score in their top k."""
    hits = np.zeros(len(ks))
    z = logits[batch.candidates].detach()
    start = 0
    for n in batch.n_cands.tolist():
        pred, scores = z[start : start + n], batch.cand_scores[start : start + n]
        order = pred.argsort(descending=True)
        best = scores.max()
        for j, k in enumerate(ks):
            hits[j] += bool(scores[order[:k]].max() >= best)
        start += n
    return hits


def _evaluate(model: Any, loader: Any) -> dict[str, float]:
    import torch

    model.eval()
    total, loss_sum, hits = 0, 0.0, np.zeros(len(TOPK))
    with torch.no_grad():
        for batch in loader:
            logits = candidate_logits(model, batch)
            loss_sum += float(imitation_loss(logits, batch)) * batch.num_graphs
            hits += topk_hits(logits, batch)
            total += batch.num_graphs
    # Plain floats: the checkpoint is read back with weights_only=True (no numpy scalars).
    out = {"loss": loss_sum / max(total, 1)}
    out.update({f"top{k}": float(hits[j]) / max(total, 1) for j, k in enumerate(TOPK)})
    return out


def random_baseline(samples: Sequence[Any], k: int = 1) -> float:
    """Expected top-k accuracy of picking k candidates uniformly (ties ignored)."""
    return float(np.mean([min(k, int(s.n_cands)) / int(s.n_cands) for s in samples]))


def train_policy(
    data: Sequence[str | Path],
    out: str | Path,
    config: TrainConfig | None = None,
    *,
    curves: str | Path | None = None,
    resume: bool = True,
    show_progress: bool = False,
) -> TrainResult:
    """Train a branching GNN on the shards under ``data`` and save it as a policy file ``out``.

    ``curves``: learning-curve PNG (default ``<out stem>.curves.png`` beside ``out``). A
    checkpoint ``<out>.ckpt`` is written after each epoch and resumed from when ``resume`` (one
    made with other settings or shards is refused, see :mod:`orlearn.training`); it is deleted
    once the policy is written.
    """
    import torch

    from orlearn.branching.memory import reuse_freed_memory
    from orlearn.branching.model import BranchingGNN

    config = config or TrainConfig()
    config.check()
    out = Path(out)
    curves = Path(curves) if curves is not None else out.with_name(out.stem + ".curves.png")
    ckpt_path = out.with_name(out.name + ".ckpt")
    t_start = time.perf_counter()
    paths, train_set, valid_set, metadata = _load_data(data, config)

    reuse_freed_memory()
    config.seed_everything()
    pin_threads("small")  # a small GNN: 1 thread unless ORLEARN_THREADS says otherwise
    model = BranchingGNN(emb=config.emb)
    _fit_normalization(model, train_set, config)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode="min", factor=config.lr_decay, patience=config.lr_patience
    )
    gen = torch.Generator().manual_seed(config.seed)
    trainer = Trainer(
        config, total=config.epochs, checkpoint=ckpt_path, data={"shards": [str(p) for p in paths]},
        states={"model": model, "optimizer": optimizer, "scheduler": scheduler,
                "generator": GeneratorState(gen), "torch_rng": TorchRNG()},
        patience=config.patience, description="training", show_progress=show_progress,
    )  # fmt: skip
    if resume:
        trainer.resume()
    _fit(trainer, model, optimizer, scheduler, _loaders(train_set, valid_set, config, gen))
    model.load_state_dict(trainer.best_state)
    metadata.update(
        epochs=len(trainer.history["valid loss"]), best_epoch=trainer.best_step,
        valid={k: round(float(v), 4) for k, v in trainer.extra["valid"].items()},
        config=asdict(config), train_seconds=round(time.perf_counter() - t_start, 1),
    )  # fmt: skip
    _save_policy(out, model, metadata)
    png = trainer.save_curves(
        curves, ["train loss", "valid loss", "train top1", "valid top1", "valid top5"], title=out.stem
    )
    ckpt_path.unlink(missing_ok=True)
    return TrainResult(
        policy=out, curves=png, history=dict(trainer.history), best_epoch=trainer.best_step,
        valid=trainer.extra["valid"], metadata=metadata,
    )  # fmt: skip


def _load_data(
    data: Sequence[str | Path], config: TrainConfig
) -> tuple[list[Path], list[Any], list[Any], dict[str, Any]]:
    """The shard paths, the training and validation samples, and their metadata."""
    paths = find_shards(data)
    payloads = [load_shard(p) for p in paths]
    train_idx, valid_idx = split_shards(payloads, config.valid_fraction, config.seed)
    train_set = [d for i in train_idx for d in shard_to_data(payloads[i])]
    valid_set = [d for i in valid_idx for d in shard_to_data(payloads[i])]
    if not train_set or not valid_set:
        raise OrlearnError(
            f"not enough samples: {len(train_set)} for training, {len(valid_set)} for validation"
        )
    metadata = _data_metadata(payloads, train_idx, valid_idx, train_set, valid_set)
    return paths, train_set, valid_set, metadata


def _loaders(train_set: list[Any], valid_set: list[Any], config: TrainConfig, gen: Any) -> tuple[Any, Any]:
    from torch_geometric.loader import DataLoader

    train_loader = DataLoader(
        train_set, batch_size=config.batch_size, shuffle=True, generator=gen,
        follow_batch=["candidates"],
    )  # fmt: skip
    valid_loader = DataLoader(valid_set, batch_size=64, follow_batch=["candidates"])
    return train_loader, valid_loader


def _fit(trainer: Trainer, model: Any, optimizer: Any, scheduler: Any, loaders: tuple[Any, Any]) -> None:
    """The epochs: train, validate, keep the best validation loss's weights."""
    train_loader, valid_loader = loaders
    for _ in trainer.steps():
        loss, top1 = _train_epoch(model, optimizer, train_loader)
        valid = _evaluate(model, valid_loader)
        scheduler.step(valid["loss"])
        trainer.log({"train loss": loss, "valid loss": valid["loss"], "train top1": top1})
        trainer.log({f"valid top{k}": valid[f"top{k}"] for k in TOPK})
        trainer.log(lr=optimizer.param_groups[0]["lr"])
        if trainer.score(valid["loss"], keep=model):
            trainer.extra["valid"] = valid
        trainer.status = f"loss {valid['loss']:.3f} top1 {valid['top1']:.2f} top5 {valid['top5']:.2f}"


def _train_epoch(model: Any, optimizer: Any, loader: Any) -> tuple[float, float]:
    """One pass of Adam over ``loader``: mean loss and top-1 accuracy."""
    model.train()
    total, loss_sum, hits = 0, 0.0, np.zeros(len(TOPK))
    for batch in loader:
        optimizer.zero_grad()
        logits = candidate_logits(model, batch)
        loss = imitation_loss(logits, batch)
        loss.backward()
        optimizer.step()
        loss_sum += float(loss.detach()) * batch.num_graphs
        hits += topk_hits(logits, batch)
        total += batch.num_graphs
    return loss_sum / total, float(hits[0]) / total


def _save_policy(out: Path, model: Any, metadata: dict[str, Any]) -> None:
    from orlearn.policy_file import PolicyFile, save_policy

    policy = PolicyFile(
        kind=KIND,
        feature_version=FEATURE_VERSION,
        hyperparameters=model.hyperparameters(),
        state_dict=model.state_dict(),
        metadata=metadata,
        extra={"normalization": model.normalization()},
    )
    save_policy(out, policy)


def _fit_normalization(model: Any, samples: Sequence[Any], config: TrainConfig) -> None:
    import torch

    rng = np.random.default_rng(config.seed)
    pick = rng.choice(len(samples), size=min(config.norm_samples, len(samples)), replace=False)
    chosen = [samples[i] for i in sorted(pick)]
    model.norm_c.fit(torch.cat([s.x_c for s in chosen]))
    model.norm_v.fit(torch.cat([s.x_v for s in chosen]))
    model.norm_e.fit(torch.cat([s.edge_attr for s in chosen]))


def _data_metadata(
    payloads: Sequence[dict[str, Any]],
    train_idx: Sequence[int],
    valid_idx: Sequence[int],
    train_set: Sequence[Any],
    valid_set: Sequence[Any],
) -> dict[str, Any]:
    def count(idx: Sequence[int]) -> tuple[Counter, Counter]:
        inst, samp = Counter(), Counter()
        for i in idx:
            d = payloads[i]["distribution"]
            inst[d] += 1
            samp[d] += sum(1 for s in payloads[i]["samples"] if s["candidates"].numel() > 0)
        return inst, samp

    tr_inst, tr_samp = count(train_idx)
    va_inst, va_samp = count(valid_idx)
    # Every collection recipe of a distribution with its number of instances (data collected
    # in several runs mixes recipes).
    recipes: dict[str, Counter] = defaultdict(Counter)
    for p in payloads:
        ep = p["episode"]
        recipes[p["distribution"]][tuple(ep.get(k) for k in _RECIPE)] += 1
    collection = {
        dist: [dict(zip(_RECIPE, key, strict=True), instances=n) for key, n in sorted(
            counts.items(), key=lambda kv: tuple(-1 if v is None else v for v in kv[0]))]
        for dist, counts in sorted(recipes.items())
    }  # fmt: skip
    return {
        "distributions": sorted(set(tr_inst) | set(va_inst)),
        "train_instances": dict(tr_inst),
        "train_samples": dict(tr_samp),
        "valid_instances": dict(va_inst),
        "valid_samples": dict(va_samp),
        "collection": collection,
        "random_valid_top1": round(random_baseline(valid_set, 1), 4),
        "random_valid_top5": round(random_baseline(valid_set, 5), 4),
        "n_train_samples": len(train_set),
        "n_valid_samples": len(valid_set),
    }
