"""Classical solvers used as experts and baselines: PyVRP and OR-Tools for routing, an exact
branch and bound for the knapsack."""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import numpy as np

# Which clock PyVRP's time limit runs on: "wall" (default) or "cpu" (this process's CPU time,
# so a reference solved on a busy shared machine gets the same search effort as on an idle one).
_CLOCK: ContextVar[str] = ContextVar("expert_clock", default="wall")
CLOCKS = ("wall", "cpu")


@contextmanager
def expert_clock(clock: str) -> Iterator[None]:
    """Run the routing experts inside the block with time limits on ``clock`` (see CLOCKS)."""
    if clock not in CLOCKS:
        raise ValueError(f"unknown clock '{clock}' (choose from {', '.join(CLOCKS)})")
    token = _CLOCK.set(clock)
    try:
        yield
    finally:
        _CLOCK.reset(token)


class MaxCpuTime:
    """PyVRP stopping criterion: stop after ``seconds`` of this process's CPU time."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.start: float | None = None

    def __call__(self, best_cost: float) -> bool:
        if self.start is None:
            self.start = time.process_time()
        return time.process_time() - self.start > self.seconds


def pyvrp_routes(
    dist: np.ndarray,
    time_limit: float,
    seed: int,
    *,
    demands: np.ndarray | None = None,
    capacity: int | None = None,
    prizes: np.ndarray | None = None,
    max_distance: int | None = None,
    vehicles: int | None = None,
) -> list[list[int]]:
    """Solve a routing problem on integer distances ``dist`` (node 0 = depot) with PyVRP's
    hybrid genetic search for ``time_limit`` seconds (wall or CPU: :func:`expert_clock`); returns routes of node indices
    (depot excluded). Prizes make clients optional (prize-collecting)."""
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime

    n = dist.shape[0]
    model = Model()
    locations = [model.add_location(float(i), 0.0) for i in range(n)]
    model.add_depot(locations[0])
    for i in range(1, n):
        kwargs: dict = {}
        if demands is not None:
            kwargs["delivery"] = [int(demands[i])]
        if prizes is not None:
            kwargs["prize"] = int(prizes[i])
            kwargs["required"] = False
        model.add_client(locations[i], **kwargs)
    vt: dict = {"num_available": vehicles if vehicles is not None else (n if demands is not None else 1)}
    if capacity is not None:
        vt["capacity"] = [int(capacity)]
    if max_distance is not None:
        vt["max_distance"] = int(max_distance)
    model.add_vehicle_type(**vt)
    for i, a in enumerate(locations):
        for j, b in enumerate(locations):
            if i != j:
                model.add_edge(a, b, distance=int(dist[i, j]))
    stop = MaxCpuTime(time_limit) if _CLOCK.get() == "cpu" else MaxRuntime(time_limit)
    result = model.solve(stop=stop, seed=seed, display=False)
    return [[_location(a) for a in route if _is(a.is_client)] for route in result.best.routes()]


def exact_knapsack(values: np.ndarray, weights: np.ndarray, capacity: float) -> list[int]:
    """An optimal item set of a 0/1 knapsack over the float data as given (no scaling or
    rounding of weights): the chosen weights sum to at most ``capacity``, and no feasible set is
    worth more, up to floating-point rounding of the sums (1e-12 relative).

    Dembo-Hammer reduction around the LP relaxation's break item, then depth-first branch and
    bound over the items it leaves free (Horowitz-Sahni order, Dantzig bound). On the standard
    random instances (uniform values and weights) the reduction fixes all but a few dozen items,
    so KP100-KP1000 take milliseconds; adversarial (strongly correlated) data can take
    exponential time, as for any exact knapsack method on floats.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    cap = float(capacity)
    useful = np.flatnonzero((w <= cap) & (v > 0))  # other items never improve a solution
    if useful.size == 0:
        return []
    order = useful[np.argsort(-(v[useful] / w[useful]), kind="stable")]
    vs, ws = v[order], w[order]
    cum = np.cumsum(ws)
    brk = int(np.searchsorted(cum, cap, side="right"))  # items [0, brk) fit together
    if brk == order.size:
        return sorted(int(i) for i in order)
    # Incumbent: the LP's whole items, then every later item that still fits (greedy).
    chosen = np.zeros(order.size, dtype=bool)
    chosen[:brk] = True
    left = cap - (float(cum[brk - 1]) if brk else 0.0)
    for j in range(brk, order.size):
        if ws[j] <= left:
            chosen[j] = True
            left -= ws[j]
    best = float(vs[chosen].sum())
    # Lagrangian bound with the break item's ratio r: forcing item j against its LP value costs
    # at least |v_j - r w_j|; items whose flip cannot beat the incumbent keep their LP value.
    ratio = vs[brk] / ws[brk]
    lp_bound = float(vs[:brk].sum()) + (cap - (float(cum[brk - 1]) if brk else 0.0)) * ratio
    slack = 1e-9 * max(1.0, abs(lp_bound))  # keep borderline items free: rounding-safe
    free = lp_bound - np.abs(vs - ratio * ws) > best - slack
    ones = ~free & (np.arange(order.size) < brk)
    base_value = float(vs[ones].sum())
    core = np.flatnonzero(free)  # still in ratio order
    found = _branch_and_bound(vs[core], ws[core], cap - float(ws[ones].sum()), best - base_value)
    if found is None:  # nothing beats the greedy incumbent: it is optimal
        return sorted(int(i) for i in order[chosen])
    return sorted(int(i) for i in order[ones]) + sorted(int(i) for i in order[core[found]])


def _branch_and_bound(
    values: np.ndarray, weights: np.ndarray, capacity: float, incumbent: float
) -> list[int] | None:
    """Depth-first search over items sorted by decreasing value/weight for a set worth more
    than ``incumbent``; returns the best such set (indices) or None if there is none."""
    m = len(values)
    cv = values.tolist()
    cw = weights.tolist()
    pv = [0.0, *np.cumsum(values).tolist()]
    pw = [0.0, *np.cumsum(weights).tolist()]
    tol = 1e-12 * max(1.0, abs(incumbent) + float(np.sum(values)))
    best_value, best_chain = incumbent, None
    found = False
    stack: list[tuple[int, float, float, tuple | None]] = [(0, capacity, 0.0, None)]
    while stack:
        k, left, value, chain = stack.pop()
        # Dantzig bound of items k.. with ``left``: whole items up to the first that does not
        # fit, then that item's fraction. The whole items are themselves a feasible completion.
        j = bisect.bisect_right(pw, pw[k] + left, lo=k) - 1  # items [k, j) fit
        greedy = value + pv[j] - pv[k]
        if greedy > best_value + tol:
            best_value, found = greedy, True
            best_chain = (tuple(range(k, j)), chain)
        if j >= m:
            continue  # everything left fits: the greedy completion is this subtree's best
        bound = greedy + (left - (pw[j] - pw[k])) * cv[j] / cw[j]
        if bound <= best_value + tol:
            continue
        stack.append((k + 1, left, value, chain))  # without item k (explored second)
        if cw[k] <= left:
            stack.append((k + 1, left - cw[k], value + cv[k], ((k,), chain)))
    if not found:
        return None
    items: list[int] = []
    while best_chain is not None:
        part, best_chain = best_chain
        items.extend(part)
    return sorted(items)


def ortools_routing(
    dist: np.ndarray,
    time_limit: float,
    *,
    demands: np.ndarray | None = None,
    capacity: int | None = None,
) -> list[list[int]]:
    """OR-Tools routing with guided local search for ``time_limit`` seconds (the baseline of the
    benchmark); routes of node indices, depot 0 excluded."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    n = dist.shape[0]
    vehicles = n - 1 if demands is not None else 1
    manager = pywrapcp.RoutingIndexManager(n, vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    d = dist.astype(np.int64).tolist()

    def cost(i: int, j: int) -> int:
        return d[manager.IndexToNode(i)][manager.IndexToNode(j)]

    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitCallback(cost))
    if demands is not None:
        dem = [int(x) for x in demands]

        def demand(i: int) -> int:
            return dem[manager.IndexToNode(i)]

        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitCallback(demand), 0, [int(capacity)] * vehicles, True, "load"
        )
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    params.time_limit.FromMilliseconds(max(1, int(time_limit * 1000)))
    sol = routing.SolveWithParameters(params)
    if sol is None:
        return []
    routes = []
    for v in range(vehicles):
        idx = routing.Start(v)
        route = []
        while not routing.IsEnd(idx):
            node = manager.IndexToNode(idx)
            if node != 0:
                route.append(node)
            idx = sol.Value(routing.NextVar(idx))
        if route:
            routes.append(route)
    return routes


def _is(flag: object) -> bool:
    return bool(flag() if callable(flag) else flag)


def _location(activity: object) -> int:
    # PyVRP numbers clients from 0 after the depots; here the single depot is node 0.
    return int(activity.idx) + 1  # type: ignore[attr-defined]
