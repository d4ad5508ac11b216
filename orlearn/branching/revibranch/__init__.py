"""ReviBranch: reinforcement learning for branching with revived trajectories.

Modules: ``episode`` (a solve recorded decision by decision, with each decision's consequences),
``rewards`` (importance-weighted redistribution of the terminal reward, tree returns),
``buffer`` (each state stored once, ancestor paths rebuilt from parent links), ``policy`` (the
imitation GNN's encoder plus a path encoder, a dueling Q-function over the candidates),
``rule`` (the SCIP branching rule), ``learner`` (DQN training, checkpoints, resume).
"""
