"""Revived trajectories: a replay buffer that stores each decision once and rebuilds paths.

Every decision of a complete episode is stored once: its encoded state (2 emb float32), its
candidates' embeddings (float16), the chosen candidate, its depth, its return, its stake (the
measured size of its subtree, which scales the trust region: :mod:`~orlearn.branching.revibranch.policy`)
and the index of its parent decision. Memory is therefore linear in the number of decisions; the
root-to-node trajectory a decision was taken in (the (state, action) pairs of its ancestors) is
not stored but rebuilt by following the parent links, which is what "reviving" the trajectory
means here. Oldest episodes are dropped first once ``capacity`` decisions are exceeded.
Episodes that did not finish (time limit, crash) are refused and only counted.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from orlearn.branching.revibranch.episode import Episode
from orlearn.branching.revibranch.policy import PathBatch
from orlearn.branching.revibranch.rewards import decision_parents

_ARRAYS = ("nodes", "parent", "depth", "action", "returns", "stakes", "state", "cand_offset", "cand")


@dataclass
class _Block:
    """The decisions of one episode, in the order they were taken."""

    instance: str
    nodes: np.ndarray  # (n,) int64 SCIP node numbers
    parent: np.ndarray  # (n,) int64 index of the parent decision in this block, -1 none
    depth: np.ndarray  # (n,) int64
    action: np.ndarray  # (n,) int64 index into the decision's candidates
    returns: np.ndarray  # (n,) float64
    stakes: np.ndarray  # (n,) float64
    state: np.ndarray  # (n, 2 emb) float32
    cand_offset: np.ndarray  # (n + 1,) int64 rows of ``cand`` per decision
    cand: np.ndarray  # (sum of candidates, emb) float16

    def __len__(self) -> int:
        return int(self.nodes.shape[0])

    def to_tensors(self) -> dict[str, Any]:
        out: dict[str, Any] = {"instance": self.instance}
        for key in _ARRAYS:
            out[key] = torch.from_numpy(np.ascontiguousarray(getattr(self, key)))
        return out

    @classmethod
    def from_tensors(cls, data: dict[str, Any]) -> _Block:
        arrays = {k: v.numpy() for k, v in data.items() if k != "instance"}
        return cls(instance=data["instance"], **arrays)


class RevivedBuffer:
    """Decisions of complete episodes with their returns; ancestor paths from parent links."""

    def __init__(self, capacity: int = 50_000) -> None:
        if capacity < 1:
            raise ValueError(f"buffer capacity must be at least 1 decision, got {capacity}")
        self.capacity = capacity
        self._blocks: list[_Block] = []
        self._starts: list[int] = []  # global index of each block's first decision
        self.rejected: Counter[str] = Counter()  # episodes refused, by status

    def __len__(self) -> int:
        return self._starts[-1] + len(self._blocks[-1]) if self._blocks else 0

    @property
    def episodes(self) -> int:
        return len(self._blocks)

    def add(self, episode: Episode, returns: Sequence[float], stakes: Sequence[float]) -> bool:
        """Store a complete episode's decisions with their returns and stakes; False (and
        counted) when the episode is incomplete (time limit, crash, ...) or has no decision."""
        if not episode.complete:
            self.rejected[episode.status] += 1
            return False
        decisions = episode.decisions
        if not decisions:
            return False
        if len(returns) != len(decisions) or not np.all(np.isfinite(returns)):
            raise ValueError("one finite return per decision is required")
        if len(stakes) != len(decisions) or not np.all(np.isfinite(stakes)):
            raise ValueError("one finite stake per decision is required")
        counts = np.array([d.cand.shape[0] for d in decisions], dtype=np.int64)
        block = _Block(
            instance=episode.instance,
            nodes=np.array([d.node for d in decisions], dtype=np.int64),
            parent=np.array(decision_parents(episode), dtype=np.int64),
            depth=np.array([d.depth for d in decisions], dtype=np.int64),
            action=np.array([d.action for d in decisions], dtype=np.int64),
            returns=np.asarray(returns, dtype=np.float64).copy(),
            stakes=np.asarray(stakes, dtype=np.float64).copy(),
            state=np.stack([d.state for d in decisions]).astype(np.float32),
            cand_offset=np.concatenate([[0], np.cumsum(counts)]),
            cand=np.concatenate([d.cand for d in decisions]).astype(np.float16),
        )
        self._append(block)
        return True

    def _append(self, block: _Block) -> None:
        self._blocks.append(block)
        self._reindex()
        while len(self) > self.capacity and len(self._blocks) > 1:
            self._blocks.pop(0)
            self._reindex()

    def _reindex(self) -> None:
        lengths = [len(b) for b in self._blocks]
        self._starts = [int(x) for x in np.cumsum([0] + lengths[:-1])] if lengths else []

    def _locate(self, i: int) -> tuple[_Block, int]:
        if not 0 <= i < len(self):
            raise IndexError(f"decision {i} is not in a buffer of {len(self)}")
        b = bisect.bisect_right(self._starts, i) - 1
        return self._blocks[b], i - self._starts[b]

    def node(self, i: int) -> int:
        """SCIP node number of decision ``i``."""
        block, j = self._locate(i)
        return int(block.nodes[j])

    def ancestors(self, i: int, max_len: int | None = None) -> list[int]:
        """Global indices of the decisions above ``i`` (nearest ``max_len``), root first."""
        block, j = self._locate(i)
        start = i - j
        path: list[int] = []
        p = int(block.parent[j])
        while p >= 0 and (max_len is None or len(path) < max_len):
            path.append(start + p)
            p = int(block.parent[p])
        path.reverse()
        return path

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` decision indices drawn uniformly (with replacement when needed)."""
        n = len(self)
        return rng.choice(n, size=size, replace=size > n)

    def batch(self, indices: Sequence[int], *, max_path: int, revival: bool = True) -> tuple[
        PathBatch, torch.Tensor, torch.Tensor, torch.Tensor
    ]:  # fmt: skip
        """The :class:`PathBatch` of ``indices`` plus their actions, returns and stakes (B,)."""
        rows = [self._row(int(i)) for i in indices]
        paths = [self.ancestors(int(i), max_path) if revival else [] for i in indices]
        emb = rows[0][2].shape[1]
        big_c = max(r[2].shape[0] for r in rows)
        big_l = max((len(p) for p in paths), default=0)
        b = len(rows)
        cand = torch.zeros(b, big_c, emb)
        cand_mask = torch.zeros(b, big_c, dtype=torch.bool)
        anc_state = torch.zeros(b, big_l, 2 * emb)
        anc_action = torch.zeros(b, big_l, emb)
        anc_depth = torch.zeros(b, big_l, dtype=torch.long)
        anc_mask = torch.zeros(b, big_l, dtype=torch.bool)
        for k, ((_, _, c, _, _, _), path) in enumerate(zip(rows, paths)):
            cand[k, : c.shape[0]] = torch.from_numpy(c.astype(np.float32))
            cand_mask[k, : c.shape[0]] = True
            for m, a in enumerate(path):
                a_state, a_depth, a_cand, a_action, _, _ = self._row(a)
                anc_state[k, m] = torch.from_numpy(a_state)
                anc_action[k, m] = torch.from_numpy(a_cand[a_action].astype(np.float32))
                anc_depth[k, m] = a_depth
                anc_mask[k, m] = True
        batch = PathBatch(
            cand=cand, cand_mask=cand_mask,
            state=torch.from_numpy(np.stack([r[0] for r in rows])),
            depth=torch.tensor([r[1] for r in rows], dtype=torch.long),
            anc_state=anc_state, anc_action=anc_action, anc_depth=anc_depth, anc_mask=anc_mask,
        )  # fmt: skip
        actions = torch.tensor([r[3] for r in rows], dtype=torch.long)
        returns = torch.tensor([r[4] for r in rows], dtype=torch.float32)
        stakes = torch.tensor([r[5] for r in rows], dtype=torch.float32)
        return batch, actions, returns, stakes

    def _row(self, i: int) -> tuple[np.ndarray, int, np.ndarray, int, float, float]:
        """State, depth, candidate embeddings, action, return and stake of decision ``i``."""
        block, j = self._locate(i)
        lo, hi = block.cand_offset[j], block.cand_offset[j + 1]
        return (
            block.state[j], int(block.depth[j]), block.cand[lo:hi], int(block.action[j]),
            float(block.returns[j]), float(block.stakes[j]),
        )  # fmt: skip

    def nbytes(self) -> int:
        """Bytes held by the stored arrays."""
        return sum(
            getattr(b, k).nbytes
            for b in self._blocks
            for k in _ARRAYS
        )

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to rebuild the buffer (tensors and plain values, for torch.save)."""
        return {
            "capacity": self.capacity,
            "blocks": [b.to_tensors() for b in self._blocks],
            "rejected": dict(self.rejected),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.capacity = int(state["capacity"])
        self._blocks = [_Block.from_tensors(b) for b in state["blocks"]]
        self._reindex()
        self.rejected = Counter(state["rejected"])
