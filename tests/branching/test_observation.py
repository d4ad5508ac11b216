"""The node observation: shapes, normalisation, candidate alignment, edge reuse."""

import numpy as np

from orlearn.branching.observation import (
    N_CONS_FEATURES,
    N_VAR_FEATURES,
    VAR_FEATURES,
    ObservationBuilder,
)

SOL_FRAC = VAR_FEATURES.index("sol_frac")
SOL_VAL = VAR_FEATURES.index("sol_val")
OBJ = VAR_FEATURES.index("obj_coef")
HAS_INC = VAR_FEATURES.index("has_incumbent")


def _observe_nodes(tiny, seed: int, limit: int = 8):
    builder = ObservationBuilder()

    def look(model):
        obs = builder(model)
        cands, sols, fracs, _, nprio, _ = model.getLPBranchCands()
        fresh = ObservationBuilder()(model)  # no cached edges
        return {
            "obs": obs,
            "fresh": fresh,
            "n_cols": model.getNLPCols(),
            "n_rows": model.getNLPRows(),
            "sols": np.array(sols[:nprio]),
            "fracs": np.array(fracs[:nprio]),
            "names": [v.name for v in cands[:nprio]],
            "has_sol": model.getNSols() > 0,
            "obj": np.array([c.getObjCoeff() for c in model.getLPColsData()]),
        }

    model = tiny.configure(tiny.setcover(seed))
    spy = tiny.spy_on(model, look, limit=limit)
    model.optimize()
    assert not spy.errors, spy.errors
    assert spy.records, "the instance must need branching"
    return spy.records


def test_shapes_normalisation_and_alignment(tiny):
    for rec in _observe_nodes(tiny, 1):
        obs = rec["obs"]
        assert obs.var_features.shape == (rec["n_cols"], N_VAR_FEATURES)
        assert obs.cons_features.shape == (rec["n_rows"], N_CONS_FEATURES)
        assert obs.edge_index.shape[0] == 2 and obs.edge_index.shape[1] == len(obs.edge_features)
        assert obs.edge_index[0].max() < obs.n_cons and obs.edge_index[1].max() < obs.n_vars
        for a in (obs.var_features, obs.cons_features, obs.edge_features):
            assert np.isfinite(a).all()
        # Objective by its norm, coefficients by their row's norm (set cover: 1/sqrt(row size)).
        obj = rec["obj"]
        np.testing.assert_allclose(obs.var_features[:, OBJ], obj / np.linalg.norm(obj), rtol=1e-5)
        sizes = np.bincount(obs.edge_index[0], minlength=obs.n_cons)
        np.testing.assert_allclose(
            obs.edge_features[:, 0], 1 / np.sqrt(sizes[obs.edge_index[0]]), rtol=1e-5
        )
        # Graph column of each LP candidate holds that candidate's LP value and fractionality.
        assert len(obs.candidates) == len(rec["names"])
        assert [v.name for v in obs.candidate_vars] == rec["names"]
        np.testing.assert_allclose(obs.var_features[obs.candidates, SOL_VAL], rec["sols"], atol=1e-6)
        np.testing.assert_allclose(obs.var_features[obs.candidates, SOL_FRAC], rec["fracs"], atol=1e-6)
        # Incumbent features only once there is an incumbent.
        assert (obs.var_features[:, HAS_INC] == float(rec["has_sol"])).all()
        if not rec["has_sol"]:
            assert (obs.var_features[:, HAS_INC:] == 0).all()


def test_cached_edges_equal_fresh_ones(tiny):
    records = _observe_nodes(tiny, 1)
    assert len(records) >= 2
    for rec in records:
        obs, fresh = rec["obs"], rec["fresh"]
        np.testing.assert_array_equal(obs.edge_index, fresh.edge_index)
        np.testing.assert_array_equal(obs.edge_features, fresh.edge_features)
        np.testing.assert_array_equal(obs.var_features, fresh.var_features)
        np.testing.assert_array_equal(obs.cons_features, fresh.cons_features)
    # Without new rows the edge list is reused, not rebuilt.
    assert records[1]["obs"].edge_index is records[2]["obs"].edge_index
