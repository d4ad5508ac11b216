"""Set covering instances in the style of Balas & Ho (1980), as used by Gasse et al. (2019).

E. Balas, A. Ho, "Set covering algorithms using cutting planes, heuristics, and subgradient
optimization: a computational study", Mathematical Programming Study 12 (1980) 37-60.
M. Gasse, D. Chetelat, N. Ferroni, L. Charlin, A. Lodi, "Exact combinatorial optimization with
graph convolutional neural networks", NeurIPS 2019.

The constraint matrix has ``n_rows x n_cols`` entries with ``density`` of them equal to one: every
column covers at least one row, every row is covered at least once, the remaining nonzeros fall on
uniformly random columns, and each column's rows are distinct and uniformly random. Costs are
integers uniform in [1, max_cost]. Model: min c^T x s.t. A x >= 1, x binary.
"""

from __future__ import annotations

import numpy as np
import pyscipopt

VERSION = "setcover-1"


def build(
    rng: np.random.Generator,
    *,
    name: str = "setcover",
    n_rows: int = 500,
    n_cols: int = 1000,
    density: float = 0.05,
    max_cost: int = 100,
) -> pyscipopt.Model:
    """Draw one set cover instance (``n_rows`` constraints, ``n_cols`` binary columns)."""
    nnz = max(int(round(n_rows * n_cols * density)), n_cols)
    # Column of every nonzero: each column once, the rest uniform.
    col_of = np.concatenate([np.arange(n_cols), rng.integers(0, n_cols, size=nnz - n_cols)])
    counts = np.minimum(np.bincount(col_of, minlength=n_cols), n_rows)
    rows_of_col = [np.sort(rng.choice(n_rows, size=int(c), replace=False)) for c in counts]
    covered = np.zeros(n_rows, dtype=bool)
    for rows in rows_of_col:
        covered[rows] = True
    # A row left uncovered joins a random column so that the instance is feasible.
    for row in np.flatnonzero(~covered):
        j = int(rng.integers(0, n_cols))
        rows_of_col[j] = np.sort(np.append(rows_of_col[j], row))
    costs = rng.integers(1, max_cost + 1, size=n_cols)

    members: list[list[int]] = [[] for _ in range(n_rows)]
    for j, rows in enumerate(rows_of_col):
        for i in rows:
            members[int(i)].append(j)

    model = pyscipopt.Model(problemName=name)
    x = [model.addVar(name=f"x{j}", vtype="B", obj=float(costs[j])) for j in range(n_cols)]
    for i, cols in enumerate(members):
        model.addCons(pyscipopt.quicksum(x[j] for j in cols) >= 1, name=f"cover{i}")
    model.setMinimize()
    return model
