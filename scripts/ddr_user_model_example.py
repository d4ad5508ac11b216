"""TS-DDR on your own Pyomo model: the "call from Pyomo scripts" use of orlearn.decision_rules.

The model is SDDP.jl's "first steps" hydro-thermal tutorial, written as a user would write it:
3 stages, demand 150 per stage, thermal power costs 50/100/150 per MWh in stages 1/2/3, one
reservoir in [0, 200] starting full, inflow 0, 50 or 100 with equal probability each stage.
Its optimal expected cost is 8333.33.

    .venv/bin/python scripts/ddr_user_model_example.py
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo
import torch

from orlearn.decision_rules import (
    SDDP,
    MultistageProblem,
    StageSpec,
    StagewiseDiscrete,
    TrainConfig,
    rule_for_problem,
    train_tsddr,
)
from orlearn.decision_rules.evaluate import rollout_costs, wait_and_see_costs


def build_stage(b: pyo.Block, t: int) -> StageSpec:
    """Stage t of the model, built into the Pyomo block b."""
    b.volume_in = pyo.Var()  # the state entering the stage; orlearn links it to the last stage
    b.volume = pyo.Var(bounds=(0, 200))  # the state leaving the stage: what the policy targets
    b.hydro = pyo.Var(bounds=(0, None))
    b.thermal = pyo.Var(bounds=(0, None))
    b.spill = pyo.Var(bounds=(0, None))
    b.inflow = pyo.Param(mutable=True, initialize=0.0)  # uncertainty: set by orlearn each solve
    b.demand = pyo.Constraint(expr=b.hydro + b.thermal == 150)
    b.water = pyo.Constraint(expr=b.volume == b.volume_in - b.hydro - b.spill + b.inflow)
    return StageSpec(
        state_in=[b.volume_in],
        state_out=[b.volume],
        uncertainty=[b.inflow],
        cost=50.0 * (t + 1) * b.thermal,
    )


def main() -> None:
    torch.set_num_threads(1)
    torch.manual_seed(0)
    inflows = StagewiseDiscrete([np.array([[0.0], [50.0], [100.0]])] * 3, [np.ones(3) / 3] * 3)
    problem = MultistageProblem(build_stage, initial_state=[200.0], uncertainty=inflows)

    rule = rule_for_problem("lstm", problem, hidden=16)
    # the slack penalty must exceed the value of a unit of water (at most 150 here)
    config = TrainConfig(iterations=150, batch_size=8, learning_rate=0.02, penalty_end=500.0)
    result = train_tsddr(problem, rule, config)
    print(f"trained in {result.seconds:.0f} s, best validation cost {result.best_validation:.2f}")

    scenarios = inflows.sample(2000, np.random.default_rng(1))
    ddr = rollout_costs(problem, rule, scenarios, penalty=500.0)
    sddp = SDDP(problem)
    sddp.train(20)
    sim = sddp.simulate(scenarios)
    ws = wait_and_see_costs(problem, scenarios)
    print(f"TS-DDR        {ddr.mean:9.2f} +- {ddr.stderr:.2f}")
    print(f"SDDP          {sim.mean():9.2f} +- {sim.std(ddof=1) / np.sqrt(len(sim)):.2f}")
    print(f"SDDP bound    {sddp.lower_bound():9.2f}   (optimum 8333.33)")
    print(f"wait-and-see  {ws.mean:9.2f} +- {ws.stderr:.2f}")


if __name__ == "__main__":
    main()
