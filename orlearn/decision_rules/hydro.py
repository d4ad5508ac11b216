"""Hydrothermal dispatch as a :class:`~orlearn.decision_rules.stage.MultistageProblem`.

The formulation follows HydroPowerModels.jl (the TS-DDR paper's case study), DC power flow or a
single bus:

* reservoir balance, volumes in hm3, flows in m3/s over ``stage_hours`` hours
  (1 m3/s for one hour = 0.0036 hm3)::

      v_out = v_in + 0.0036 h (inflow - turbined + turbined of upstream plants)
              - spilled + spilled of upstream plants

* hydro generation ``pg * baseMVA = production_factor * turbined`` (MW);
* thermal generators with linear costs (``cost = [c1, c0]`` per p.u., PowerModels' per-unit data);
* load shedding (deficit, p.u., at most the bus load) at ``cost_deficit * baseMVA``;
* DC power flow: ``p_ij = x/(r^2 + x^2) (va_i - va_j)``, ``|p_ij| <= rate_a``, angle-difference
  limits, reference bus angle 0; or one bus (``network="single"``).

Stage costs are per hour of the stage, as in HydroPowerModels.jl.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyomo.environ as pyo

from orlearn.decision_rules.stage import MultistageProblem, StageSpec, StagewiseDiscrete
from orlearn.errors import OrlearnError
from orlearn.shipped import shipped_path

HM3_PER_M3S_HOUR = 0.0036
_DENORMAL = 1e-300  # some case files hold garbage like 9.2e-316 where 0 is meant


def _num(value: object, what: str) -> float:
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise OrlearnError(f"{what} must be a number, got {value!r}") from exc
    if not np.isfinite(x):
        raise OrlearnError(f"{what} must be finite, got {x}")
    return 0.0 if abs(x) < _DENORMAL else x


@dataclass
class Generator:
    bus: int
    pmin: float  # p.u.
    pmax: float  # p.u.
    cost: float  # per p.u. and hour


@dataclass
class Branch:
    from_bus: int
    to_bus: int
    susceptance: float  # x / (r^2 + x^2), p.u.
    rate: float  # p.u.
    angle_min: float  # rad
    angle_max: float  # rad


@dataclass
class HydroPlant:
    name: str
    generator: int  # position in HydroCase.generators
    min_volume: float  # hm3
    max_volume: float  # hm3
    initial_volume: float  # hm3
    min_turn: float  # m3/s
    max_turn: float  # m3/s
    production_factor: float  # MW per m3/s
    spill_cost: float  # per hm3
    downstream_turn: list[int]  # positions in HydroCase.plants
    downstream_spill: list[int]


@dataclass
class HydroCase:
    """A hydrothermal case: grid, hydro plants and per-stage inflow scenarios."""

    name: str
    base_mva: float
    cost_deficit: float  # per MW and hour
    buses: list[int]  # bus ids; position = index used below
    reference_bus: int  # position
    generators: list[Generator]
    branches: list[Branch]
    load: np.ndarray  # (n_bus,) p.u.
    plants: list[HydroPlant]
    stage_hours: float
    inflows: np.ndarray  # (T0, K, n_hydro) m3/s, one row per stage of the file's cycle
    probabilities: np.ndarray  # (T0, K)

    @property
    def n_hydro(self) -> int:
        return len(self.plants)

    def uncertainty(self, n_stages: int) -> StagewiseDiscrete:
        """Stagewise-independent inflows over ``n_stages`` stages (the file's cycle tiled)."""
        T0 = len(self.inflows)
        return StagewiseDiscrete(
            [self.inflows[t % T0] for t in range(n_stages)],
            [self.probabilities[t % T0] for t in range(n_stages)],
        )

    def water_value_bound(self) -> float:
        """An upper bound on the value of 1 hm3 of stored water (cost per hm3): the energy it
        makes in its own plant and every plant downstream, priced at the dearest of load shedding
        and thermal generation. A slack penalty above it makes targets strict."""
        price = max([self.cost_deficit] + [g.cost / self.base_mva for g in self.generators])
        worst = 0.0
        for i in range(self.n_hydro):
            factors, seen, stack = 0.0, set(), [i]
            while stack:
                j = stack.pop()
                if j not in seen:
                    seen.add(j)
                    factors += self.plants[j].production_factor
                    stack.extend(self.plants[j].downstream_turn + self.plants[j].downstream_spill)
            worst = max(worst, factors / (HM3_PER_M3S_HOUR * self.stage_hours))
        return price * worst


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise OrlearnError(f"case file not found: {path}")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise OrlearnError(f"{path} is not valid JSON ({exc.msg}, line {exc.lineno})") from exc


def _read_numeric_csv(path: Path) -> np.ndarray:
    """A comma-separated table of finite numbers with rows of equal length, as a 2-D array."""
    try:
        table = np.loadtxt(path, delimiter=",", ndmin=2)
    except ValueError as exc:  # text cells, ragged rows
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise OrlearnError(f"{path} is not a numeric CSV ({detail})") from None
    if table.size == 0 or not np.all(np.isfinite(table)):
        raise OrlearnError(f"{path} is empty or holds non-finite numbers")
    return table


def _field(d: dict, key: str, where: str) -> object:
    if key not in d:
        raise OrlearnError(f"{where} has no field '{key}'")
    return d[key]


def load_case(path: str | Path) -> HydroCase:
    """Read a case folder holding PowerModels.json, hydro.json, inflows.csv and optionally
    scenarioprobability.csv (default: equally likely scenarios).

    inflows.csv has one row per stage and n_hydro x K columns, hydro-major (the first K columns
    are plant 1's scenarios).
    """
    folder = Path(path)
    if not folder.is_dir():
        raise OrlearnError(f"case folder not found: {folder}")
    pm = _read_json(folder / "PowerModels.json")
    hy = _read_json(folder / "hydro.json")
    where = f"{folder / 'PowerModels.json'}"
    base = _num(_field(pm, "baseMVA", where), "baseMVA")
    deficit = _num(_field(pm, "cost_deficit", where), "cost_deficit")
    grid = _Grid.read(pm, where)
    generators, gen_pos = _generators(pm, grid)
    branches, load = _branches(pm, grid), _loads(pm, grid)
    plants = _plants(hy, f"{folder / 'hydro.json'}", where, gen_pos)
    stage_hours = _num(_field(hy, "stage_hours", f"{folder / 'hydro.json'}"), "stage_hours")
    inflows, probs = _inflows(folder, len(plants))
    return HydroCase(
        name=str(pm.get("name", folder.name)),
        base_mva=base,
        cost_deficit=deficit,
        buses=grid.bus_ids,
        reference_bus=grid.reference,
        generators=generators,
        branches=branches,
        load=load,
        plants=plants,
        stage_hours=stage_hours,
        inflows=inflows,
        probabilities=probs,
    )


@dataclass
class _Grid:
    """The buses of a PowerModels file: ids in index order, their positions, the reference."""

    where: str
    bus_ids: list[int]
    pos: dict[int, int]
    reference: int

    @classmethod
    def read(cls, pm: dict, where: str) -> _Grid:
        bus_rows = sorted(
            _field(pm, "bus", where).values(), key=lambda b: int(_field(b, "index", "bus"))
        )
        if not bus_rows:
            raise OrlearnError(f"{where} has no buses")
        bus_ids = [int(_field(b, "bus_i", "bus")) for b in bus_rows]
        pos = {b: k for k, b in enumerate(bus_ids)}
        refs = [pos[int(b["bus_i"])] for b in bus_rows if int(b.get("bus_type", 1)) == 3]
        return cls(where, bus_ids, pos, refs[0] if refs else 0)

    def bus_of(self, value: object, what: str) -> int:
        """The position of the bus id ``value`` named by ``what``."""
        b = int(_num(value, what))
        if b not in self.pos:
            raise OrlearnError(f"{what} names bus {b}, which {self.where} does not have")
        return self.pos[b]


def _generators(pm: dict, grid: _Grid) -> tuple[list[Generator], dict[int, int]]:
    """The generators in service and each one's position by its file index."""
    gen_keys = sorted(_field(pm, "gen", grid.where), key=lambda k: int(pm["gen"][k].get("index", k)))
    gen_pos: dict[int, int] = {}
    generators = []
    for k in gen_keys:
        g = pm["gen"][k]
        w = f"generator {k}"
        if int(g.get("gen_status", 1)) == 0:
            continue
        cost = [_num(c, f"{w} cost") for c in g.get("cost", [])]
        if len(cost) > 2 and any(c != 0 for c in cost[:-2]):
            raise OrlearnError(f"{w} has a nonlinear cost {cost}: only linear costs are supported")
        gen_pos[int(g.get("index", k))] = len(generators)
        generators.append(
            Generator(
                bus=grid.bus_of(_field(g, "gen_bus", w), w),
                pmin=_num(_field(g, "pmin", w), f"{w} pmin"),
                pmax=_num(_field(g, "pmax", w), f"{w} pmax"),
                cost=cost[-2] if len(cost) >= 2 else 0.0,
            )
        )
    return generators, gen_pos


def _branches(pm: dict, grid: _Grid) -> list[Branch]:
    branches = []
    for k, br in sorted(
        pm.get("branch", {}).items(), key=lambda kv: int(kv[1].get("index", kv[0]))
    ):
        w = f"branch {k}"
        if int(br.get("br_status", 1)) == 0:
            continue
        r = _num(br.get("br_r", 0.0), f"{w} br_r")
        x = _num(_field(br, "br_x", w), f"{w} br_x")
        if r == 0 and x == 0:
            raise OrlearnError(f"{w} has zero impedance")
        rate = _num(br.get("rate_a", 0.0), f"{w} rate_a")
        branches.append(
            Branch(
                from_bus=grid.bus_of(_field(br, "f_bus", w), w),
                to_bus=grid.bus_of(_field(br, "t_bus", w), w),
                susceptance=x / (r * r + x * x),
                rate=rate if rate > 0 else float("inf"),
                angle_min=_num(br.get("angmin", -np.pi / 2), f"{w} angmin"),
                angle_max=_num(br.get("angmax", np.pi / 2), f"{w} angmax"),
            )
        )
    return branches


def _loads(pm: dict, grid: _Grid) -> np.ndarray:
    """Active load per bus (p.u.) of the loads in service."""
    load = np.zeros(len(grid.bus_ids))
    for k, ld in pm.get("load", {}).items():
        if int(ld.get("status", 1)) == 0:
            continue
        load[grid.bus_of(_field(ld, "load_bus", f"load {k}"), f"load {k}")] += _num(
            _field(ld, "pd", f"load {k}"), f"load {k} pd"
        )
    return load


def _plants(hy: dict, hwhere: str, where: str, gen_pos: dict[int, int]) -> list[HydroPlant]:
    rows = _field(hy, "Hydrogenerators", hwhere)
    if not isinstance(rows, list) or not rows:
        raise OrlearnError(f"{hwhere} lists no hydro plants")
    plant_pos = {int(_field(h, "index", hwhere)): k for k, h in enumerate(rows)}
    return [_plant(h, hwhere, where, gen_pos, plant_pos) for h in rows]


def _plant(
    h: dict, hwhere: str, where: str, gen_pos: dict[int, int], plant_pos: dict[int, int]
) -> HydroPlant:
    w = f"hydro plant {h['index']}"
    g = int(_num(_field(h, "index_grid", w), f"{w} index_grid"))
    if g not in gen_pos:
        raise OrlearnError(f"{w} names generator {g}, which {where} does not have (index_grid)")

    def downstream(key: str) -> list[int]:
        out = []
        for j in h.get(key, []):
            if int(j) not in plant_pos:
                raise OrlearnError(f"{w} {key} names plant {j}, which {hwhere} does not have")
            out.append(plant_pos[int(j)])
        return out

    lo = _num(_field(h, "min_volume", w), f"{w} min_volume")
    hi = _num(_field(h, "max_volume", w), f"{w} max_volume")
    if hi < lo:
        raise OrlearnError(f"{w} has max_volume {hi} < min_volume {lo}")
    return HydroPlant(
        name=str(h.get("name", h["index"])).strip(),
        generator=gen_pos[g],
        min_volume=lo,
        max_volume=hi,
        initial_volume=min(max(_num(h.get("initial_volume", lo), f"{w} initial_volume"), lo), hi),
        min_turn=_num(h.get("min_turn", 0.0), f"{w} min_turn"),
        max_turn=_num(_field(h, "max_turn", w), f"{w} max_turn"),
        production_factor=_num(_field(h, "production_factor", w), f"{w} production_factor"),
        spill_cost=_num(h.get("spill_cost", 0.0), f"{w} spill_cost"),
        downstream_turn=downstream("downstream_turn"),
        downstream_spill=downstream("downstream_spill"),
    )


def _inflows(folder: Path, n_h: int) -> tuple[np.ndarray, np.ndarray]:
    """Inflow scenarios (T0, K, n_hydro) and their probabilities (T0, K)."""
    inflow_path = folder / "inflows.csv"
    if not inflow_path.is_file():
        raise OrlearnError(f"case file not found: {inflow_path}")
    raw = _read_numeric_csv(inflow_path)
    if raw.shape[1] % n_h:
        raise OrlearnError(
            f"{inflow_path} has {raw.shape[1]} columns, not a multiple of {n_h} plants"
        )
    K = raw.shape[1] // n_h
    inflows = raw.reshape(len(raw), n_h, K).transpose(0, 2, 1).copy()
    if np.any(inflows < 0) or not np.all(np.isfinite(inflows)):
        raise OrlearnError(f"{inflow_path} holds negative or non-finite inflows")
    prob_path = folder / "scenarioprobability.csv"
    if not prob_path.is_file():
        return inflows, np.full((len(inflows), K), 1.0 / K)
    probs = _read_numeric_csv(prob_path)
    if probs.shape[1] != K:
        raise OrlearnError(
            f"{prob_path} has {probs.shape[1]} columns, {inflow_path} has {K} scenarios"
        )
    if np.any(probs < 0) or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise OrlearnError(
            f"{prob_path}: every row must hold non-negative probabilities summing to 1"
        )
    return inflows, probs[np.arange(len(inflows)) % len(probs)]


def _flow_bounds(line: Branch) -> tuple[float | None, float | None]:
    return (-line.rate, line.rate) if np.isfinite(line.rate) else (None, None)


def hydro_problem(
    case: HydroCase, n_stages: int | None = None, *, network: str = "dc"
) -> MultistageProblem:
    """The multistage problem of ``case`` over ``n_stages`` stages (default: the inflow file's).

    State: the reservoir volumes (hm3); uncertainty: the inflows (m3/s).
    """
    if network not in ("dc", "single"):
        raise OrlearnError(f"network must be 'dc' or 'single', got {network!r}")
    T = len(case.inflows) if n_stages is None else int(n_stages)
    if T < 1:
        raise OrlearnError("the horizon needs at least one stage")
    H = case.n_hydro

    def build(b: pyo.Block, t: int) -> StageSpec:
        load_buses = _stage_variables(b, case)
        _water_balance(b, case)
        _power_balance(b, case, network, load_buses)
        P, gen = case.plants, case.generators
        cost = (
            sum(gen[g].cost * b.pg[g] for g in range(len(gen)) if gen[g].cost)
            + case.cost_deficit * case.base_mva * sum(b.deficit[j] for j in load_buses)
            + sum(P[i].spill_cost * b.spill[i] for i in range(H) if P[i].spill_cost)
        )
        return StageSpec(
            state_in=[b.vol_in[i] for i in range(H)],
            state_out=[b.vol[i] for i in range(H)],
            uncertainty=[b.inflow[i] for i in range(H)],
            cost=cost,
        )

    return MultistageProblem(
        build_stage=build,
        initial_state=np.array([p.initial_volume for p in case.plants]),
        uncertainty=case.uncertainty(T),
        name=case.name,
        state_names=[p.name for p in case.plants],
    )


def _stage_variables(b: pyo.Block, case: HydroCase) -> list[int]:
    """Volumes, flows, inflows, generator outputs and load shedding (declared in this order,
    which fixes the LP's column order); returns the buses with load."""
    H, P, gen = case.n_hydro, case.plants, case.generators
    load_buses = [j for j in range(len(case.buses)) if case.load[j] > 0]
    b.vol_in = pyo.Var(range(H))
    b.vol = pyo.Var(range(H), bounds=lambda b, i: (P[i].min_volume, P[i].max_volume))
    b.turn = pyo.Var(range(H), bounds=lambda b, i: (P[i].min_turn, P[i].max_turn))
    b.spill = pyo.Var(range(H), bounds=(0, None))
    b.inflow = pyo.Param(range(H), mutable=True, initialize=0.0)
    b.pg = pyo.Var(range(len(gen)), bounds=lambda b, g: (gen[g].pmin, gen[g].pmax))
    b.deficit = pyo.Var(load_buses, bounds=lambda b, j: (0, case.load[j]))
    return load_buses


def _water_balance(b: pyo.Block, case: HydroCase) -> None:
    """Reservoir balance of every plant and its hydro generation."""
    H, P = case.n_hydro, case.plants
    k = HM3_PER_M3S_HOUR * case.stage_hours
    upstream_turn = [[j for j in range(H) if i in P[j].downstream_turn] for i in range(H)]
    upstream_spill = [[j for j in range(H) if i in P[j].downstream_spill] for i in range(H)]
    b.balance = pyo.Constraint(
        range(H),
        rule=lambda b, i: (
            b.vol[i]
            == b.vol_in[i]
            + k * (b.inflow[i] - b.turn[i] + sum(b.turn[j] for j in upstream_turn[i]))
            - b.spill[i]
            + sum(b.spill[j] for j in upstream_spill[i])
        ),
    )
    b.generation = pyo.Constraint(
        range(H),
        rule=lambda b, i: (
            b.pg[P[i].generator] * case.base_mva == P[i].production_factor * b.turn[i]
        ),
    )


def _power_balance(b: pyo.Block, case: HydroCase, network: str, load_buses: list[int]) -> None:
    """Supply meets load on one bus, or at every bus through DC power flow."""
    B, gen = len(case.buses), case.generators
    injection = {j: 0 for j in range(B)}
    for g in range(len(gen)):
        injection[gen[g].bus] += b.pg[g]
    for j in load_buses:
        injection[j] += b.deficit[j]
    if network == "single":
        b.power_balance = pyo.Constraint(expr=sum(injection.values()) == float(case.load.sum()))
        return
    br = case.branches
    b.va = pyo.Var(range(B))
    b.va[case.reference_bus].fix(0.0)
    b.flow = pyo.Var(range(len(br)), bounds=lambda b, e: _flow_bounds(br[e]))
    b.ohm = pyo.Constraint(
        range(len(br)),
        rule=lambda b, e: (
            b.flow[e] == br[e].susceptance * (b.va[br[e].from_bus] - b.va[br[e].to_bus])
        ),
    )
    b.angle = pyo.Constraint(
        range(len(br)),
        rule=lambda b, e: (
            br[e].angle_min,
            b.va[br[e].from_bus] - b.va[br[e].to_bus],
            br[e].angle_max,
        ),
    )
    for e, line in enumerate(br):
        injection[line.from_bus] -= b.flow[e]
        injection[line.to_bus] += b.flow[e]
    b.power_balance = pyo.Constraint(
        range(B), rule=lambda b, j: injection[j] == float(case.load[j])
    )


def case_path(name: str | Path) -> Path:
    """A case folder: an existing path, or the name of a shipped case in instances/hydro/."""
    path = Path(name)
    if path.is_dir():
        return path
    shipped = shipped_path("instances", "hydro", str(name))
    if shipped.is_dir():
        return shipped
    raise OrlearnError(f"no case folder {name!r} (shipped cases: case3, bolivia)")


@dataclass
class LogNormalAR1:
    """Log-normal AR(1) inflows: log(w_t + c) = mu_t + sigma_t e_t, e_t = phi e_{t-1} +
    sqrt(1 - phi^2) eta_t, per plant.

    :meth:`fit` reads a case's per-stage scenarios as historical years (column k of every
    stage = year k) to estimate mu_t, sigma_t and the lag-one correlation phi.
    """

    mu: np.ndarray  # (T0, H)
    sigma: np.ndarray  # (T0, H)
    phi: np.ndarray  # (H,)
    shift: np.ndarray  # (H,) c, keeps zero inflows in the log's domain
    n_stages: int

    @classmethod
    def fit(cls, case: HydroCase, n_stages: int | None = None) -> LogNormalAR1:
        w = case.inflows  # (T0, K, H)
        shift = 0.01 * np.maximum(w.mean(axis=(0, 1)), 1e-6)
        z = np.log(w + shift)
        mu, sigma = z.mean(axis=1), z.std(axis=1)
        sigma = np.where(sigma > 1e-9, sigma, 1e-9)
        e = (z - mu[:, None]) / sigma[:, None]
        phi = np.array(
            [
                np.clip(np.corrcoef(e[:-1, :, h].ravel(), e[1:, :, h].ravel())[0, 1], -0.99, 0.99)
                if len(e) > 1 and e[:, :, h].std() > 0
                else 0.0
                for h in range(case.n_hydro)
            ]
        )
        return cls(mu, sigma, np.nan_to_num(phi), shift, n_stages or len(w))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` scenarios, shape (n, T, H), in m3/s."""
        T0, H = self.mu.shape
        out = np.empty((n, self.n_stages, H))
        e = rng.standard_normal((n, H))
        for t in range(self.n_stages):
            if t:
                e = self.phi * e + np.sqrt(1 - self.phi**2) * rng.standard_normal((n, H))
            out[:, t] = np.maximum(
                np.exp(self.mu[t % T0] + self.sigma[t % T0] * e) - self.shift, 0.0
            )
        return out
