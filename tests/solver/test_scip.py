"""One SCIP solve: statuses, rules, presets, parameters, the result record, bad input."""

from __future__ import annotations

import itertools
import json
import random

import pyscipopt
import pytest

from orlearn.errors import OrlearnError
from orlearn.solver.result import SolveResult
from orlearn.solver.rules import builtin_rules, validate_rule
from orlearn.solver.scip import solve
from orlearn.solver.settings import SETTINGS, parse_params


def market_split(m: int = 2, n: int = 14, seed: int = 0) -> tuple[pyscipopt.Model, list, list]:
    """Cornuejols-Dawande market split: min total slack of m equal-split rows (needs branching)."""
    rng = random.Random(seed)
    model = pyscipopt.Model(f"ms{m}x{n}s{seed}")
    x = [model.addVar(vtype="B", name=f"x{j}") for j in range(n)]
    rows = []
    slack = []
    for _ in range(m):
        a = [rng.randint(0, 99) for _ in range(n)]
        b = sum(a) // 2
        plus, minus = model.addVar(lb=0), model.addVar(lb=0)
        model.addCons(pyscipopt.quicksum(a[j] * x[j] for j in range(n)) + plus - minus == b)
        rows.append((a, b))
        slack += [plus, minus]
    model.setObjective(pyscipopt.quicksum(slack))
    return model, rows, x


def brute_force_market_split(rows: list) -> int:
    n = len(rows[0][0])
    return min(
        sum(abs(sum(ai * xi for ai, xi in zip(a, bits)) - b) for a, b in rows)
        for bits in itertools.product((0, 1), repeat=n)
    )


def branching_calls(model: pyscipopt.Model, rule: str, tmp_path) -> int:
    """Calls of ``rule`` in SCIP's statistics (names are cut to 17 characters there)."""
    stats = tmp_path / "stats.txt"
    model.writeStatistics(str(stats))
    text = stats.read_text()
    section = text[text.index("Branching Rules") :].splitlines()[1:40]
    for line in section:
        name, _, numbers = line.partition(":")
        if name.strip() and rule.startswith(name.strip()):
            return int(float(numbers.split()[2]))
    raise AssertionError(f"{rule} not in statistics")


def test_optimal_matches_brute_force():
    model, rows, _ = market_split(2, 12, seed=3)
    result = solve(model, branching="relpscost", settings="gasse")
    assert result.status == "optimal" and result.solved
    assert result.primal_bound == pytest.approx(brute_force_market_split(rows))
    assert result.dual_bound == pytest.approx(result.primal_bound)
    assert result.gap == 0
    assert result.nodes >= 1 and result.lp_iterations > 0
    assert 0 < result.solving_time <= result.wall_time
    assert result.primal_dual_integral is not None and result.primal_dual_integral >= 0
    assert result.instance == "ms2x12s3" and result.rule == "relpscost"
    assert result.scip_version.startswith("10")


def test_infeasible():
    model = pyscipopt.Model("infeasible")
    x, y = model.addVar(vtype="I", ub=10), model.addVar(vtype="I", ub=10)
    model.addCons(x + y <= 3.5)
    model.addCons(x + y >= 3.7)  # no integer point between
    model.setObjective(x - y)
    result = solve(model)
    assert result.status == "infeasible" and result.solved
    assert result.primal_bound is None and result.gap is None


def test_unbounded():
    model = pyscipopt.Model("unbounded")
    x, y = model.addVar(vtype="I", lb=0, ub=None), model.addVar(lb=0)
    model.addCons(x - y <= 3)
    model.setObjective(-x - y)
    result = solve(model)
    assert result.status == "unbounded"
    assert result.primal_bound is None  # -infinity is not a number in JSON


def test_time_limit():
    model, _, _ = market_split(4, 30, seed=0)  # far too hard for a fraction of a second
    result = solve(model, time_limit=0.3)
    assert result.status == "time_limit" and not result.solved
    assert result.time_limit == 0.3
    assert 0.25 <= result.solving_time < 2.0


def test_lp_without_integer_variables():
    model = pyscipopt.Model("lp")
    x, y = model.addVar(ub=4), model.addVar(ub=4)
    model.addCons(x + 2 * y <= 5)
    model.setObjective(-x - y)
    result = solve(model)
    assert result.status == "optimal"
    assert result.primal_bound == pytest.approx(-4.5)
    assert "no integer variables" in result.message


def test_empty_model_is_refused():
    with pytest.raises(OrlearnError, match="empty model"):
        solve(pyscipopt.Model("nothing"))


def test_the_usual_rules_exist():
    expected = {"relpscost", "pscost", "fullstrong", "vanillafullstrong", "mostinf", "random",
                "leastinf", "inference"}
    assert expected <= set(builtin_rules())
    assert "nodereopt" not in builtin_rules()


@pytest.mark.parametrize("rule", builtin_rules())
def test_every_builtin_rule_solves_to_the_optimum(rule):
    model, rows, _ = market_split(2, 12, seed=5)
    result = solve(model, branching=rule, settings="gasse")
    assert result.status == "optimal" and result.rule == rule
    assert result.primal_bound == pytest.approx(brute_force_market_split(rows))


@pytest.mark.parametrize("rule", ["relpscost", "pscost", "mostinf", "random", "fullstrong"])
def test_chosen_rule_is_the_one_scip_calls(rule, tmp_path):
    model, _, _ = market_split(2, 14, seed=0)
    result = solve(model, branching=rule, settings="gasse")
    assert result.nodes > 1
    assert branching_calls(model, rule, tmp_path) > 0
    others = {"relpscost", "pscost", "mostinf"} - {rule}
    assert all(branching_calls(model, other, tmp_path) == 0 for other in others)


def test_settings_presets_and_params():
    model, _, _ = market_split(2, 12, seed=1)
    solve(model, settings="gasse")
    assert model.getParam("separating/maxrounds") == 0
    assert model.getParam("presolving/maxrestarts") == 0
    model, _, _ = market_split(2, 12, seed=1)
    solve(model, settings="default", seed=7)
    assert model.getParam("separating/maxrounds") == -1
    assert model.getParam("randomization/randomseedshift") == 7
    assert set(SETTINGS) == {"default", "gasse"}


def test_free_params_apply():
    model, _, _ = market_split(3, 24, seed=0)
    result = solve(model, params={"limits/nodes": 5})
    assert result.status == "node_limit" and result.nodes <= 6
    assert result.params == {"limits/nodes": 5}


def test_parse_params_types_and_errors():
    typed = parse_params(["limits/nodes=5", "misc/catchctrlc=false", "limits/gap=0.01",
                          "branching/scorefunc=s"])
    assert typed == {"limits/nodes": 5, "misc/catchctrlc": False, "limits/gap": 0.01,
                     "branching/scorefunc": "s"}
    with pytest.raises(OrlearnError, match="unknown SCIP parameter 'limits/tim'"):
        parse_params(["limits/tim=3"])
    with pytest.raises(OrlearnError, match="takes a int"):
        parse_params(["limits/nodes=many"])
    with pytest.raises(OrlearnError, match="refuses"):
        parse_params({"limits/time": -1.0})
    with pytest.raises(OrlearnError, match="name=value"):
        parse_params(["limits/nodes"])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"branching": "nosuchrule"}, "unknown branching rule 'nosuchrule'; valid: .*relpscost"),
        ({"settings": "fast"}, "unknown settings 'fast'; valid: default, gasse"),
        ({"time_limit": 0}, "time limit must be a positive"),
        ({"time_limit": -5}, "time limit must be a positive"),
        ({"params": {"no/such": 1}}, "unknown SCIP parameter"),
    ],
)
def test_bad_input_is_one_line_error(kwargs, match):
    model, _, _ = market_split(2, 8)
    with pytest.raises(OrlearnError, match=match) as info:
        solve(model, **kwargs)
    assert "\n" not in str(info.value)


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(OrlearnError, match="no such file"):
        solve(tmp_path / "missing.mps")


def test_solve_from_file_matches_model(tmp_path):
    model, rows, _ = market_split(2, 12, seed=2)
    path = tmp_path / "ms.mps"
    model.hideOutput()
    model.writeProblem(str(path), verbose=False)
    result = solve(path, settings="gasse")
    assert result.instance == str(path)
    assert result.primal_bound == pytest.approx(brute_force_market_split(rows))


def test_same_seed_same_search():
    first = solve(market_split(2, 14, seed=4)[0], branching="random", seed=3)
    again = solve(market_split(2, 14, seed=4)[0], branching="random", seed=3)
    assert (first.nodes, first.lp_iterations) == (again.nodes, again.lp_iterations)


def test_result_round_trip():
    model, _, _ = market_split(2, 10, seed=1)
    result = solve(model, params={"limits/gap": 0.0}, time_limit=5, seed=2)
    line = json.dumps(result.to_dict())
    back = SolveResult.from_dict(json.loads(line))
    assert back == result
    assert back.key() == result.key()
    assert json.loads(line)["schema"] == 1
    newer = {**result.to_dict(), "field_from_the_future": 1}
    assert SolveResult.from_dict(newer) == result
    with pytest.raises(ValueError):
        SolveResult.from_dict({"status": "optimal"})


def test_a_rule_the_solver_does_not_know_needs_a_resolver():
    # The solver knows SCIP's rules only; a learned rule comes from the caller's resolver.
    with pytest.raises(OrlearnError, match="unknown branching rule 'gnn'; valid: .*relpscost"):
        validate_rule("gnn")


class _FirstCandidate(pyscipopt.Branchrule):
    """Stands in for a learned rule: branches on the first LP candidate, counts its calls."""

    def __init__(self):
        self.calls = 0

    def branchexeclp(self, allowaddcons):
        candidates, *_ = self.model.getLPBranchCands()
        self.calls += 1
        self.model.branchVar(candidates[0])
        return {"result": pyscipopt.SCIP_RESULT.BRANCHED}

    def stats(self):
        return {"learned_calls": self.calls, "fallbacks": 0}


_ATTACHED: dict = {}


def _fake_resolver(spec, threads=1):
    """A resolver as orlearn.branching.plugin_for is one: spec -> attach(model) -> plugin."""

    def attach(model):
        rule = _FirstCandidate()
        model.includeBranchrule(rule, "fake", "test rule", 10**6, -1, 1.0)
        _ATTACHED.update(policy=spec, threads=threads)
        return rule

    return attach


def test_learned_rule_plugs_in_through_the_contract():
    _ATTACHED.clear()
    validate_rule("gnn:fake", _fake_resolver)
    model, rows, _ = market_split(2, 14, seed=0)
    result = solve(model, branching="gnn:fake", threads=2, resolve=_fake_resolver)
    assert _ATTACHED == {"policy": "gnn:fake", "threads": 2}
    assert result.primal_bound == pytest.approx(brute_force_market_split(rows))
    assert result.branching_stats["learned_calls"] > 0
    assert result.branching_stats["fallbacks"] == 0
