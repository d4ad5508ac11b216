"""The published benchmark settings of Alvo, Russo and Kanoria, loadable by name.

The YAML files in ``instances/inventory/settings`` are copied unchanged from
github.com/MatiasAlvo/Neural_inventory_control (MIT licence, see
``instances/inventory/LICENSE-Neural_inventory_control``). Parameters that the files give as
ranges (store means, costs, lead times) are drawn once per setting from NumPy generators seeded
with the file's seeds, so an instance is fixed by its file; they are not the authors' draws.
"""

from __future__ import annotations

import ast
import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import Tensor

from orlearn.errors import OrlearnError
from orlearn.inventory.demand import Demand, NormalDemand, PoissonDemand, RealDemand
from orlearn.inventory.observation import Observer
from orlearn.inventory.rollout import ScenarioSet, initial_state
from orlearn.inventory.simulator import SUPPLIER, Network, Simulator
from orlearn.shipped import shipped_path

INSTANCES = shipped_path("instances", "inventory")

#: setting name -> (file, whether the warehouse is a transshipment centre that holds no stock)
SETTINGS: dict[str, tuple[str, bool]] = {
    "one_store_lost": ("one_store_lost.yml", False),
    "one_store_backlogged": ("one_store_backlogged.yml", False),
    "one_warehouse_lost_demand": ("one_warehouse_lost_demand.yml", False),
    "serial_system": ("serial_system.yml", False),
    "transshipment_backlogged": ("transshipment_backlogged.yml", True),
    "favorita": ("many_warehouses_real_data_lost_demand.yml", False),
}
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class DatasetSpec:
    """Scenarios in a split, the minibatch size, simulated periods and warm-up periods."""

    n_samples: int
    batch_size: int
    periods: int
    warmup: int


@dataclass
class Setting:
    """A network, its demand, and the train / dev / test scenario sizes."""

    name: str
    network: Network
    demand: Demand
    datasets: dict[str, DatasetSpec]
    demand_seeds: dict[str, int]
    past_periods: int = 0
    overrides: dict[str, Any] = field(default_factory=dict)

    def simulator(self) -> Simulator:
        return Simulator(self.network)

    def observer(self) -> Observer:
        cv = None if isinstance(self.demand, RealDemand) else self.demand.std / self.demand.mean
        return Observer(self.network, past_periods=self.past_periods, store_cv=cv)

    def store_scale(self, demand: Tensor) -> Tensor:
        """Per-scenario demand scale of each store ``[N, S]`` (units per period): the model's
        mean, or for real data the mean of the observed history (at least 1 unit)."""
        if isinstance(self.demand, RealDemand):
            return demand[:, :, : self.demand.history].mean(-1).clamp(min=1.0)
        return self.demand.mean.float()[None].expand(demand.shape[0], -1)

    def scenarios(
        self, split: str, *, n_samples: int | None = None, periods: int | None = None,
        warmup: int | None = None, seed: int = 0, chunk: int = 0,
    ) -> ScenarioSet:
        """Sample the scenarios of ``split`` (sizes from the setting unless given); ``seed``
        shifts every demand stream, ``chunk`` numbers pieces of one large set."""
        if split not in SPLITS:
            raise OrlearnError(f"unknown split '{split}'; use one of {', '.join(SPLITS)}")
        spec = self.datasets[split]
        n = spec.n_samples if n_samples is None else n_samples
        t = spec.periods if periods is None else periods
        # Without an explicit warm-up, a shorter horizon keeps the file's share of warm-up periods.
        w = (spec.warmup * t) // spec.periods if warmup is None else warmup
        if n < 1 or t < 1 or not 0 <= w < t:
            raise OrlearnError(f"{split} scenarios need >= 1 samples and periods and 0 <= warm-up < periods (give a warm-up with the periods), got {n}, {t}, {w}")
        generator = torch.Generator().manual_seed(self.demand_seeds[split] + 1_000_003 * seed + 7919 * chunk)
        demand = self.demand.sample(n, t, generator, split)
        observer = self.observer()
        scale = observer.node_scale(self.store_scale(demand))
        on_hand, pipeline = initial_state(observer, scale, generator)
        return ScenarioSet(demand, on_hand, pipeline, scale, self.demand.history, w)


# -- parsing -----------------------------------------------------------------------------------
def _get(config: dict, *keys: str, default: Any = ...) -> Any:
    node: Any = config
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            if default is ...:
                raise OrlearnError(f"setting is missing '{'.'.join(keys)}'")
            return default
        node = node[key]
    return node


def _per_store(config: dict, key: str, n: int, seeds: dict, *, integer: bool = False) -> np.ndarray:
    """A store parameter: a 'value' for all stores, or drawn from a 'range' (upper end excluded
    for integers) once per store (or once for all stores)."""
    spec = _get(config, "store_params", key)
    if "value" in spec:
        value = np.asarray(spec["value"], dtype=float)
        return np.broadcast_to(value, (n,)).copy() if value.ndim == 0 else value
    low, high = _get(spec, "range")
    rng = np.random.default_rng(int(seeds.get(key, 0)))
    size = n if spec.get("sample_across_stores", True) else 1
    drawn = rng.integers(int(low), int(high), size) if integer else rng.uniform(float(low), float(high), size)
    return np.broadcast_to(drawn.astype(float), (n,)).copy()


def _as_list(value: Any, n: int, what: str) -> list[float]:
    values = [float(value)] * n if np.ndim(value) == 0 else [float(v) for v in value]
    if len(values) != n:
        raise OrlearnError(f"'{what}' has {len(values)} values for {n} locations")
    return values


def _demand(config: dict, n: int, seeds: dict, base: Path) -> tuple[Demand, int]:
    spec = _get(config, "store_params", "demand")
    past = int(_get(config, "observation_params", "demand", "past_periods", default=0))
    kind = spec.get("distribution")
    if kind == "real":
        path = base / "favorita_21_stores" / "weekly_sales.pt"
        if not path.is_file():
            raise OrlearnError(f"real sales data not found: {path}")
        sales = torch.load(path, map_location="cpu", weights_only=True).float()
        if sales.shape[1] != n:
            raise OrlearnError(f"real sales cover {sales.shape[1]} stores, the setting has {n}")
        splits = {s: tuple(ast.literal_eval(str(_get(config, "sample_data_params", f"{s}_periods")))) for s in SPLITS}
        return RealDemand(sales, splits, history=past), past
    rng = np.random.default_rng(int(seeds.get("mean", 0)))
    if "mean_range" in spec:
        mean = rng.uniform(*spec["mean_range"], n)
        cv = np.random.default_rng(int(seeds.get("coef_of_var", 0))).uniform(*spec["coef_of_var_range"], n)
        std = mean * cv
    else:
        mean = np.broadcast_to(np.asarray(_get(spec, "mean"), dtype=float), (n,)).copy()
        std = np.broadcast_to(np.asarray(spec.get("std", 0.0), dtype=float), (n,)).copy()
    if kind == "poisson":
        return PoissonDemand(torch.tensor(mean)), 0
    if kind == "normal":
        return NormalDemand(
            torch.tensor(mean), torch.tensor(std), float(spec.get("correlation", 0.0)), bool(spec.get("clip", True))
        ), 0
    raise OrlearnError(f"unknown demand distribution '{kind}' (poisson, normal or real)")


def from_config(name: str, config: dict, *, transshipment: bool = False, base: Path = INSTANCES) -> Setting:
    """Build a :class:`Setting` from a parsed settings file."""
    problem = _get(config, "problem_params")
    n = int(_get(problem, "n_stores"))
    n_wh = int(problem.get("n_warehouses", 0))
    n_ech = int(problem.get("n_extra_echelons", 0))
    if n < 1 or n_wh < 0 or n_ech < 0 or (n_ech and n_wh != 1):
        raise OrlearnError("need >= 1 stores, >= 0 warehouses, and exactly one warehouse under extra echelons")
    seeds = dict(_get(config, "seeds"))
    test_seeds = dict(_get(config, "test_seeds", default=seeds))
    demand, past = _demand(config, n, seeds, base)
    nodes = _Nodes()
    nodes.add_echelons(config, n_ech)
    warehouses = nodes.add_warehouses(config, n_wh, n_ech)
    stores = nodes.add_stores(config, problem, n, warehouses, seeds)
    network = nodes.network(problem, stores, warehouses, transshipment)
    datasets = _datasets(config, demand)
    demand_seed = int(seeds.get("demand", 0))
    seeds_by_split = {"train": demand_seed, "dev": demand_seed + 1, "test": int(test_seeds.get("demand", demand_seed + 2))}
    return Setting(name, network, demand, datasets, seeds_by_split, past)


class _Nodes:
    """Locations (echelons, warehouses, stores, in this order) and the edges that feed them."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.holding: list[float] = []
        self.underage: list[float] = []
        self.src: list[int] = []
        self.dst: list[int] = []
        self.lead: list[float] = []
        self.cost: list[float] = []

    def node(self, name: str, holding: float, underage: float = 0.0) -> int:
        self.names.append(name), self.holding.append(holding), self.underage.append(underage)
        return len(self.names) - 1

    def edge(self, u: int, v: int, lead_time: float, unit_cost: float = 0.0) -> None:
        if lead_time != int(lead_time):
            raise OrlearnError(f"lead times must be whole periods, got {lead_time}")
        self.src.append(u), self.dst.append(v), self.lead.append(lead_time), self.cost.append(unit_cost)

    def add_echelons(self, config: dict, n_ech: int) -> None:
        if not n_ech:
            return
        ech = _get(config, "echelon_params")
        ech_h = _as_list(_get(ech, "holding_cost"), n_ech, "echelon_params.holding_cost")
        ech_l = _as_list(_get(ech, "lead_time"), n_ech, "echelon_params.lead_time")
        for k in range(n_ech):  # upstream first
            self.node(f"echelon_{k}", ech_h[k])
            self.edge(SUPPLIER if k == 0 else k - 1, k, ech_l[k])

    def add_warehouses(self, config: dict, n_wh: int, n_ech: int) -> list[int]:
        warehouses = list(range(len(self.names), len(self.names) + n_wh))
        if not n_wh:
            return warehouses
        wh = _get(config, "warehouse_params")
        wh_h = _as_list(_get(wh, "holding_cost"), n_wh, "warehouse_params.holding_cost")
        wh_l = _as_list(_get(wh, "lead_time"), n_wh, "warehouse_params.lead_time")
        wh_c = _as_list(wh.get("edge_cost", 0.0), n_wh, "warehouse_params.edge_cost")
        for k, w in enumerate(warehouses):
            self.node(f"warehouse_{k}", wh_h[k])
            self.edge(w - 1 if n_ech else SUPPLIER, w, wh_l[k], wh_c[k])
        return warehouses

    def add_stores(self, config: dict, problem: dict, n: int, warehouses: list[int], seeds: dict) -> list[int]:
        n_wh = len(warehouses)
        stores = list(range(len(self.names), len(self.names) + n))
        store_h = _per_store(config, "holding_cost", n, seeds)
        store_p = _per_store(config, "underage_cost", n, seeds)
        matrix, adjacency = _store_lead_times(config, problem, n, n_wh, seeds)
        for k, s in enumerate(stores):
            self.node(f"store_{k}", float(store_h[k]), float(store_p[k]))
            if not n_wh:
                self.edge(SUPPLIER, s, matrix[k, 0])
            for j, w in enumerate(warehouses):
                if adjacency[j, k] > 0:
                    self.edge(w, s, matrix[k, j])
        return stores

    def network(self, problem: dict, stores: list[int], warehouses: list[int], transshipment: bool) -> Network:
        nodes = len(self.names)
        return Network(
            names=tuple(self.names),
            holding=torch.tensor(self.holding),
            underage=torch.tensor(self.underage),
            is_store=torch.tensor([i in stores for i in range(nodes)]),
            transship=torch.tensor([transshipment and i in warehouses for i in range(nodes)]),
            edge_src=torch.tensor(self.src, dtype=torch.long),
            edge_dst=torch.tensor(self.dst, dtype=torch.long),
            lead_time=torch.tensor(self.lead).long(),
            edge_cost=torch.tensor(self.cost),
            lost_sales=bool(problem.get("lost_demand", False)),
            maximize_profit=bool(problem.get("maximize_profit", False)),
        )


def _store_lead_times(config: dict, problem: dict, n: int, n_wh: int, seeds: dict) -> tuple[np.ndarray, np.ndarray]:
    """Lead times (stores x warehouses, one column without warehouses) and which warehouse
    serves which store (warehouses x stores)."""
    lead_spec = _get(config, "store_params", "lead_time")
    if "value" in lead_spec and np.ndim(lead_spec["value"]) == 2:
        matrix = np.asarray(lead_spec["value"], dtype=float)
        adjacency = np.asarray(problem.get("warehouse_store_adjacency", matrix.T > 0), dtype=float)
        if matrix.shape != (n, n_wh) or adjacency.shape != (n_wh, n):
            raise OrlearnError(f"lead-time matrix {matrix.shape} / adjacency {adjacency.shape} do not match {n} stores x {n_wh} warehouses")
        return matrix, adjacency
    store_l = _per_store(config, "lead_time", n, seeds, integer=True)
    if len(store_l) != n:
        raise OrlearnError(f"store lead times have {len(store_l)} values for {n} stores")
    return np.repeat(store_l[:, None], max(n_wh, 1), axis=1), np.ones((max(n_wh, 1), n))


def _datasets(config: dict, demand: Demand) -> dict[str, DatasetSpec]:
    datasets = {}
    for split in SPLITS:
        spec = _get(config, "params_by_dataset", split)
        datasets[split] = DatasetSpec(
            int(spec["n_samples"]), int(spec["batch_size"]), int(spec["periods"]), int(spec["ignore_periods"])
        )
    if isinstance(demand, RealDemand):
        for split in SPLITS:  # one scenario per product, the windows fixed by the file
            old = datasets[split]
            datasets[split] = DatasetSpec(demand.n_series, min(old.batch_size, demand.n_series), demand.periods(split), old.warmup)
    return datasets


def _set(config: dict, dotted: str, value: Any, where: str) -> None:
    """Replace the value at a dotted key that the file has; a key it lacks is a typo (applying
    it silently would run a different setting than the user believes)."""
    keys = dotted.split(".")
    node = config
    for depth, key in enumerate(keys):
        if not isinstance(node, dict) or key not in node:
            at = ".".join(keys[:depth]) or "the top level"
            known = ", ".join(map(str, node)) if isinstance(node, dict) else "none: not a mapping"
            raise OrlearnError(f"{where} has no key '{dotted}' to override (keys at {at}: {known})")
        if depth < len(keys) - 1:
            node = node[key]
    node[keys[-1]] = value


def _yaml_error(path: Path, exc: yaml.YAMLError) -> str:
    """One line for a YAML syntax error: what and where (PyYAML's own message spans lines)."""
    mark = getattr(exc, "problem_mark", None)
    what = getattr(exc, "problem", None) or type(exc).__name__
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"{path} is not valid YAML: {what}{at}"


def load_setting(name: str, overrides: dict[str, Any] | None = None) -> Setting:
    """Load a setting by name (see :data:`SETTINGS`) or from a YAML file path, then apply
    ``overrides`` given as dotted keys of the file, e.g. ``{"store_params.lead_time.value": 2}``."""
    if name in SETTINGS:
        filename, transshipment = SETTINGS[name]
        path = INSTANCES / "settings" / filename
    else:
        path, transshipment = Path(name), "transshipment" in Path(name).stem
        if path.suffix not in (".yml", ".yaml") or not path.is_file():
            raise OrlearnError(f"unknown inventory setting '{name}'; choose one of {', '.join(SETTINGS)} or give a .yml file")
    try:
        config = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise OrlearnError(f"cannot read setting file {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise OrlearnError(_yaml_error(path, exc)) from None
    if not isinstance(config, dict):
        raise OrlearnError(f"{path} is not an inventory setting (no mapping of sections)")
    config = copy.deepcopy(config)
    for key, value in (overrides or {}).items():
        _set(config, key, value, f"setting '{name}'")
    try:
        setting = from_config(name if name in SETTINGS else path.stem, config, transshipment=transshipment)
    except OrlearnError as exc:
        raise OrlearnError(f"setting '{name}': {exc}") from exc
    except (TypeError, ValueError, KeyError) as exc:
        raise OrlearnError(f"setting '{name}': malformed value ({exc})") from exc
    setting.overrides = dict(overrides or {})
    return setting


def parse_override(text: str) -> tuple[str, Any]:
    """``'store_params.lead_time.value=2'`` -> ``('store_params.lead_time.value', 2)``."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise OrlearnError(f"override '{text}' is not KEY=VALUE")
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError:
        raise OrlearnError(f"override '{text}': the value is not valid YAML") from None
    if isinstance(parsed, float) and not math.isfinite(parsed):
        raise OrlearnError(f"override '{text}' is not finite")
    return key.strip(), parsed

