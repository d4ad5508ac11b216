"""ReviBranch: reinforcement learning for branching with revived trajectories.

Modules: ``episode`` (a solve recorded decision by decision, with each decision's consequences),
``rewards`` (importance-weighted redistribution of the terminal reward, tree returns),
``buffer`` (each state stored once, ancestor paths rebuilt from parent links), ``policy`` (the
imitation GNN's encoder plus a path encoder, a dueling Q-function over the candidates with a
bounded residual, KL-regularised towards the imitation policy),
``learner`` (DQN training, checkpoints, resume). Its SCIP rule is
:mod:`orlearn.branching.rules.rl`.
"""

# Defaults of the KL trust region (see orlearn.branching.revibranch.policy); here, without
# torch, so that the CLI can show them without importing it.
#: ``lambda``: reference trees per nat of the imitation prior.
PRIOR_WEIGHT = 0.1
#: ``b``: the largest change of a node's expected subtree, as a fraction, that the choice of
#: branching variable may be credited with.
MAX_ADVANTAGE = 0.25
#: Episodes one Ray worker process runs before Ray replaces it: a fresh process per episode
#: spends seconds importing torch and SCIP (on 2 loaded cores that halved the episode rate).
RAY_EPISODES_PER_WORKER = 8
