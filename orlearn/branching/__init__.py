"""Learned branching for SCIP: observation, expert, data, GNN, training and the branching rule.

``orlearn.branching.rule.attach_branching(model, "gnn")`` is the one-liner; the modules follow the
data flow: observation -> expert -> collect/dataset -> model -> train -> rule.
"""
