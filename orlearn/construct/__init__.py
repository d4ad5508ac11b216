"""Constructive neural solvers with bisimulation quotienting (BQ-NCO) for TSP, ATSP, CVRP, OP, KP."""
