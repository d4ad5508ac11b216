"""Demand models: Poisson, (correlated multivariate) Normal, and real sales histories.

Each model samples a tensor ``[scenarios, stores, history + periods]`` of demands in units; the
first ``history`` periods are only observed (past sales a policy may look at), never simulated.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from orlearn.errors import OrlearnError


def _check_vector(name: str, values: Tensor, n: int, *, positive: bool = False) -> None:
    if tuple(values.shape) != (n,):
        raise OrlearnError(f"demand: '{name}' has {tuple(values.shape)} values, expected one per store ({n})")
    if not torch.isfinite(values).all() or (values < 0).any() or (positive and (values <= 0).any()):
        raise OrlearnError(f"demand: '{name}' must be finite and {'>' if positive else '>='} 0, got {values.tolist()}")


@dataclass(frozen=True)
class PoissonDemand:
    """Independent Poisson demand with ``mean[S]`` units per period."""

    mean: Tensor
    history: int = 0

    def __post_init__(self) -> None:
        _check_vector("mean", self.mean, len(self.mean), positive=True)

    @property
    def n_stores(self) -> int:
        return len(self.mean)

    @property
    def std(self) -> Tensor:
        return self.mean.sqrt()

    def sample(self, n: int, periods: int, generator: torch.Generator, split: str = "train") -> Tensor:
        rate = self.mean.float()[None, :, None].expand(n, self.n_stores, self.history + periods).contiguous()
        return torch.poisson(rate, generator=generator)


@dataclass(frozen=True)
class NormalDemand:
    """Normal demand ``mean[S]``, ``std[S]`` with one ``correlation`` between every pair of stores,
    independent over time; clipped at zero when ``clip`` (lost sales cannot take returns)."""

    mean: Tensor
    std: Tensor
    correlation: float = 0.0
    clip: bool = True
    history: int = 0

    def __post_init__(self) -> None:
        s = len(self.mean)
        _check_vector("mean", self.mean, s, positive=True)
        _check_vector("std", self.std, s)
        if s > 1 and not -1.0 / (s - 1) < self.correlation < 1.0:
            raise OrlearnError(f"demand: correlation {self.correlation} does not give a valid covariance for {s} stores")

    @property
    def n_stores(self) -> int:
        return len(self.mean)

    def covariance(self) -> Tensor:
        s = self.n_stores
        corr = torch.full((s, s), float(self.correlation), dtype=torch.float64)
        corr.fill_diagonal_(1.0)
        std = self.std.to(torch.float64)
        return std[:, None] * corr * std[None, :]

    def sample(self, n: int, periods: int, generator: torch.Generator, split: str = "train") -> Tensor:
        t = self.history + periods
        z = torch.randn(n, t, self.n_stores, generator=generator, dtype=torch.float64)
        chol = torch.linalg.cholesky(self.covariance() + 1e-12 * torch.eye(self.n_stores, dtype=torch.float64))
        d = (z @ chol.T + self.mean.to(torch.float64)).transpose(1, 2).to(torch.float32)
        return d.clamp(min=0.0) if self.clip else d


@dataclass(frozen=True)
class RealDemand:
    """Real sales ``sales[series, stores, weeks]``; every series (a product) is one scenario.

    ``splits`` maps train / dev / test to a window of weeks ``(first, end)``; the first
    ``history`` weeks of a window are only observed. Returns (negative sales) are clipped at zero.
    """

    sales: Tensor
    splits: dict[str, tuple[int, int]]
    history: int = 16

    def __post_init__(self) -> None:
        if self.sales.dim() != 3:
            raise OrlearnError(f"demand: real sales must be [series, stores, weeks], got {tuple(self.sales.shape)}")
        if not torch.isfinite(self.sales).all():
            raise OrlearnError("demand: the real sales data contain NaN or infinite values")
        for split, (a, b) in self.splits.items():
            if not 0 <= a < b <= self.sales.shape[2] or b - a <= self.history:
                raise OrlearnError(f"demand: window {(a, b)} of split '{split}' does not fit {self.sales.shape[2]} weeks with {self.history} weeks of history")

    @property
    def n_stores(self) -> int:
        return self.sales.shape[1]

    @property
    def n_series(self) -> int:
        return self.sales.shape[0]

    def periods(self, split: str) -> int:
        a, b = self.splits[split]
        return b - a - self.history

    def sample(self, n: int, periods: int, generator: torch.Generator, split: str = "train") -> Tensor:
        if split not in self.splits:
            raise OrlearnError(f"demand: no window of weeks for split '{split}'")
        a, b = self.splits[split]
        if periods > b - a - self.history:
            raise OrlearnError(f"demand: split '{split}' has {b - a - self.history} weeks to simulate, {periods} asked")
        rows = torch.arange(n) % self.n_series  # every series once, in order, then again
        return self.sales[rows, :, a : a + self.history + periods].clamp(min=0.0)


Demand = PoissonDemand | NormalDemand | RealDemand
