import json
import shutil
from pathlib import Path

import numpy as np
import pyomo.environ as pyo
import pytest

from orlearn.decision_rules.hydro import LogNormalAR1, case_path, hydro_problem, load_case
from orlearn.decision_rules.stage import DeterministicEquivalent, StageModel
from orlearn.errors import OrlearnError

CASES = Path(__file__).resolve().parents[2] / "instances" / "hydro"


def test_case3_is_read_as_published(case3):
    assert case3.n_hydro == 1 and len(case3.buses) == 3 and len(case3.branches) == 3
    assert case3.inflows.shape == (12, 3, 1)
    assert case3.inflows[0, :, 0].tolist() == [120, 80, 40]
    assert np.allclose(case3.probabilities, [0.3, 0.4, 0.3])
    plant = case3.plants[0]
    assert (plant.max_volume, plant.initial_volume, plant.production_factor) == (0.54, 0.18, 1)
    # per-unit thermal costs: 2000 and 10000 per p.u. (20 and 100 per MWh), deficit 100.1 per MWh
    assert [g.cost for g in case3.generators] == [2000, 10000, 0.0]


def test_case3_stage_model_structure(case3):
    problem = hydro_problem(case3, 12)
    assert problem.n_state == problem.n_uncertainty == 1
    assert problem.lower.shape == (12, 1) and problem.upper[0, 0] == 0.54
    stage = StageModel(problem, 0)
    b = stage.model.stage
    assert len(b.flow) == 3 and len(b.pg) == 3 and b.va[0].fixed  # bus 1 is the reference
    # a dry stage from an empty reservoir: 80 MW thermal 1 (limited by lines?) and the rest shed
    sol = stage.solve(np.array([0.0]), np.array([0.0]))
    pg = [pyo.value(b.pg[g]) for g in range(3)]
    assert pg[2] == pytest.approx(0.0)
    assert sol.stage_cost == pytest.approx(
        2000 * pg[0] + 10000 * pg[1] + 10010 * pyo.value(sum(b.deficit.values()))
    )
    assert pg[0] + pg[1] + pyo.value(sum(b.deficit.values())) == pytest.approx(1.0)


def test_water_balance_units(case3):
    problem = hydro_problem(case3, 1)
    stage = StageModel(problem, 0)
    sol = stage.solve(np.array([0.18]), np.array([120.0]))
    b = stage.model.stage
    turned, spilled = pyo.value(b.turn[0]), pyo.value(b.spill[0])
    assert sol.state[0] == pytest.approx(0.18 + 0.0036 * (120 - turned) - spilled)
    assert pyo.value(b.pg[2]) * 100 == pytest.approx(turned)


def test_single_bus_is_a_relaxation_of_dc(case3):
    w = case3.uncertainty(12).sample(1, np.random.default_rng(0))[0]
    dc = DeterministicEquivalent(hydro_problem(case3, 12)).solve(w).operating_cost
    single = (
        DeterministicEquivalent(hydro_problem(case3, 12, network="single")).solve(w).operating_cost
    )
    assert single <= dc + 1e-6


def test_bolivia_cascades_and_denormals(bolivia):
    assert bolivia.n_hydro == 11 and len(bolivia.generators) == 34 and len(bolivia.buses) == 28
    assert bolivia.inflows.shape == (48, 15, 11)
    assert all(p.initial_volume == 0 for p in bolivia.plants)
    cor = next(p for p in bolivia.plants if p.name == "COR")
    assert [bolivia.plants[j].name for j in cor.downstream_turn] == ["SIS"]
    # hydro-major columns: plant 2 (COR) has its own, larger inflows
    raw = np.loadtxt(CASES / "bolivia" / "inflows.csv", delimiter=",")
    assert np.array_equal(bolivia.inflows[:, :, 1], raw[:, 15:30])


def _broken(tmp_path, edit):
    folder = tmp_path / "case"
    shutil.copytree(CASES / "case3", folder)
    edit(folder)
    return folder


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda f: (f / "hydro.json").write_text(
                json.dumps(
                    {
                        "Hydrogenerators": [
                            {
                                "index": 1,
                                "index_grid": 9,
                                "max_volume": 1,
                                "min_volume": 0,
                                "max_turn": 1,
                                "production_factor": 1,
                            }
                        ],
                        "stage_hours": 1,
                    }
                )
            ),
            "names generator 9",
        ),
        (
            lambda f: (f / "hydro.json").write_text(
                json.dumps({"Hydrogenerators": [{"index": 1, "index_grid": 3}], "stage_hours": 1})
            ),
            "no field 'min_volume'",
        ),
        (lambda f: (f / "PowerModels.json").write_text("{"), "not valid JSON"),
        (lambda f: (f / "inflows.csv").unlink(), "not found"),
        (lambda f: (f / "inflows.csv").write_text("1,-2\n"), "negative"),
    ],
)
def test_bad_case_files_are_explained(tmp_path, edit, message):
    with pytest.raises(OrlearnError, match=message):
        load_case(_broken(tmp_path, edit))


def test_case_names_resolve():
    assert case_path("case3").name == "case3"
    with pytest.raises(OrlearnError, match="no case folder"):
        case_path("atlantis")


def test_lognormal_ar1_fits_and_samples(bolivia):
    model = LogNormalAR1.fit(bolivia, 60)
    w = model.sample(200, np.random.default_rng(0))
    assert w.shape == (200, 60, 11) and np.all(w >= 0)
    assert np.all(np.abs(model.phi) < 1)
    # the marginal medians follow the data's per-stage log means
    med = np.median(w[:, 0], axis=0)
    assert np.allclose(np.log(med + model.shift), model.mu[0], atol=0.5)
