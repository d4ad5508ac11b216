"""Ecole's NodeBipartite on PySCIPOpt: order, ranges, <= rows of two-sided rows, caching."""

import numpy as np

from orlearn.branching.ecole_observation import (
    CONS_FEATURES,
    EDGE_FEATURES,
    VAR_FEATURES,
    NodeBipartite,
)

# Ecole's NodeBipartiteObs feature order (ecole.observation.NodeBipartiteObs, Ecole 0.7).
ECOLE_COLUMNS = (
    "objective", "is_type_binary", "is_type_integer", "is_type_implicit_integer",
    "is_type_continuous", "has_lower_bound", "has_upper_bound", "normed_reduced_cost",
    "solution_value", "solution_frac", "is_solution_at_lower_bound", "is_solution_at_upper_bound",
    "scaled_age", "incumbent_value", "average_incumbent_value", "is_basis_lower",
    "is_basis_basic", "is_basis_upper", "is_basis_zero",
)  # fmt: skip
ECOLE_ROWS = ("bias", "objective_cosine_similarity", "is_tight", "dual_solution_value", "scaled_age")
V = {name: k for k, name in enumerate(VAR_FEATURES)}
C = {name: k for k, name in enumerate(CONS_FEATURES)}


def _model(tiny, seed: int = 1):
    """A tiny set cover plus a continuous variable in an equality and a ranged row."""
    model = tiny.configure(tiny.setcover(seed))
    x = model.getVars()
    s = model.addVar("s", vtype="C", lb=0.0, ub=10.0, obj=1.0)
    model.addCons(s - x[0] - x[1] == 0.5, name="equality")
    ranged = model.addCons(x[2] + 2 * x[3] + x[4] + s >= 1, name="ranged")
    model.chgRhs(ranged, 20.0)
    return model


def _observe(tiny, normalize_edges: bool = False, limit: int = 6):
    fn = NodeBipartite(normalize_edges=normalize_edges)

    def look(m):
        obs = fn.extract(m)
        rows = m.getLPRowsData()
        cols = m.getLPColsData()
        cands, sols, _, _, nprio, _ = m.getLPBranchCands()
        return {
            "obs": obs,
            "fresh": NodeBipartite(normalize_edges=normalize_edges).extract(m),
            "rows": [(r.getLhs(), r.getRhs(), r.getConstant(), r.getNorm(), r.name,
                      {c.getLPPos(): v for c, v in zip(r.getCols(), r.getVals())}) for r in rows],
            "obj": np.array([c.getObjCoeff() for c in cols]),
            "lp": np.array([c.getPrimsol() for c in cols]),
            "bounds": np.array([(c.getLb(), c.getUb()) for c in cols]),
            "continuous": np.array([c.getVar().vtype() == "CONTINUOUS" for c in cols]),
            "cand_sols": np.array(sols[:nprio]),
            "has_sol": m.getNSols() > 0,
            "inf": m.infinity(),
        }  # fmt: skip

    model = _model(tiny)
    spy = tiny.spy_on(model, look, limit=limit)
    model.optimize()
    assert not spy.errors, spy.errors
    assert spy.records, "the instance must need branching"
    return spy.records


def test_feature_names_are_ecoles_order():
    assert VAR_FEATURES == ECOLE_COLUMNS and CONS_FEATURES == ECOLE_ROWS
    assert EDGE_FEATURES == ("coefficient",)


def test_two_sided_rows_become_two_signed_le_rows_in_ecoles_order(tiny):
    for rec in _observe(tiny):
        obs, inf = rec["obs"], rec["inf"]
        expected_bias, expected_edges = [], []
        for lhs, rhs, cst, norm, _, coefs in rec["rows"]:
            for sign, side in ((-1.0, lhs), (1.0, rhs)):
                if abs(side) < inf:
                    expected_bias.append(sign * (side - cst) / norm)
                    expected_edges.append({col: sign * v for col, v in coefs.items()})
        assert obs.cons_features.shape == (len(expected_bias), len(ECOLE_ROWS))
        np.testing.assert_allclose(obs.cons_features[:, C["bias"]], expected_bias, rtol=1e-5, atol=1e-7)
        got = [{} for _ in expected_edges]
        for (i, j), v in zip(obs.edge_index.T, obs.edge_features[:, 0]):
            got[i][int(j)] = float(v)
        assert got == [{c: np.float32(v) for c, v in e.items()} for e in expected_edges]
        # The equality row s - x0 - x1 = 0.5 gives -(...) <= -0.5 then (...) <= 0.5.
        names = [r[4] for r in rec["rows"]]
        k = sum((abs(r[0]) < inf) + (abs(r[1]) < inf) for r in rec["rows"][: names.index("equality")])
        norm = np.sqrt(3.0)
        np.testing.assert_allclose(obs.cons_features[k : k + 2, C["bias"]], [-0.5 / norm, 0.5 / norm], rtol=1e-5)
        # Rows' features other than bias and tightness change sign with the side.
        np.testing.assert_allclose(
            obs.cons_features[k, [C["objective_cosine_similarity"], C["dual_solution_value"]]],
            -obs.cons_features[k + 1, [C["objective_cosine_similarity"], C["dual_solution_value"]]],
        )
        assert obs.cons_features[k, C["is_tight"]] == obs.cons_features[k + 1, C["is_tight"]] == 1.0


def test_values_are_in_range_and_match_the_lp(tiny):
    for rec in _observe(tiny):
        obs = rec["obs"]
        var, cons = obs.var_features, obs.cons_features
        assert var.shape == (len(rec["obj"]), len(ECOLE_COLUMNS))
        np.testing.assert_allclose(var[:, V["objective"]], rec["obj"] / np.linalg.norm(rec["obj"]), rtol=1e-5)
        types = var[:, [V["is_type_binary"], V["is_type_integer"], V["is_type_implicit_integer"], V["is_type_continuous"]]]
        assert (types.sum(1) == 1).all() and (types[:, 3] == rec["continuous"]).all()
        assert (types[~rec["continuous"], 0] == 1).all()
        basis = var[:, [V["is_basis_lower"], V["is_basis_basic"], V["is_basis_upper"], V["is_basis_zero"]]]
        assert (basis.sum(1) == 1).all()
        np.testing.assert_allclose(var[:, V["solution_value"]], rec["lp"], atol=1e-6)
        assert (var[rec["continuous"], V["solution_frac"]] == 0).all()
        frac = var[:, V["solution_frac"]]
        assert ((frac > -1e-9) & (frac < 1)).all()  # SCIPfeasFrac, within SCIP's feasibility tolerance
        for k, name in enumerate(("is_solution_at_lower_bound", "is_solution_at_upper_bound")):
            at = np.abs(rec["lp"] - rec["bounds"][:, k]) < 1e-9  # the node's (local) bounds
            np.testing.assert_array_equal(var[:, V[name]], at)
        np.testing.assert_allclose(var[obs.candidates, V["solution_value"]], rec["cand_sols"], atol=1e-6)
        assert (var[:, V["scaled_age"]] >= 0).all() and (cons[:, C["scaled_age"]] >= 0).all()
        assert (np.abs(cons[:, C["objective_cosine_similarity"]]) <= 1 + 1e-6).all()
        assert set(np.unique(cons[:, C["is_tight"]])) <= {0.0, 1.0}
        incumbent = var[:, [V["incumbent_value"], V["average_incumbent_value"]]]
        assert np.isnan(incumbent).all() != rec["has_sol"]  # NaN until the first solution, as Ecole
        for a in (var[:, : V["incumbent_value"]], var[:, V["is_basis_lower"] :], cons, obs.edge_features):
            assert np.isfinite(a).all()


def test_cached_rows_equal_fresh_ones_and_edges_can_be_normalised(tiny):
    records = _observe(tiny)
    for rec in records:
        obs, fresh = rec["obs"], rec["fresh"]
        for a, b in ((obs.var_features, fresh.var_features), (obs.cons_features, fresh.cons_features),
                     (obs.edge_index, fresh.edge_index), (obs.edge_features, fresh.edge_features)):  # fmt: skip
            np.testing.assert_array_equal(a, b)
    assert records[1]["obs"].edge_index is records[2]["obs"].edge_index  # same rows: reused
    normed = _observe(tiny, normalize_edges=True, limit=1)[0]
    raw = records[0]["obs"]
    norms = np.array([np.linalg.norm(list(r[5].values())) for r in records[0]["rows"]])
    assert normed["obs"].edge_features.shape == raw.edge_features.shape
    side_norm = np.abs(raw.edge_features[:, 0].astype(float)) / np.abs(normed["obs"].edge_features[:, 0])
    np.testing.assert_allclose(side_norm, norms[_lp_row_of_edges(records[0])], rtol=1e-5)


def _lp_row_of_edges(rec) -> np.ndarray:
    """The LP row behind each edge's <= row."""
    lp_rows = [i for i, r in enumerate(rec["rows"]) for side in r[:2] if abs(side) < rec["inf"]]
    return np.array(lp_rows)[rec["obs"].edge_index[0]]


def test_before_reset_forgets_the_previous_solve(tiny):
    fn = NodeBipartite()
    model = _model(tiny)
    spy = tiny.spy_on(model, fn.extract, limit=1)
    model.optimize()
    assert spy.records and fn._row_key is not None
    fn.before_reset(model)
    assert fn._row_key is None and fn._edge_index is None
