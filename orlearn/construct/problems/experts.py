"""Classical solvers used as experts and baselines: PyVRP for routing, OR-Tools for knapsack."""

from __future__ import annotations

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


def ortools_knapsack(values: np.ndarray, weights: np.ndarray, capacity: float) -> list[int]:
    """Optimal item set of a 0/1 knapsack (OR-Tools branch and bound on values and weights
    scaled to integers: exact for the scaled data, within 1e-6 relative of the float one)."""
    from ortools.algorithms.python import knapsack_solver

    scale = 1e6 / max(float(np.max(weights)), float(capacity), 1e-12)
    vscale = 1e6 / max(float(np.max(values)), 1e-12)
    solver = knapsack_solver.KnapsackSolver(
        knapsack_solver.SolverType.KNAPSACK_MULTIDIMENSION_BRANCH_AND_BOUND_SOLVER, "kp"
    )
    w = np.floor(weights * scale).astype(np.int64)
    solver.init(
        np.rint(values * vscale).astype(np.int64).tolist(),
        [w.tolist()],
        [int(np.floor(capacity * scale))],
    )
    solver.solve()
    chosen = [i for i in range(len(values)) if solver.best_solution_contains(i)]
    # Flooring weights can admit a set a hair over the float capacity: drop the worst item then.
    while chosen and weights[chosen].sum() > capacity + 1e-12:
        chosen.remove(min(chosen, key=lambda i: values[i] / weights[i]))
    return chosen


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
