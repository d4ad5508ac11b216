"""The node observation: the bipartite variable-constraint graph of the current LP.

Built on PySCIPOpt's ``Model.getBipartiteGraphRepresentation`` (Cython) and normalised as in
Gasse et al. (2019): objective coefficients and reduced costs by the objective's norm, row sides
and edge coefficients by the row's norm, dual values by both norms, ages by the number of LPs
solved so far. Incumbent features are zero with a ``has_incumbent`` flag of 0 before the first
solution. Column ``j`` of the graph is the LP column at position ``j`` (``Column.getLPPos``), so
branching candidates map to graph columns through their LP position.

The edge list is static while the LP rows stay the same (cuts are added at the root only in the
settings the literature uses), so it is built once and passed back to SCIP through
``prev_edge_features``; the key that decides reuse is the tuple of LP rows (their SCIP pointers). Column and row
features are rebuilt at every call: PySCIPOpt fills the one-hot flags of reused lists without
clearing them, so only the edge list is safe to reuse.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

import numpy as np

#: Version of the feature set below; a policy trained on another version is refused.
FEATURE_VERSION = 1

VAR_FEATURES = (
    "type_continuous",
    "type_binary",
    "type_integer",
    "type_implicit",
    "obj_coef",  # / ||c||
    "has_lb",
    "has_ub",
    "sol_at_lb",
    "sol_at_ub",
    "sol_frac",
    "basis_lower",
    "basis_basic",
    "basis_upper",
    "basis_zero",
    "red_cost",  # / ||c||
    "age",  # / (number of LPs + 5)
    "sol_val",
    "has_incumbent",
    "incumbent_val",
    "avg_incumbent_val",
)
CONS_FEATURES = (
    "obj_cosine",
    "has_lhs",
    "has_rhs",
    "lhs",  # / row norm, 0 when infinite
    "rhs",  # / row norm, 0 when infinite
    "tight_lhs",
    "tight_rhs",
    "dual",  # / (row norm * ||c||)
    "age",  # / (number of LPs + 5)
)
EDGE_FEATURES = ("coef",)  # / row norm

N_VAR_FEATURES = len(VAR_FEATURES)
N_CONS_FEATURES = len(CONS_FEATURES)
N_EDGE_FEATURES = len(EDGE_FEATURES)

# Column indices of PySCIPOpt's 19 dynamic column features (its own feature map).
_SCIP_COL = {
    "continuous": 0, "binary": 1, "integer": 2, "implicit_integer": 3, "obj_coef": 4,
    "has_lb": 5, "has_ub": 6, "sol_at_lb": 7, "sol_at_ub": 8, "sol_val": 9, "sol_frac": 10,
    "red_cost": 11, "basis_lower": 12, "basis_basic": 13, "basis_upper": 14, "basis_zero": 15,
    "best_incumbent_val": 16, "avg_incumbent_val": 17, "age": 18,
}  # fmt: skip
_SCIP_ROW = {
    "has_lhs": 0, "has_rhs": 1, "n_non_zeros": 2, "obj_cosine": 3, "bias": 4, "norm": 5,
    "sol_at_lhs": 6, "sol_at_rhs": 7, "dual_sol": 8, "age": 9,
}  # fmt: skip
# Our variable features in terms of PySCIPOpt's columns, for the columns copied as they are.
_COPY_COLS = [
    _SCIP_COL[k]
    for k in (
        "continuous", "binary", "integer", "implicit_integer", "obj_coef", "has_lb", "has_ub",
        "sol_at_lb", "sol_at_ub", "sol_frac", "basis_lower", "basis_basic", "basis_upper",
        "basis_zero", "red_cost", "age", "sol_val",
    )
]  # fmt: skip


@dataclass
class Observation:
    """One node's bipartite graph and its branching candidates.

    ``edge_index[0]`` holds constraint (row) indices and ``edge_index[1]`` variable (column)
    indices; ``candidates`` are the graph columns of the LP branching candidates, in the order
    of ``Model.getLPBranchCands``; ``candidate_vars`` are those variables (not stored in data
    sets).
    """

    var_features: np.ndarray  # (n_vars, N_VAR_FEATURES) float32
    cons_features: np.ndarray  # (n_cons, N_CONS_FEATURES) float32
    edge_index: np.ndarray  # (2, n_edges) int64
    edge_features: np.ndarray  # (n_edges, N_EDGE_FEATURES) float32
    candidates: np.ndarray  # (n_cands,) int64
    candidate_vars: list[Any] = field(default_factory=list, repr=False)

    @property
    def n_vars(self) -> int:
        return int(self.var_features.shape[0])

    @property
    def n_cons(self) -> int:
        return int(self.cons_features.shape[0])


def branching_candidates(model: Any) -> tuple[list[Any], np.ndarray]:
    """The priority LP branching candidates (rules must choose among them) and their graph
    columns (LP positions), in the order of ``Model.getLPBranchCands``."""
    cands, _, _, _, npriocands, _ = model.getLPBranchCands()
    cand_vars = list(cands[:npriocands])
    candidates = np.fromiter(
        (v.getCol().getLPPos() for v in cand_vars), dtype=np.int64, count=len(cand_vars)
    )
    return cand_vars, candidates


def feature_array(lists: list[list[Any]], fast: bool = True) -> np.ndarray:
    """PySCIPOpt's feature lists (one equally long list per column or row) as a float64 array;
    None (no incumbent yet) becomes NaN.

    ``fast``: one pass over the flattened lists (``np.fromiter``), ~20 % less than
    ``np.array``'s nested-list conversion on a 1,000 x 19 set cover export, the same values;
    lists holding None fall back to ``np.array`` (the nodes before the first incumbent).
    """
    if fast and lists:
        width = len(lists[0])
        try:
            flat = np.fromiter(chain.from_iterable(lists), dtype=np.float64, count=len(lists) * width)
            return flat.reshape(len(lists), width)
        except (TypeError, ValueError):  # None, or lists of other lengths
            pass
    return np.array(lists, dtype=np.float64)


class ObservationFunction(Protocol):
    """What a branching rule asks of a feature set (Ecole's observation-function shape).

    ``before_reset(model)`` at the start of a solve (drop what was cached), ``extract(model)`` at
    a node with a solved LP. ``name`` tells feature sets apart ("orlearn", "ecole").
    """

    name: str

    def before_reset(self, model: Any) -> None: ...

    def extract(self, model: Any) -> Observation: ...


class ObservationBuilder:
    """orlearn's own features (``FEATURE_VERSION``) as an :class:`ObservationFunction`; one per
    solve, caching the edges while the LP rows stay the same."""

    name = "orlearn"

    def __init__(self) -> None:
        #: False: NumPy's nested-list conversion (the reference of scripts/ab_branching_node.py).
        self.fast = True
        self.before_reset(None)

    def before_reset(self, model: Any) -> None:
        """Forget the edges cached from a previous solve."""
        self._row_key: tuple[int, ...] | None = None
        self._prev_edges: list[list[float]] | None = None
        self._edge_index: np.ndarray | None = None
        self._edge_coef: np.ndarray | None = None
        self._row_static: np.ndarray | None = None  # lhs, rhs, norm per row (raw)
        self._obj_norm = 1.0

    def __call__(self, model: Any) -> Observation:
        return self.extract(model)

    def extract(self, model: Any) -> Observation:
        """The observation at the current node; requires a solved LP (called from a Branchrule)."""
        # PySCIPOpt returns the features as lists of lists (one per LP column, row and nonzero):
        # enough allocations to trigger the cyclic garbage collector, whose full passes cost
        # ~17 ms on facility/small. They are freed by reference counting; pause the collector.
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._observe(model)
        finally:
            if enabled:
                gc.enable()

    def _observe(self, model: Any) -> Observation:
        rows = model.getLPRowsData()
        key = tuple(hash(row) for row in rows)  # the SCIP_ROW pointers
        reuse = key == self._row_key and self._prev_edges is not None
        col, edges, row, _ = model.getBipartiteGraphRepresentation(
            prev_edge_features=self._prev_edges if reuse else None, suppress_warnings=True
        )
        col_a = feature_array(col, self.fast)  # None (no incumbent yet) becomes NaN
        if not reuse:
            self._set_static(model, rows, key, edges)
            self._obj_norm = float(np.linalg.norm(col_a[:, _SCIP_COL["obj_coef"]])) or 1.0
        row_a = feature_array(row, self.fast)
        n_lps = float(model.getNLPs()) + 5.0

        var = np.zeros((col_a.shape[0], N_VAR_FEATURES), dtype=np.float32)
        var[:, :17] = col_a[:, _COPY_COLS]
        var[:, 4] /= self._obj_norm
        var[:, 14] /= self._obj_norm
        var[:, 15] /= n_lps
        if model.getNSols() > 0:
            var[:, 17] = 1.0
            var[:, 18] = col_a[:, _SCIP_COL["best_incumbent_val"]]
            var[:, 19] = col_a[:, _SCIP_COL["avg_incumbent_val"]]

        assert self._row_static is not None
        lhs, rhs, norm = self._row_static.T
        cons = np.zeros((row_a.shape[0], N_CONS_FEATURES), dtype=np.float32)
        cons[:, 0] = row_a[:, _SCIP_ROW["obj_cosine"]]
        cons[:, 1] = row_a[:, _SCIP_ROW["has_lhs"]]
        cons[:, 2] = row_a[:, _SCIP_ROW["has_rhs"]]
        cons[:, 3] = lhs
        cons[:, 4] = rhs
        cons[:, 5] = row_a[:, _SCIP_ROW["sol_at_lhs"]]
        cons[:, 6] = row_a[:, _SCIP_ROW["sol_at_rhs"]]
        cons[:, 7] = row_a[:, _SCIP_ROW["dual_sol"]] / (norm * self._obj_norm)
        cons[:, 8] = row_a[:, _SCIP_ROW["age"]] / n_lps

        cand_vars, candidates = branching_candidates(model)
        assert self._edge_index is not None and self._edge_coef is not None
        return Observation(
            var_features=var,
            cons_features=cons,
            edge_index=self._edge_index,
            edge_features=self._edge_coef,
            candidates=candidates,
            candidate_vars=cand_vars,
        )

    def _set_static(self, model: Any, rows: list, key: tuple[int, ...], edges: list) -> None:
        inf = model.infinity()
        static = np.empty((len(rows), 3), dtype=np.float64)
        for i, r in enumerate(rows):
            # Row sides relative to the row's constant, scaled by its norm (Gasse's "bias").
            norm = r.getNorm() or 1.0
            cst = r.getConstant()
            lhs, rhs = r.getLhs(), r.getRhs()
            static[i, 0] = 0.0 if lhs <= -inf else (lhs - cst) / norm
            static[i, 1] = 0.0 if rhs >= inf else (rhs - cst) / norm
            static[i, 2] = norm
        self._row_static = static
        e = np.array(edges, dtype=np.float64).reshape(-1, 3)
        self._edge_index = np.ascontiguousarray(e[:, [1, 0]].T.astype(np.int64))
        self._edge_coef = (e[:, 2] / static[e[:, 1].astype(np.int64), 2]).astype(np.float32)[:, None]
        self._row_key = key
        self._prev_edges = edges
