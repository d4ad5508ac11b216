"""orlearn: learned policies inside operations-research solvers."""

__version__ = "0.1.0"
