from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from orlearn.decision_rules import MultistageProblem, StageSpec, StagewiseDiscrete
from orlearn.decision_rules.hydro import hydro_problem, load_case

CASES = Path(__file__).resolve().parents[2] / "instances" / "hydro"
TUTORIAL_OPTIMUM = 8333.0 + 1.0 / 3.0  # SDDP.jl "first steps" tutorial


@pytest.fixture
def tutorial() -> MultistageProblem:
    """SDDP.jl's 3-stage hydro-thermal tutorial: demand 150, thermal 50/100/150, volume in
    [0, 200] from 200, inflow 0/50/100 equally likely; optimum 8333.33."""

    def build(b: pyo.Block, t: int) -> StageSpec:
        b.v_in = pyo.Var()
        b.v = pyo.Var(bounds=(0, 200))
        b.hydro = pyo.Var(bounds=(0, None))
        b.thermal = pyo.Var(bounds=(0, None))
        b.spill = pyo.Var(bounds=(0, None))
        b.inflow = pyo.Param(mutable=True, initialize=0.0)
        b.demand = pyo.Constraint(expr=b.hydro + b.thermal == 150)
        b.water = pyo.Constraint(expr=b.v == b.v_in - b.hydro - b.spill + b.inflow)
        return StageSpec([b.v_in], [b.v], [b.inflow], (50.0 * (t + 1)) * b.thermal)

    values = [np.array([[0.0], [50.0], [100.0]])] * 3
    return MultistageProblem(
        build, [200.0], StagewiseDiscrete(values, [np.ones(3) / 3] * 3), name="tutorial"
    )


@pytest.fixture(scope="session")
def case3():
    return load_case(CASES / "case3")


@pytest.fixture(scope="session")
def bolivia():
    return load_case(CASES / "bolivia")


@pytest.fixture(scope="session")
def case3_short(case3):
    return hydro_problem(case3, 4)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny nets run fastest on one thread, and the machine is shared."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
