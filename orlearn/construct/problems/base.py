"""What every constructive problem shares: the batched BQ state, the problem interface, TSPLIB parsing.

A problem is one object with a fixed interface (:class:`Problem`), so the model, the trainer and the
decoder never look inside a problem. A state is the *reduced* (bisimulation-quotiented) state of
BQ-NCO: after each step what is left is again an instance of the same (path-)problem, stored as
batched torch tensors whose node dimension shrinks by one per step.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from orlearn.errors import OrlearnError

# A step removes one node token from every instance of the batch, so all instances of a batch
# keep the same number of tokens and plain tensors (no padding) suffice.


@dataclasses.dataclass
class BatchState:
    """Base class of the batched reduced states: every tensor field has the batch as dim 0."""

    def select(self, index: Any) -> BatchState:
        """The states at ``index`` (a LongTensor of batch positions), e.g. to reorder beams."""

        values = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            values[f.name] = v[index] if isinstance(v, torch.Tensor) else v
        return type(self)(**values)

    @property
    def size(self) -> int:
        """Number of node tokens per instance."""
        return int(self.ids.shape[1])  # type: ignore[attr-defined]

    @property
    def batch(self) -> int:
        return int(self.ids.shape[0])  # type: ignore[attr-defined]


class Problem(ABC):
    """The interface the model, trainer and decoder use; one subclass per problem module."""

    name: str
    sense: str  # "min" or "max"
    n_features: int  # features per token
    actions_per_token: int
    attention_bias_channels: int = 0  # > 0: the model adds a learned bias from pairwise data
    feature_version: int = 1
    # Part of the label cache key: bump it when the expert changes, so stale labels are not reused.
    expert_version: str = ""

    # --- instances -------------------------------------------------------------------------
    @abstractmethod
    def generate(self, n: int, count: int, seed: int) -> list[Any]:
        """``count`` random instances with ``n`` nodes/items from the standard distribution."""

    # Instance distributions of :meth:`sample`; "uniform" is :meth:`generate`.
    distributions: tuple[str, ...] = ("uniform",)

    def sample(self, n: int, count: int, seed: int, distribution: str = "uniform") -> list[Any]:
        """``count`` random instances of ``distribution`` (one of :attr:`distributions`)."""
        if distribution not in self.distributions:
            raise OrlearnError(
                f"no '{distribution}' instances for {self.name} "
                f"(choose from {', '.join(self.distributions)})"
            )
        if distribution == "uniform":
            return self.generate(n, count, seed)
        return self._sample(n, count, seed, distribution)

    def _sample(self, n: int, count: int, seed: int, distribution: str) -> list[Any]:
        """Instances of the problem's other distributions (subclasses that list some)."""
        raise NotImplementedError

    def read(self, path: str | Path) -> Any:
        """Read one instance file of the problem's standard format."""
        raise OrlearnError(f"no file reader for problem '{self.name}'")

    def size_of(self, instance: Any) -> int:
        """The n used to group instances of equal size into one batch."""
        return int(instance.n)

    @abstractmethod
    def objective(self, instance: Any, solution: Any) -> float:
        """Objective value (minimised for routing, maximised for OP and KP)."""

    @abstractmethod
    def check(self, instance: Any, solution: Any) -> str | None:
        """``None`` if ``solution`` is feasible for ``instance``, else the first violation found."""

    @abstractmethod
    def expert(self, instance: Any, time_limit: float, seed: int) -> Any:
        """A near-optimal (or optimal) solution from a classical solver."""

    # --- the BQ-MDP ------------------------------------------------------------------------
    @abstractmethod
    def trajectory(self, instance: Any, solution: Any) -> np.ndarray:
        """The expert's actions as an int array (T, k): what :meth:`reduce` and
        :meth:`target_actions` consume; padded rows (-1) are allowed after the end."""

    @abstractmethod
    def initial_state(self, instances: Sequence[Any]) -> BatchState:
        """The root states of instances of equal size."""

    @abstractmethod
    def reduce(self, state: BatchState, prefix: Any) -> BatchState:
        """The state after following ``prefix`` (a (B, t, k) int tensor of trajectory rows)."""

    @abstractmethod
    def target_actions(self, state: BatchState, rows: Any) -> Any:
        """Flat action indices (B,) that perform trajectory rows ``rows`` (B, k) in ``state``,
        or for KP a (B, L*A) bool tensor of all correct actions."""

    @abstractmethod
    def step(self, state: BatchState, actions: Any) -> BatchState:
        """Apply flat action indices (B,) and return the reduced next state."""

    @abstractmethod
    def done(self, state: BatchState) -> bool:
        """True when every instance of the batch has finished."""

    @abstractmethod
    def features(self, state: BatchState) -> Any:
        """Token features (B, L, n_features), invariant to translation and scale where possible."""

    def attention_bias(self, state: BatchState) -> Any:
        """Pairwise data (B, L, L, attention_bias_channels) for problems that need it."""
        return None

    @abstractmethod
    def mask(self, state: BatchState) -> Any:
        """Feasible actions (B, L, actions_per_token) bool."""

    @abstractmethod
    def record(self, state: BatchState, actions: Any) -> Any:
        """What to remember of an action for :meth:`solution` ((B, k) ints)."""

    @abstractmethod
    def solution(self, instance: Any, records: np.ndarray) -> Any:
        """Turn the recorded (T, k) actions of one instance into a solution."""

    def augment(self, instance: Any, solution: Any, rng: np.random.Generator) -> tuple[Any, Any]:
        """A random equivalent copy of ``instance`` and ``solution`` (same objective): a
        symmetry of the plane, another start node, the other direction, as the problem allows.
        Training samples sub-problems from these, so a few hundred labelled instances give far
        more distinct sub-problems than their fixed trajectories. Default: unchanged."""
        return instance, solution

    def knn(self, state: BatchState, k: int) -> tuple[BatchState, Any] | None:
        """The state restricted to the k candidates nearest the current position and the map
        from restricted token positions to full ones; ``None`` if the problem has no such
        restriction or the state is already small."""
        return None


# --- TSPLIB / CVRPLIB parsing -----------------------------------------------------------------

SECTIONS = (
    "NODE_COORD_SECTION",
    "DEMAND_SECTION",
    "DEPOT_SECTION",
    "EDGE_WEIGHT_SECTION",
    "DISPLAY_DATA_SECTION",
    "TOUR_SECTION",
)


def read_tsplib(path: str | Path) -> tuple[dict[str, str], dict[str, list[float]]]:
    """Parse a TSPLIB-style file into its header (upper-case keys) and numeric sections."""
    path = Path(path)
    if not path.is_file():
        raise OrlearnError(f"instance file not found: {path}")
    try:
        text = path.read_text()
    except UnicodeDecodeError as exc:
        raise OrlearnError(f"{path}: not a text file") from exc
    header: dict[str, str] = {}
    sections: dict[str, list[float]] = {}
    current: str | None = None
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line:
            continue
        if line == "EOF":
            break
        word = line.split()[0].rstrip(":").upper()
        if word in SECTIONS:
            current = word
            sections[current] = []
            continue
        if ":" in line and not _is_number(line.split()[0]):
            key, _, value = line.partition(":")
            header[key.strip().upper()] = value.strip()
            current = None
            continue
        if current is None:
            raise OrlearnError(f"{path}:{lineno}: unexpected line '{line[:40]}'")
        try:
            sections[current].extend(float(tok) for tok in line.split())
        except ValueError as exc:
            raise OrlearnError(f"{path}:{lineno}: non-numeric data in {current}") from exc
    return header, sections


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def header_int(header: dict[str, str], key: str, path: str | Path) -> int:
    """An integer header field, with a clear error when missing or malformed."""
    if key not in header:
        raise OrlearnError(f"{path}: missing {key}")
    try:
        return int(float(header[key]))
    except ValueError as exc:
        raise OrlearnError(f"{path}: {key} is not a number: '{header[key]}'") from exc


def node_table(values: list[float], n: int, columns: int, what: str, path: str | Path) -> np.ndarray:
    """A section of ``n`` rows ``id v1 .. v_columns`` (ids 1..n) as an (n, columns) array."""
    if len(values) != n * (columns + 1):
        raise OrlearnError(
            f"{path}: {what} has {len(values)} numbers, expected {n} rows of {columns + 1}"
        )
    table = np.asarray(values, dtype=np.float64).reshape(n, columns + 1)
    ids = table[:, 0].astype(np.int64)
    if sorted(ids.tolist()) != list(range(1, n + 1)):
        raise OrlearnError(f"{path}: {what} node ids are not 1..{n}")
    out = np.empty((n, columns))
    out[ids - 1] = table[:, 1:]
    return out


def euclidean(coords: np.ndarray, rounded: bool) -> np.ndarray:
    """Pairwise Euclidean distances; ``rounded`` applies TSPLIB's nint (x + 0.5 truncated)."""
    diff = coords[:, None, :] - coords[None, :, :]
    d = np.sqrt((diff**2).sum(-1))
    return np.floor(d + 0.5) if rounded else d


def plane_symmetry(coords: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``coords`` (n, 2) under a random one of the 8 symmetries of the square (reflections of
    each axis within its range, exchange of the axes): Euclidean distances are unchanged, and
    points of the unit square stay in it."""
    lo, hi = coords.min(0), coords.max(0)
    out = coords.copy()
    for axis in (0, 1):
        if rng.random() < 0.5:
            out[:, axis] = lo[axis] + hi[axis] - out[:, axis]
    if rng.random() < 0.5:
        out = out[:, ::-1]
    return np.ascontiguousarray(out)


def swap_labels(n: int, a: int, b: int) -> np.ndarray:
    """The permutation of ``range(n)`` that exchanges ``a`` and ``b``."""
    perm = np.arange(n)
    perm[[a, b]] = perm[[b, a]]
    return perm


def path_length(dist: np.ndarray, nodes: Sequence[int]) -> float:
    """Length of the closed walk through ``nodes`` (back to the first)."""
    nodes = np.asarray(nodes, dtype=np.int64)
    if len(nodes) < 2:
        return 0.0
    return float(dist[nodes, np.roll(nodes, -1)].sum())


def scaled_int(dist: np.ndarray, rounded: bool) -> np.ndarray:
    """Integer distances for the classical solvers: TSPLIB values as they are, float
    distances scaled by 1e5 (below 1e-5 relative error on unit-square instances)."""
    if rounded:
        return dist.astype(np.int64)
    return np.rint(dist * 1e5).astype(np.int64)


def unit_square(coords: np.ndarray) -> np.ndarray:
    """``coords`` (n, 2) as they are if they lie in the unit square, else translated and scaled
    uniformly into it (TSPLIB / CVRPLIB instances): the BQ-perceiver reads raw coordinates, as
    it was trained on unit-square instances, and distances keep their ratios."""
    lo, hi = coords.min(0), coords.max(0)
    if lo.min() >= 0.0 and hi.max() <= 1.0:
        return coords
    return (coords - lo) / max(float((hi - lo).max()), 1e-12)


def normalize_coords(coords: Any) -> Any:
    """Translate and scale (B, L, 2) coordinates so each instance spans at most [0, 1]^2; the
    sub-problems of large or TSPLIB instances then look like the training distribution."""
    lo = coords.amin(dim=1, keepdim=True)
    span = (coords.amax(dim=1, keepdim=True) - lo).amax(dim=2, keepdim=True).clamp_min(1e-9)
    return (coords - lo) / span, span[:, 0, 0]


def lookup_optimum(path: str | Path, table: str, value_column: str) -> float | None:
    """The known optimum of an instance from a ``table`` (optima.csv / bks.csv) kept in the
    instance's folder or the one above it, as in the TSPLIB and CVRPLIB benchmark folders."""
    import csv

    path = Path(path)
    for folder in (path.parent, path.parent.parent):
        csv_path = folder / table
        if csv_path.is_file():
            with csv_path.open(newline="") as fh:
                for row in csv.DictReader(fh):
                    if row.get("name") == path.stem and row.get(value_column):
                        return float(row[value_column])
    return None


def token_position(ids: Any, node: Any) -> Any:
    """Token position (B,) of node id ``node`` (B,) among the remaining tokens (2..) of ``ids``
    (B, L): the action that goes to that node. ValueError if a node is not among them."""
    hit = ids[:, 2:] == node[:, None]
    if not bool(hit.any(1).all()):
        raise ValueError("node is not among the remaining ones")
    return hit.float().argmax(1) + 2


def remove_tokens(x: Any, keep: Any) -> Any:
    """Rows of ``x`` (B, L, ...) at the positions where ``keep`` (B, L) is True; every row
    must keep the same number of positions."""
    b = x.shape[0]
    return x[keep].reshape(b, -1, *x.shape[2:])


def move_to_slot(tensors: Sequence[Any], token: Any, slot: int) -> list[Any]:
    """Copy token ``token`` (B,) into position ``slot`` (the origin) and remove it, for each
    (B, m, ...) tensor: the one transition all path states share."""
    b, m = tensors[0].shape[:2]
    ar = torch.arange(b)
    keep = torch.ones(b, m, dtype=torch.bool)
    keep[ar, token] = False
    out = []
    for x in tensors:
        x = x.clone()
        x[ar, slot] = x[ar, token]
        out.append(remove_tokens(x, keep))
    return out


def nearest_tokens(coords: Any, origin_slot: int, first: int, k: int) -> Any:
    """Positions (B, first + k) of the fixed tokens plus the k remaining tokens nearest the
    origin, in increasing position so the restricted state keeps the canonical order."""
    b = coords.shape[0]
    d = (coords[:, first:] - coords[:, origin_slot : origin_slot + 1]).norm(dim=-1)
    near = d.topk(k, dim=1, largest=False).indices.sort(1).values + first
    fixed = torch.arange(first).expand(b, first)
    return torch.cat([fixed, near], 1)
