"""Named MILP instance distributions ``DOMAIN/SIZE`` with disjoint train / valid / test seeds.

Each :class:`Distribution` fixes a generator module and its parameters. ``sample(seed)`` draws a
fresh ``pyscipopt.Model`` from ``numpy.random.Generator(PCG64(SeedSequence([seed, crc32(name)])))``
so the same name and seed always give the same model, and two distributions never share a stream.

Seeds of a split: ``seed_for(split, i) = SPLIT_SEED_BASE[split] + i`` with ``0 <= i < SPLIT_SIZE``:
train seeds are [0, 10^9), valid seeds [10^9, 2*10^9), test seeds [2*10^9, 3*10^9). The ranges do
not overlap, so no test instance can ever be generated as a training instance.
"""

from __future__ import annotations

import importlib
import zlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from orlearn.errors import OrlearnError

if TYPE_CHECKING:
    import pyscipopt

SPLITS = ("train", "valid", "test")
SPLIT_SIZE = 1_000_000_000
SPLIT_SEED_BASE = {"train": 0, "valid": SPLIT_SIZE, "test": 2 * SPLIT_SIZE}


@dataclass(frozen=True)
class Distribution:
    """One instance distribution: a generator module (under ``orlearn.milp.generators``) and its
    parameters."""

    name: str
    generator: str
    params: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    @property
    def domain(self) -> str:
        return self.name.split("/")[0]

    @property
    def size(self) -> str:
        return self.name.split("/")[1]

    def _module(self) -> Any:
        return importlib.import_module(f"orlearn.milp.generators.{self.generator}")

    @property
    def version(self) -> str:
        """Generator version string, recorded in manifests (bumped when outputs change)."""
        return str(self._module().VERSION)

    def rng(self, seed: int) -> np.random.Generator:
        """The random stream of instance ``seed`` (independent of every other distribution)."""
        if not isinstance(seed, (int, np.integer)) or seed < 0:
            raise OrlearnError(f"seed must be a non-negative integer, got {seed!r}")
        entropy = [int(seed), zlib.crc32(self.name.encode())]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))

    def sample(self, seed: int) -> pyscipopt.Model:
        """A fresh model for ``seed``, deterministic in (name, params, seed)."""
        problem = f"{self.name.replace('/', '_')}_s{seed}"
        return self._module().build(self.rng(seed), name=problem, **self.params)

    def seed_for(self, split: str, index: int) -> int:
        """Seed of the ``index``-th instance of ``split`` ("train", "valid" or "test")."""
        if split not in SPLIT_SEED_BASE:
            raise OrlearnError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        if not 0 <= index < SPLIT_SIZE:
            raise OrlearnError(f"instance index must be in [0, {SPLIT_SIZE}), got {index}")
        return SPLIT_SEED_BASE[split] + index

    def with_params(self, **params: Any) -> Distribution:
        """A copy with some parameters replaced (e.g. tiny sizes for tests); the name gets a
        ``+custom`` suffix so its files never collide with the registered distribution's."""
        unknown = set(params) - set(self.params)
        if unknown:
            raise OrlearnError(f"{self.name} has no parameter(s) {', '.join(sorted(unknown))}")
        return replace(self, name=f"{self.name}+custom", params={**self.params, **params})


def split_of_seed(seed: int) -> str:
    """The split a seed belongs to."""
    for split, base in SPLIT_SEED_BASE.items():
        if base <= seed < base + SPLIT_SIZE:
            return split
    raise OrlearnError(f"seed {seed} lies outside every split")


def _d(name: str, generator: str, description: str, **params: Any) -> Distribution:
    return Distribution(name=name, generator=generator, params=params, description=description)


_SIZES = ("small", "medium", "large")
_RL2BRANCH_SRC = "the training distribution of rl2branch's published policies (Scavuzzo et al. 2022)"
#: The five classes of lascavana/rl2branch (01_generate_instances.py), named DOMAIN/rl2branch.
_RL2BRANCH = [
    _d(
        "setcover/rl2branch", "setcover",
        f"set cover, 400 rows x 750 columns, density 0.05: {_RL2BRANCH_SRC}",
        n_rows=400, n_cols=750, density=0.05, max_cost=100,
    ),
    _d(
        "cauctions/rl2branch", "cauctions",
        f"combinatorial auction, 100 items / 500 bids (as cauctions/small): {_RL2BRANCH_SRC}",
        n_items=100, n_bids=500, add_item_prob=0.7,
    ),
    _d(
        "indset/rl2branch", "indset",
        f"max independent set, Barabasi-Albert 500 nodes, affinity 4 (as indset/small): {_RL2BRANCH_SRC}",
        n_nodes=500, graph="barabasi_albert", affinity=4, edge_prob=0.0,
    ),
    _d(
        "mknapsack/rl2branch", "mknapsack",
        f"multiple knapsack, 100 items, 6 knapsacks, weights 10..19, profits = weights (subset sum): "
        f"{_RL2BRANCH_SRC}",
        n_items=100, n_knapsacks=6, min_weight=10, max_weight=19, scheme="subset_sum",
    ),
    _d(
        "ufacilities/rl2branch", "facility",
        f"capacitated facility location with unsplittable (binary) supply, 35 customers / "
        f"35 facilities, capacity ratio 5: {_RL2BRANCH_SRC}",
        n_customers=35, n_facilities=35, ratio=5.0, assignment="binary",
    ),
]  # fmt: skip


def _transfer(name: str, what: str, **params: Any) -> Distribution:
    """rl2branch's larger "transfer" instances of the class ``name``: its training distribution
    with ``params`` changed (Scavuzzo et al. 2022, the transfer set of their evaluation)."""
    base = next(d for d in _RL2BRANCH if d.name == name)
    return replace(
        base, name=f"{name}-transfer", params={**base.params, **params},
        description=f"{what}: the transfer set of rl2branch's evaluation (Scavuzzo et al. 2022)",
    )  # fmt: skip


#: The same five classes at rl2branch's transfer sizes, named DOMAIN/rl2branch-transfer.
_RL2BRANCH_TRANSFER = [
    _transfer("setcover/rl2branch", "set cover, 500 rows x 1000 columns (as setcover/small)",
              n_rows=500, n_cols=1000),
    _transfer("cauctions/rl2branch", "combinatorial auction, 200 items / 1000 bids (as cauctions/medium)",
              n_items=200, n_bids=1000),
    _transfer("indset/rl2branch", "max independent set, Barabasi-Albert 1000 nodes (as indset/medium)",
              n_nodes=1000),
    _transfer("mknapsack/rl2branch", "multiple knapsack, 100 items, 12 knapsacks, subset sum",
              n_knapsacks=12),
    _transfer("ufacilities/rl2branch", "facility location with unsplittable supply, 60 customers / 35 facilities",
              n_customers=60),
]  # fmt: skip
_DISTRIBUTIONS: list[Distribution] = [
    *(
        _d(
            f"setcover/{s}",
            "setcover",
            f"set cover, {r} rows x 1000 columns, density 0.05",
            n_rows=r,
            n_cols=1000,
            density=0.05,
            max_cost=100,
        )
        for s, r in zip(_SIZES, (500, 1000, 2000))
    ),
    *(
        _d(
            f"cauctions/{s}",
            "cauctions",
            f"combinatorial auction, {i} items / {b} bids",
            n_items=i,
            n_bids=b,
            add_item_prob=0.7,
        )
        for s, i, b in zip(_SIZES, (100, 200, 300), (500, 1000, 1500))
    ),
    *(
        _d(
            f"facility/{s}",
            "facility",
            f"capacitated facility location, {c} customers / 100 facilities, capacity ratio 5",
            n_customers=c,
            n_facilities=100,
            ratio=5.0,
        )
        for s, c in zip(_SIZES, (100, 200, 400))
    ),
    *(
        _d(
            f"indset/{s}",
            "indset",
            f"max independent set, Barabasi-Albert {n} nodes, affinity 4",
            n_nodes=n,
            graph="barabasi_albert",
            affinity=4,
            edge_prob=0.0,
        )
        for s, n in zip(_SIZES, (500, 1000, 1500))
    ),
    *(
        _d(
            f"indset-er/{s}",
            "indset",
            f"max independent set, Erdos-Renyi {n} nodes, p = {p}",
            n_nodes=n,
            graph="erdos_renyi",
            affinity=0,
            edge_prob=p,
        )
        for s, n, p in zip(_SIZES, (150, 200, 250), (0.05, 0.0375, 0.03))
    ),
    *(
        _d(
            f"vertexcover/{s}",
            "vertexcover",
            f"min vertex cover, Barabasi-Albert {n} nodes, affinity 4, unit weights",
            n_nodes=n,
            affinity=4,
            max_weight=1,
        )
        for s, n in zip(_SIZES, (500, 1000, 1500))
    ),
    *(
        _d(
            f"gisp/{s}",
            "gisp",
            f"generalized independent set, Erdos-Renyi {n} nodes, p = {p}",
            n_nodes=n,
            edge_prob=p,
            removable_frac=0.75,
            revenue=100,
            max_cost=1,
        )
        for s, n, p in zip(_SIZES, (60, 75, 90), (0.5, 0.5, 0.5))
    ),
    _d(
        "mknapsack/small",
        "mknapsack",
        "multiple knapsack, 100 items, 6 knapsacks",
        n_items=100,
        n_knapsacks=6,
        min_weight=10,
        max_weight=20,
        scheme="weakly_correlated",
    ),
    *_RL2BRANCH,
    *_RL2BRANCH_TRANSFER,
    _d(
        "mknapsack/medium",
        "mknapsack",
        "multiple knapsack, 100 items, 12 knapsacks",
        n_items=100,
        n_knapsacks=12,
        min_weight=10,
        max_weight=20,
        scheme="weakly_correlated",
    ),
]
_REGISTRY = {d.name: d for d in _DISTRIBUTIONS}


def list_distributions() -> list[str]:
    """Names of all registered distributions, sorted."""
    return sorted(_REGISTRY)


def get_distribution(name: str) -> Distribution:
    """The distribution called ``name`` (e.g. "setcover/small")."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise OrlearnError(
            f"unknown distribution {name!r}; known: {', '.join(list_distributions())}"
        ) from None
