"""Decision rules for multistage stochastic Pyomo models (TS-DDR), with an SDDP baseline.

Describe one stage with a Pyomo builder returning a :class:`StageSpec`, wrap it in a
:class:`MultistageProblem`, pick a rule with :func:`rule_for_problem` and train it with
:func:`train_tsddr`; :mod:`~orlearn.decision_rules.evaluate` and :class:`SDDP` compare it.
Hydrothermal dispatch cases come from :mod:`~orlearn.decision_rules.hydro`.
"""

from orlearn.decision_rules.policies import load_rule, rule_for_problem, save_rule
from orlearn.decision_rules.sddp import SDDP
from orlearn.decision_rules.stage import (
    DeterministicEquivalent,
    MultistageProblem,
    StageModel,
    StageSpec,
    StagewiseDiscrete,
)
from orlearn.decision_rules.tsddr import TrainConfig, train_tsddr

__all__ = [
    "SDDP",
    "DeterministicEquivalent",
    "MultistageProblem",
    "StageModel",
    "StageSpec",
    "StagewiseDiscrete",
    "TrainConfig",
    "load_rule",
    "rule_for_problem",
    "save_rule",
    "train_tsddr",
]
