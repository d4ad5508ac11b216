"""Imitation samples on disk: one shard file per collection episode (one instance solve).

A shard is a torch file holding a plain dictionary (read with ``weights_only=True``): the
instance, its distribution and the episode's settings, the distinct edge lists of the episode
(stored once: the LP rows rarely change between nodes, so most samples share one), and the
samples, each with its constraint and variable features, candidates (graph columns), the
expert's strong-branching scores and choice (an index into the candidates).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from orlearn.branching.observation import FEATURE_VERSION, Observation
from orlearn.errors import OrlearnError

log = logging.getLogger(__name__)

SHARD_FORMAT = "orlearn-branching-shard"
SHARD_SUFFIX = ".shard.pt"


@dataclass
class ShardWriter:
    """Accumulates one episode's samples, then writes them atomically with :meth:`save`."""

    instance: str
    distribution: str

    def __post_init__(self) -> None:
        self.samples: list[dict[str, Any]] = []
        self.edges: list[dict[str, Any]] = []
        self._edge_ids: dict[int, int] = {}
        self._edge_refs: list[Any] = []  # keeps the arrays alive so their ids stay unique

    def add(self, obs: Observation, scores: np.ndarray, *, depth: int, node: int) -> None:
        """Record ``obs`` with the expert ``scores`` of its candidates (same order)."""
        import torch

        key = id(obs.edge_index)
        if key not in self._edge_ids:
            self._edge_ids[key] = len(self.edges)
            self._edge_refs.append(obs.edge_index)
            self.edges.append(
                {
                    "edge_index": torch.from_numpy(obs.edge_index.astype(np.int32)),
                    "edge_attr": torch.from_numpy(obs.edge_features.copy()),
                }
            )
        self.samples.append(
            {
                "x_c": torch.from_numpy(obs.cons_features.copy()),
                "x_v": torch.from_numpy(obs.var_features.copy()),
                "edges": self._edge_ids[key],
                "candidates": torch.from_numpy(obs.candidates.astype(np.int32)),
                "scores": torch.from_numpy(scores.astype(np.float64)),
                "choice": int(np.argmax(scores)),
                "depth": int(depth),
                "node": int(node),
            }
        )

    def save(self, path: str | Path, episode: dict[str, Any]) -> Path:
        """Write the shard (``episode``: JSON-able settings and statistics of the solve)."""
        import torch

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": SHARD_FORMAT,
            "feature_version": FEATURE_VERSION,
            "instance": self.instance,
            "distribution": self.distribution,
            "episode": episode,
            "edges": self.edges,
            "samples": self.samples,
        }
        tmp = path.with_name(path.name + ".tmp")
        torch.save(payload, tmp)
        tmp.replace(path)  # a killed worker never leaves a half shard that looks done
        return path


def load_shard(path: str | Path) -> dict[str, Any]:
    """Read one shard, checking its format and feature version."""
    import torch

    path = Path(path)
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a truncated or foreign file: torch raises many types
        raise OrlearnError(f"{path} is not a readable branching shard ({type(exc).__name__})") from exc
    if not isinstance(payload, dict) or payload.get("format") != SHARD_FORMAT:
        raise OrlearnError(f"{path} is not an orlearn branching shard")
    if payload["feature_version"] != FEATURE_VERSION:
        raise OrlearnError(
            f"{path} holds features of version {payload['feature_version']}, this orlearn uses "
            f"version {FEATURE_VERSION}: collect the data again"
        )
    return payload


def find_shards(specs: Sequence[str | Path]) -> list[Path]:
    """Shard files named by ``specs`` (files or directories searched recursively), sorted."""
    found: list[Path] = []
    for spec in specs:
        p = Path(spec)
        if p.is_dir():
            found.extend(sorted(p.rglob(f"*{SHARD_SUFFIX}")))
        elif p.is_file():
            found.append(p)
        else:
            raise OrlearnError(f"no such data file or directory: {p}")
    if not found:
        raise OrlearnError(f"no branching shards (*{SHARD_SUFFIX}) in {', '.join(map(str, specs))}")
    return sorted(set(found))


def shard_to_data(payload: dict[str, Any]) -> list[Any]:
    """The shard's samples as :class:`~orlearn.branching.model.BipartiteData` objects.

    Samples with no candidate are dropped. ``y`` is the graph column of the expert's choice,
    ``cand_scores`` the expert scores of ``candidates``.
    """
    import torch

    from orlearn.branching.model import BipartiteData

    edges = [
        (e["edge_index"].long(), e["edge_attr"].float()) for e in payload["edges"]
    ]  # shared by the samples of one LP
    out = []
    for s in payload["samples"]:
        cands = s["candidates"].long()
        if cands.numel() == 0:
            continue
        edge_index, edge_attr = edges[s["edges"]]
        out.append(
            BipartiteData(
                x_c=s["x_c"].float(),
                x_v=s["x_v"].float(),
                edge_index=edge_index,
                edge_attr=edge_attr,
                candidates=cands,
                cand_scores=s["scores"].double(),
                y=cands[s["choice"]].view(1),
                n_cands=torch.tensor([cands.numel()]),
                num_nodes=s["x_v"].shape[0],
            )
        )
    return out
