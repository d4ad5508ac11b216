"""Ecole's ``NodeBipartite`` observation, rebuilt on PySCIPOpt (SCIP 10, no Ecole needed).

Policies trained with Ecole (Prouvost et al., "Ecole: A Gym-like Library for Machine Learning in
Combinatorial Optimization Solvers", 2020), such as the published imitation policies of
Scavuzzo et al. (NeurIPS 2022, lascavana/rl2branch), read this graph; the features, their order
and their scaling follow Ecole's ``libecole/src/observation/nodebipartite.cpp`` (Ecole 0.7):

* Every LP row becomes one ``<=`` row per finite side: ``lhs <= a x`` gives ``-a x <= -lhs``
  (its features and coefficients change sign), ``a x <= rhs`` is kept; a ranged or equality row
  gives both, the left-hand one first. Row sides are taken without the row's constant.
* Row features (5): bias (side / row norm, signed), objective cosine similarity (signed),
  is_tight (the LP activity is at that side), dual value / (row norm x objective norm), signed,
  age / (number of LPs + 5).
* Column features (19), one per LP column in LP order: objective / objective norm, type one-hot
  (binary, integer, implicit integer, continuous), has lower bound, has upper bound, reduced cost /
  objective norm, LP value, fractionality (0 for continuous), at lower bound, at upper bound
  (local bounds), age / (number of LPs + 5), incumbent value, average incumbent value (both NaN
  before the first solution, as in Ecole), basis status one-hot (lower, basic, upper, zero).
* Edge feature (1): the coefficient in the ``<=`` row. Ecole up to 0.7 (and the rl2branch fork,
  whose normalisation statistics show coefficients up to ~100 in magnitude) leaves it unscaled;
  Ecole 0.8 divides it by the row norm (``normalize_edges=True``).

Norms are SCIP's: the objective norm over the LP columns (1 when zero), each row's Euclidean norm
(1 when zero). Ecole fixed, in May 2021 (ds4dm/ecole PR #189), an indexing bug that let a
two-sided row's ``<=`` rows overwrite each other; this module keeps them apart, as the fixed Ecole.
"""

from __future__ import annotations

import gc
from typing import Any

import numpy as np

from orlearn.branching.observation import Observation, branching_candidates, feature_array

VAR_FEATURES = (
    "objective",
    "is_type_binary",
    "is_type_integer",
    "is_type_implicit_integer",
    "is_type_continuous",
    "has_lower_bound",
    "has_upper_bound",
    "normed_reduced_cost",
    "solution_value",
    "solution_frac",
    "is_solution_at_lower_bound",
    "is_solution_at_upper_bound",
    "scaled_age",
    "incumbent_value",
    "average_incumbent_value",
    "is_basis_lower",
    "is_basis_basic",
    "is_basis_upper",
    "is_basis_zero",
)
CONS_FEATURES = (
    "bias",
    "objective_cosine_similarity",
    "is_tight",
    "dual_solution_value",
    "scaled_age",
)
EDGE_FEATURES = ("coefficient",)

# PySCIPOpt's column and row feature positions (its own feature map, SCIP 10 / PySCIPOpt 6).
_COL = {
    "continuous": 0, "binary": 1, "integer": 2, "implicit_integer": 3, "obj_coef": 4,
    "has_lb": 5, "has_ub": 6, "sol_at_lb": 7, "sol_at_ub": 8, "sol_val": 9, "sol_frac": 10,
    "red_cost": 11, "basis_lower": 12, "basis_basic": 13, "basis_upper": 14, "basis_zero": 15,
    "best_incumbent_val": 16, "avg_incumbent_val": 17, "age": 18,
}  # fmt: skip
_ROW = {"sol_at_lhs": 6, "sol_at_rhs": 7, "dual_sol": 8, "age": 9}
# SCIP's epsilon (numerics/epsilon default) for "is positive".
_EPS = 1e-9


class NodeBipartite:
    """Ecole-compatible node observation (see the module docstring); one instance per solve.

    ``extract(model)`` must be called from a branching rule at a node with a solved LP. The
    ``<=``-row structure and the edge list are cached while the LP rows stay the same.
    """

    name = "ecole"
    n_var_features = len(VAR_FEATURES)
    n_cons_features = len(CONS_FEATURES)
    n_edge_features = len(EDGE_FEATURES)

    def __init__(self, normalize_edges: bool = False) -> None:
        self.normalize_edges = normalize_edges
        #: False: NumPy's nested-list conversion (the reference of scripts/ab_branching_node.py).
        self.fast = True
        self.before_reset(None)

    def before_reset(self, model: Any) -> None:
        """Forget everything cached from a previous solve."""
        self._row_key: tuple[int, ...] | None = None
        self._prev_edges: list[list[float]] | None = None
        self._edge_index: np.ndarray | None = None
        self._edge_values: np.ndarray | None = None
        self._side_row: np.ndarray | None = None  # LP row of each <= row
        self._side_sign: np.ndarray | None = None  # -1 for a left-hand side, +1 for a right-hand one
        self._side_value: np.ndarray | None = None  # the side without the row's constant
        self._row_norm: np.ndarray | None = None  # Ecole's row norm (1 when zero)
        self._row_raw_norm: np.ndarray | None = None
        self._row_obj_prod: np.ndarray | None = None
        self._lhs_tight = np.zeros(0, dtype=bool)  # which <= rows take their tightness from the lhs

    def __call__(self, model: Any) -> Observation:
        return self.extract(model)

    def extract(self, model: Any) -> Observation:
        """The observation at the current node (Ecole's ``NodeBipartiteObs`` as an Observation)."""
        enabled = gc.isenabled()
        gc.disable()  # PySCIPOpt's lists of lists would trigger full collections (see observation)
        try:
            return self._extract(model)
        finally:
            if enabled:
                gc.enable()

    def _extract(self, model: Any) -> Observation:
        rows = model.getLPRowsData()
        key = tuple(hash(row) for row in rows)  # the SCIP_ROW pointers
        reuse = key == self._row_key and self._prev_edges is not None
        col, edges, row, _ = model.getBipartiteGraphRepresentation(
            prev_edge_features=self._prev_edges if reuse else None, suppress_warnings=True
        )
        c = feature_array(col, self.fast)  # None (no incumbent yet) becomes NaN, as in Ecole
        obj = c[:, _COL["obj_coef"]]
        obj_norm = float(np.sqrt(np.dot(obj, obj)))
        obj_scale = obj_norm if obj_norm > 0 else 1.0
        if not reuse:
            self._set_rows(model, rows, key, edges, obj)
        n_lps = float(model.getNLPs()) + 5.0

        var = _var_features(c, obj_scale, n_lps)
        cons = self._cons_features(feature_array(row, self.fast), obj_norm, obj_scale, n_lps)
        cand_vars, candidates = branching_candidates(model)
        assert self._edge_index is not None and self._edge_values is not None
        return Observation(
            var_features=var,
            cons_features=cons,
            edge_index=self._edge_index,
            edge_features=self._edge_values,
            candidates=candidates,
            candidate_vars=cand_vars,
        )

    def _cons_features(
        self, r: np.ndarray, obj_norm: float, obj_scale: float, n_lps: float
    ) -> np.ndarray:
        """Ecole's row features of the ``<=`` rows (PySCIPOpt's rows ``r``, one per LP row)."""
        assert self._side_row is not None and self._side_sign is not None
        assert self._side_value is not None and self._row_norm is not None
        assert self._row_raw_norm is not None and self._row_obj_prod is not None
        lp_row, sign, norm = self._side_row, self._side_sign, self._row_norm
        cons = np.empty((lp_row.shape[0], len(CONS_FEATURES)), dtype=np.float32)
        cons[:, 0] = sign * self._side_value / norm
        norm_prod = self._row_raw_norm * obj_norm
        cos = np.divide(
            self._row_obj_prod, norm_prod, out=np.zeros_like(norm_prod), where=norm_prod > _EPS
        )
        cons[:, 1] = sign * cos
        cons[:, 2] = np.where(
            self._lhs_tight, r[lp_row, _ROW["sol_at_lhs"]], r[lp_row, _ROW["sol_at_rhs"]]
        )
        cons[:, 3] = sign * r[lp_row, _ROW["dual_sol"]] / (norm * obj_scale)
        cons[:, 4] = r[lp_row, _ROW["age"]] / n_lps
        return cons

    def _set_rows(
        self, model: Any, rows: list, key: tuple[int, ...], edges: list, obj: np.ndarray
    ) -> None:
        """The <= rows of the current LP rows and their edges (static while the rows stay)."""
        inf = model.infinity()
        n = len(rows)
        lhs, rhs, cst, raw = (np.empty(n) for _ in range(4))
        for i, row in enumerate(rows):
            lhs[i], rhs[i], cst[i], raw[i] = row.getLhs(), row.getRhs(), row.getConstant(), row.getNorm()
        has_lhs, has_rhs = np.abs(lhs) < inf, np.abs(rhs) < inf
        # <= rows: for each LP row its left-hand side (if finite), then its right-hand side.
        lhs_id = np.where(has_lhs, np.cumsum(has_lhs) + np.cumsum(has_rhs) - has_rhs - 1, -1)
        rhs_id = np.where(has_rhs, np.cumsum(has_lhs) + np.cumsum(has_rhs) - 1, -1)
        n_sides = int(has_lhs.sum() + has_rhs.sum())
        side_row = np.empty(n_sides, dtype=np.int64)
        side_row[lhs_id[has_lhs]] = np.flatnonzero(has_lhs)
        side_row[rhs_id[has_rhs]] = np.flatnonzero(has_rhs)
        lhs_side = np.zeros(n_sides, dtype=bool)
        lhs_side[lhs_id[has_lhs]] = True
        self._side_row = side_row
        self._lhs_tight = lhs_side
        self._side_sign = np.where(lhs_side, -1.0, 1.0)
        self._side_value = np.where(lhs_side, lhs[side_row], rhs[side_row]) - cst[side_row]
        self._row_raw_norm = raw[side_row]
        self._row_norm = np.where(raw > 0, raw, 1.0)[side_row]

        e = np.array(edges, dtype=np.float64).reshape(-1, 3)
        e_col, e_row, e_val = e[:, 0].astype(np.int64), e[:, 1].astype(np.int64), e[:, 2]
        obj_prod = np.bincount(e_row, weights=e_val * obj[e_col], minlength=n)
        self._row_obj_prod = obj_prod[side_row]
        # Edges of each <= row, rows in order and each row's coefficients in SCIP's order.
        from_lhs, from_rhs = has_lhs[e_row], has_rhs[e_row]
        ids = np.concatenate([lhs_id[e_row[from_lhs]], rhs_id[e_row[from_rhs]]])
        cols = np.concatenate([e_col[from_lhs], e_col[from_rhs]])
        vals = np.concatenate([-e_val[from_lhs], e_val[from_rhs]])
        order = np.argsort(ids, kind="stable")
        ids, cols, vals = ids[order], cols[order], vals[order]
        if self.normalize_edges:
            vals = vals / self._row_norm[ids]
        self._edge_index = np.ascontiguousarray(np.stack([ids, cols]))
        self._edge_values = vals.astype(np.float32)[:, None]
        self._row_key = key
        self._prev_edges = edges


def _var_features(c: np.ndarray, obj_scale: float, n_lps: float) -> np.ndarray:
    """Ecole's column features from PySCIPOpt's columns ``c``."""
    var = np.empty((c.shape[0], len(VAR_FEATURES)), dtype=np.float32)
    continuous = c[:, _COL["continuous"]]
    var[:, 0] = c[:, _COL["obj_coef"]] / obj_scale
    var[:, 1] = c[:, _COL["binary"]]
    var[:, 2] = c[:, _COL["integer"]]
    var[:, 3] = c[:, _COL["implicit_integer"]]
    var[:, 4] = continuous
    var[:, 5] = c[:, _COL["has_lb"]]
    var[:, 6] = c[:, _COL["has_ub"]]
    var[:, 7] = c[:, _COL["red_cost"]] / obj_scale
    var[:, 8] = c[:, _COL["sol_val"]]
    var[:, 9] = np.where(continuous > 0, 0.0, c[:, _COL["sol_frac"]])
    # At a bound only when that bound is finite (PySCIPOpt compares with +-infinity too).
    var[:, 10] = c[:, _COL["sol_at_lb"]] * c[:, _COL["has_lb"]]
    var[:, 11] = c[:, _COL["sol_at_ub"]] * c[:, _COL["has_ub"]]
    var[:, 12] = c[:, _COL["age"]] / n_lps
    var[:, 13] = c[:, _COL["best_incumbent_val"]]
    var[:, 14] = c[:, _COL["avg_incumbent_val"]]
    var[:, 15] = c[:, _COL["basis_lower"]]
    var[:, 16] = c[:, _COL["basis_basic"]]
    var[:, 17] = c[:, _COL["basis_upper"]]
    var[:, 18] = c[:, _COL["basis_zero"]]
    return var
