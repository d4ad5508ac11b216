"""Branching rules, one module each: ``guarded`` (what every learned rule shares: fallback to
SCIP's next rule at a failed node, statistics, torch threads), ``learned`` (imitation GNN),
``rl`` (ReviBranch, reading the tree path), ``hybrid`` (the network near the root, a SCIP rule
deeper) and ``sampling`` (expert sampling for imitation data)."""
