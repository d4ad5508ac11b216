"""MILP instance distributions: generators, a registry of named distributions with disjoint
train / valid / test seeds, instance file readers and writers, and hardness labels."""

from orlearn.milp.io import generate, read_manifest, read_model, resolve_instances, write_model
from orlearn.milp.registry import Distribution, get_distribution, list_distributions

__all__ = [
    "Distribution",
    "generate",
    "get_distribution",
    "list_distributions",
    "read_manifest",
    "read_model",
    "resolve_instances",
    "write_model",
]
