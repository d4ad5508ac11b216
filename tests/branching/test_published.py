"""Published rl2branch policies: key layout, exact logits, loading through attach_branching."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

import orlearn
from orlearn.branching.loader import load_branching_policy
from orlearn.branching.published import KEYS, gnn_from_rl2branch, is_rl2branch_state_dict
from orlearn.errors import PolicyFileError

RL2BRANCH = Path(
    os.environ.get(
        "ORLEARN_RL2BRANCH", Path(__file__).resolve().parents[2] / "../shared/benchmarks/rl2branch"
    )
)


def synthetic_state(seed: int = 0, emb: int = 8) -> dict[str, torch.Tensor]:
    """A random state dict with rl2branch's GNNPolicy key layout (5 row, 1 edge, 19 column
    features); PreNorm scales positive, as fitted ones are."""
    g = torch.Generator().manual_seed(seed)
    shapes = {
        "cons_embedding.0.shift": (5,), "cons_embedding.0.scale": (5,),
        "cons_embedding.1.weight": (emb, 5), "cons_embedding.1.bias": (emb,),
        "cons_embedding.3.weight": (emb, emb), "cons_embedding.3.bias": (emb,),
        "edge_embedding.0.shift": (1,), "edge_embedding.0.scale": (1,),
        "var_embedding.0.shift": (19,), "var_embedding.0.scale": (19,),
        "var_embedding.1.weight": (emb, 19), "var_embedding.1.bias": (emb,),
        "var_embedding.3.weight": (emb, emb), "var_embedding.3.bias": (emb,),
        "output_module.0.weight": (emb, emb), "output_module.0.bias": (emb,),
        "output_module.2.weight": (1, emb),
    }  # fmt: skip
    for conv in ("conv_v_to_c", "conv_c_to_v"):
        shapes |= {
            f"{conv}.feature_module_left.0.weight": (emb, emb), f"{conv}.feature_module_left.0.bias": (emb,),
            f"{conv}.feature_module_edge.0.weight": (emb, 1), f"{conv}.feature_module_right.0.weight": (emb, emb),
            f"{conv}.feature_module_final.0.scale": (1,), f"{conv}.feature_module_final.2.weight": (emb, emb),
            f"{conv}.feature_module_final.2.bias": (emb,), f"{conv}.post_conv_module.0.scale": (1,),
            f"{conv}.output_module.0.weight": (emb, 2 * emb), f"{conv}.output_module.0.bias": (emb,),
            f"{conv}.output_module.2.weight": (emb, emb), f"{conv}.output_module.2.bias": (emb,),
        }  # fmt: skip
    state = {}
    for k, shape in shapes.items():
        t = torch.randn(shape, generator=g) * 0.5
        state[k] = t.abs() + 0.1 if k.endswith("scale") else t
    return state


def reference_logits(state, cons, edge_index, edge_attr, var) -> torch.Tensor:
    """rl2branch's forward pass written out plainly from its description (no torch-geometric)."""

    def lin(x, name, bias=True):
        y = x @ state[f"{name}.weight"].T
        return y + state[f"{name}.bias"] if bias else y

    def prenorm(x, name):
        return (x + state[f"{name}.shift"]) * state[f"{name}.scale"]

    def conv(name, src, edges, e, dst):
        j, i = edges  # messages from source j to target i
        z = lin(dst, f"{name}.feature_module_left.0")[i] + lin(e, f"{name}.feature_module_edge.0", False)
        z = z + lin(src, f"{name}.feature_module_right.0", False)[j]
        msg = lin(torch.relu(z * state[f"{name}.feature_module_final.0.scale"]), f"{name}.feature_module_final.2")
        agg = torch.zeros(dst.shape[0], msg.shape[1]).index_add_(0, i, msg)
        agg = agg * state[f"{name}.post_conv_module.0.scale"]
        h = torch.relu(lin(torch.cat([agg, dst], -1), f"{name}.output_module.0"))
        return lin(h, f"{name}.output_module.2")

    c = torch.relu(lin(torch.relu(lin(prenorm(cons, "cons_embedding.0"), "cons_embedding.1")), "cons_embedding.3"))
    v = torch.nan_to_num(var, nan=0.0)
    v = torch.relu(lin(torch.relu(lin(prenorm(v, "var_embedding.0"), "var_embedding.1")), "var_embedding.3"))
    e = prenorm(edge_attr, "edge_embedding.0")
    c = conv("conv_v_to_c", v, edge_index.flip(0), e, c)
    v = conv("conv_c_to_v", c, edge_index, e, v)
    h = torch.relu(lin(v, "output_module.0"))
    return lin(h, "output_module.2", False).squeeze(-1)


def _graph(seed: int, n_cons: int = 7, n_vars: int = 11, n_edges: int = 30):
    g = torch.Generator().manual_seed(seed)
    edges = torch.stack([torch.randint(n_cons, (n_edges,), generator=g), torch.randint(n_vars, (n_edges,), generator=g)])
    return (
        torch.randn(n_cons, 5, generator=g),
        edges,
        torch.randn(n_edges, 1, generator=g),
        torch.randn(n_vars, 19, generator=g),
    )


def test_loaded_state_dict_gives_the_published_models_logits():
    from orlearn.branching.model import BipartiteData

    state = synthetic_state()
    assert is_rl2branch_state_dict(state) and set(state) == KEYS
    gnn = gnn_from_rl2branch(state)
    cons, edges, attr, var = _graph(1)
    var[2, 13] = float("nan")  # no incumbent yet: read as 0 by both
    expected = reference_logits(state, cons, edges, attr, var)
    data = BipartiteData(x_c=cons, x_v=torch.nan_to_num(var, nan=0.0), edge_index=edges, edge_attr=attr)
    with torch.no_grad():
        full = gnn(data)
        some = gnn(data, torch.tensor([9, 0, 4]))  # the candidate-only scoring path
    torch.testing.assert_close(full, expected, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(some, expected[[9, 0, 4]], rtol=1e-4, atol=1e-5)


def test_synthetic_file_loads_through_attach_branching(tmp_path, tiny):
    path = tmp_path / "setcover" / "il.pkl"
    path.parent.mkdir()
    torch.save(synthetic_state(3), path)
    model = tiny.configure(tiny.setcover(1))
    rule = orlearn.attach_branching(model, str(path))
    model.optimize()
    stats = rule.stats()
    assert model.getStatus() == "optimal"
    assert stats["policy"] == "setcover/il" and stats["learned_calls"] == stats["calls"] > 0


def test_unrecognised_files_are_refused_in_one_line(tmp_path):
    state = synthetic_state()
    cases = {
        "missing.pkl": None,
        "text.pkl": b"not a torch file",
        "other.pkl": {"weight": torch.zeros(2)},
        "extra.pkl": {**state, "extra.weight": torch.zeros(1)},
    }
    for name, content in cases.items():
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        elif content is not None:
            torch.save(content, path)
        with pytest.raises(PolicyFileError) as err:
            load_branching_policy(path)
        assert "\n" not in str(err.value) and str(path) in str(err.value)
    bad = dict(state)
    bad["var_embedding.1.weight"] = torch.zeros(8, 20)  # 20 column features: not Ecole's 19
    torch.save(bad, tmp_path / "shape.pkl")
    with pytest.raises(PolicyFileError, match="does not fit"):
        load_branching_policy(tmp_path / "shape.pkl")


@pytest.mark.parametrize("problem", ["setcover", "cauctions"])
def test_real_il_pkl_scores_a_node(problem, tiny):
    path = RL2BRANCH / problem / "il.pkl"
    if not path.is_file():
        pytest.skip(f"rl2branch policies not found at {RL2BRANCH} (set ORLEARN_RL2BRANCH)")
    policy = load_branching_policy(path)
    model = tiny.configure(tiny.setcover(2))
    scores = []
    obs_fn = policy.observation_function()

    def look(m):
        obs = obs_fn.extract(m)
        with torch.no_grad():
            scores.append(policy.scores(obs).numpy())

    spy = tiny.spy_on(model, look, limit=3)
    model.optimize()
    assert not spy.errors, spy.errors
    assert scores and all(np.isfinite(s).all() and s.std() > 0 for s in scores)


def test_solve_cli_detects_the_format_and_refuses_other_files(tmp_path, market_split, capsys, recwarn):
    from orlearn.cli import main

    market_split(tmp_path / "tiny.mps", 2, 12, 0)  # needs branching under any settings
    policy = tmp_path / "setcover" / "il.pkl"
    policy.parent.mkdir()
    torch.save(synthetic_state(5), policy)
    out = tmp_path / "r.jsonl"
    argv = ["milp", "solve", str(tmp_path / "tiny.mps"), "-b", str(policy), "--time-limit", "60", "-o", str(out), "-q"]
    assert main(argv) == 0
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["status"] == "optimal" and record["branching_stats"]["learned_calls"] > 0
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"\x80\x04not a policy")
    capsys.readouterr()
    assert main(["milp", "solve", str(tmp_path / "tiny.mps"), "-b", str(junk), "-o", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("orlearn: error:") and "\n" not in err and "rl2branch" in err
    assert not [w for w in recwarn if "pickle protocol" in str(w.message)]


@pytest.fixture(scope="module")
def tiny_observation(request):
    """One NodeBipartite observation at the first branching node of a tiny set cover."""
    from orlearn.branching.ecole_observation import NodeBipartite

    tiny = request.getfixturevalue("tiny")
    model = tiny.configure(tiny.setcover(2))
    obs_fn = NodeBipartite()
    spy = tiny.spy_on(model, obs_fn.extract, limit=1)
    model.optimize()
    assert not spy.errors, spy.errors
    return spy.records[0]


@pytest.mark.parametrize("problem", ["setcover", "cauctions", "indset", "ufacilities", "mknapsack"])
def test_published_rl_policies_load_like_il_and_score_differently(problem, tiny_observation):
    """mdp.pkl and tmdp+{DFS,ObjLim}.pkl share il.pkl's layout (their PreNorm layers were never
    fitted: shift 0, scale 1) and load through the same rule; their logits are their own."""
    if not (RL2BRANCH / problem / "il.pkl").is_file():
        pytest.skip(f"rl2branch policies not found at {RL2BRANCH} (set ORLEARN_RL2BRANCH)")
    logits = {}
    for stem in ("il", "mdp", "tmdp+DFS", "tmdp+ObjLim"):
        policy = load_branching_policy(RL2BRANCH / problem / f"{stem}.pkl")
        assert policy.name == f"{problem}/{stem}"
        with torch.no_grad():
            logits[stem] = policy.scores(tiny_observation).numpy()
        assert logits[stem].shape == tiny_observation.candidates.shape
        assert np.isfinite(logits[stem]).all() and logits[stem].std() > 0
    for stem in ("mdp", "tmdp+DFS", "tmdp+ObjLim"):
        assert not np.allclose(logits[stem], logits["il"], rtol=1e-3, atol=1e-4)
