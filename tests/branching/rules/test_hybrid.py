"""The hybrid rule: the network near the root, SCIP's pseudocosts (seeded by it) deeper down."""

from __future__ import annotations

import pyscipopt
import pytest

from orlearn.branching.plugin import attach_branching, solve
from orlearn.branching.rules.guarded import PRIORITY
from orlearn.branching.rules.hybrid import (
    DEFAULT_BELOW,
    DEFAULT_DEPTH,
    HybridSpec,
    is_hybrid_spec,
    parse_hybrid_spec,
)
from orlearn.cli import main
from orlearn.errors import OrlearnError

DOWN, UP = pyscipopt.SCIP_BRANCHDIR.DOWNWARDS, pyscipopt.SCIP_BRANCHDIR.UPWARDS


@pytest.mark.parametrize(
    "spec,expected",
    [
        ("hybrid", HybridSpec("gnn", DEFAULT_DEPTH, DEFAULT_BELOW)),
        ("hybrid:depth=3", HybridSpec("gnn", 3, DEFAULT_BELOW)),
        ("hybrid:gnn:setcover", HybridSpec("gnn:setcover", DEFAULT_DEPTH, DEFAULT_BELOW)),
        ("hybrid:gnn:setcover:depth=0", HybridSpec("gnn:setcover", 0, DEFAULT_BELOW)),
        ("hybrid:/p/il.pkl:below=relpscost:depth=9", HybridSpec("/p/il.pkl", 9, "relpscost")),
        ("hybrid:C:/p/my.pt:depth=2", HybridSpec("C:/p/my.pt", 2, DEFAULT_BELOW)),
    ],
)
def test_spec_grammar(spec, expected):
    assert is_hybrid_spec(spec)
    assert parse_hybrid_spec(spec) == expected
    assert parse_hybrid_spec(str(expected)) == expected  # the canonical form parses back


@pytest.mark.parametrize(
    "spec,message",
    [
        ("hybrid:depth=-1", "depth must be an integer >= 0, got '-1'"),
        ("hybrid:depth=deep", "depth must be an integer >= 0, got 'deep'"),
        ("hybrid:gnn:nodes=5", "unknown option 'nodes' (valid: depth, below)"),
        ("hybrid:depth=2:gnn", "options go after the policy, got 'gnn' after an option"),
        ("hybrid:depth=2:depth=3", "option 'depth' given twice"),
        ("hybrid:gnn:below=fancy", "below must be a SCIP branching rule"),
        ("hybrid:hybrid:gnn", "the policy cannot itself be a hybrid"),
    ],
)
def test_bad_specs_fail_with_one_line(spec, message):
    with pytest.raises(OrlearnError) as err:
        parse_hybrid_spec(spec)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not is_hybrid_spec("hybridx") and not is_hybrid_spec("gnn")


def test_bad_spec_on_the_command_line_is_a_usage_error(tiny_dir, capsys):
    code = main(["milp", "solve", str(tiny_dir / "tiny_1.mps"), "-b", "hybrid:depth=x", "-q"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("orlearn: error:") and "depth must be an integer" in err
    assert len(err.strip().splitlines()) == 1


def test_same_optimum_as_relpscost(tiny, tiny_dir, random_policy):
    instance, params = tiny_dir / "tiny_3.mps", tiny.hard_params()
    reference = solve(instance, "relpscost", "gasse", params)
    result = solve(instance, f"hybrid:{random_policy}:depth=2", "gasse", params)
    assert reference.status == result.status == "optimal"
    assert result.primal_bound == pytest.approx(reference.primal_bound)
    assert result.branching_stats["learned_calls"] > 0 and result.nodes > 1


def test_network_only_down_to_the_cutoff_then_pscost(tiny, random_policy, monkeypatch):
    depth = 2
    model = tiny.configure(tiny.setcover(2))
    rule = attach_branching(model, f"hybrid:{random_policy}:depth={depth}")
    assert model.getParam(f"branching/{DEFAULT_BELOW}/priority") == PRIORITY - 1
    depths: list[int] = []
    scores = rule.policy.scores

    def counted(obs):
        depths.append(model.getDepth())
        return scores(obs)

    monkeypatch.setattr(rule.policy, "scores", counted)
    model.optimize()
    assert model.getStatus() == "optimal"
    assert model.getMaxDepth() > depth + 2  # the tree goes well below the cut-off ...
    assert depths and max(depths) <= depth and set(range(depth + 1)) <= set(depths)  # ... the net not
    stats = rule.stats()
    assert stats["learned_calls"] == stats["calls"] == len(depths) < model.getNNodes()


def test_network_branchings_update_pseudocosts(tiny, random_policy):
    """SCIP updates pseudocosts from the children of the network's branchings: below the
    cut-off the pseudo-cost rule starts from them, not from its uniform prior."""
    depth = 3
    model = tiny.configure(tiny.setcover(2))

    def pseudocosts(m):
        costs = {
            v.name: (m.getVarPseudocost(v, DOWN), m.getVarPseudocost(v, UP),
                     v.getNBranchings(DOWN) + v.getNBranchings(UP))
            for v in m.getVars(transformed=True)
        }  # fmt: skip
        return m.getDepth(), costs

    spy = tiny.spy_on(model, pseudocosts)  # above the hybrid: records, then lets it branch
    rule = attach_branching(model, f"hybrid:{random_policy}:depth={depth}")
    model.optimize()
    assert not spy.errors and model.getStatus() == "optimal"
    assert rule.stats()["fallbacks"] == 0  # every branching at depth <= cut-off is the network's
    _, root = seen_first(spy.records, lambda d: d == 0)
    assert {(down, up) for down, up, _ in root.values()} == {(1.0, 1.0)}  # nothing learned yet
    # The first node below the cut-off: only the network has branched so far.
    _, below = seen_first(spy.records, lambda d: d > depth)
    branched = {name: c for name, c in below.items() if c[2] > 0}
    untouched = {(c[0], c[1]) for name, c in below.items() if c[2] == 0}
    assert len(branched) >= depth + 1
    # Never-branched variables read SCIP's global average, which the network's branchings moved.
    assert len(untouched) == 1 and untouched != {(1.0, 1.0)}
    # Branched variables carry pseudocosts of their own, measured from their children's LPs.
    assert len({(c[0], c[1]) for c in branched.values()} - untouched) >= 2


def seen_first(records, where):
    return next((d, costs) for d, costs in records if where(d))


def test_pyomo_takes_a_hybrid_policy(random_policy):
    import pyomo.environ as pyo

    import orlearn.branching.pyomo

    def knapsack():
        w = [23, 31, 29, 44, 53, 38, 63, 85, 89, 82, 17, 41, 57, 60, 12]
        p = [92, 57, 49, 68, 60, 43, 67, 84, 87, 72, 22, 50, 60, 71, 15]
        m = pyo.ConcreteModel()
        m.x = pyo.Var(range(len(w)), domain=pyo.Binary)
        m.obj = pyo.Objective(expr=sum(p[j] * m.x[j] for j in m.x), sense=pyo.maximize)
        m.cap = pyo.Constraint(expr=sum(w[j] * m.x[j] for j in m.x) <= 300)
        m.cap2 = pyo.Constraint(expr=sum((j % 4 + 1) * m.x[j] for j in m.x) <= 17)
        return m

    options = {"presolving/maxrounds": 0, "separating/maxroundsroot": 0}
    model = knapsack()
    results = pyo.SolverFactory("orlearn", policy=f"hybrid:{random_policy}:depth=1").solve(
        model, options=options
    )
    reference = knapsack()
    orlearn.branching.pyomo.solve(reference, policy=None, params=options)
    assert results.solver.termination_condition == pyo.TerminationCondition.optimal
    assert pyo.value(model.obj) == pytest.approx(pyo.value(reference.obj))
    assert results.solver.branching_stats["policy"] == random_policy.stem  # the hybrid's network
    with pytest.raises(OrlearnError, match="unknown option 'deep'"):
        pyo.SolverFactory("orlearn", policy="hybrid:deep=1").solve(knapsack())
