"""Loading the BQ-NCO authors' PerceiverIO checkpoints: name map, shapes, errors, real files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from orlearn.cli import main
from orlearn.construct import bqnco, solve
from orlearn.construct.model import load_model, policy_logits
from orlearn.construct.perceiver import PerceiverPolicy
from orlearn.construct.perceiver import inputs as perceiver_inputs
from orlearn.construct.problems import get_problem
from orlearn.errors import PolicyFileError

ROOT = Path(__file__).resolve().parents[2]
# Third-party weights, for tests only (never in the project): skipped where absent.
BQNCO = Path(os.environ.get("ORLEARN_BQNCO_DIR", ROOT.parent / "shared" / "benchmarks" / "bqnco"))
TINY = {"d_model": 16, "n_layers": 2, "n_heads": 2, "d_ff": 24, "latent_len": 5, "latent_dim": 8}
INSTANCES = ROOT / "instances" / "construct"


def synthetic(problem: str, tmp_path: Path, seed: int = 0) -> Path:
    """A tiny random checkpoint in the authors' layout, written like theirs (torch.save)."""
    torch.manual_seed(seed)
    model = PerceiverPolicy(problem, **TINY)
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.3)
    path = tmp_path / f"{problem}_tiny.best"
    torch.save(bqnco.to_checkpoint(model), path)
    return path


def reference_scores(net: dict, x: torch.Tensor, begin: int, end: int) -> torch.Tensor:
    """The authors' forward pass written from the paper's formulas on their tensor names:
    per-head key/query maps lambda1/lambda2, value/output maps theta1/theta2, softmax over the
    source tokens, pre-LayerNorm blocks, ReLU feed-forward."""

    def ln(prefix, v):
        return F.layer_norm(v, v.shape[-1:], net[prefix + ".weight"], net[prefix + ".bias"])

    def attention(p, src, tgt):
        hd = net[p + "lambda1"].shape[-1]
        r = torch.einsum("bmp,kpd->bmkd", src, net[p + "lambda1"]) + net[p + "bias_lambda"]
        dot = torch.einsum("bmkd,kqd,bnq->kbmn", r, net[p + "lambda2"], tgt) / hd**0.5
        w = torch.softmax(dot, dim=-2)
        r = torch.einsum("kbmn,bmp,kpd->bnkd", w, src, net[p + "theta1"]) + net[p + "bias_theta"]
        return torch.einsum("bnkd,kqd->bnq", r, net[p + "theta2"])

    def layer(p, src, tgt):
        s = attention(p + "attn.", ln(p + "layer_norm1", src), ln(p + "layer_norm2", tgt)) + tgt
        ff = F.linear(ln(p + "layer_norm3", s), net[p + "linear1.weight"], net[p + "linear1.bias"])
        return s + F.linear(F.relu(ff), net[p + "linear2.weight"], net[p + "linear2.bias"])

    emb = F.linear(x, net["input_emb.weight"], net["input_emb.bias"])
    emb[:, begin] += net["begin_end_tokens.weight"][0]
    emb[:, end] += net["begin_end_tokens.weight"][1]
    state = layer("encoder.", emb, net["latent_array"].expand(x.shape[0], -1, -1))
    for i in range(sum(k.endswith("linear1.bias") and k.startswith("layers.") for k in net)):
        state = layer(f"layers.{i}.", state, state)
    out = layer("decoder.", state, emb)
    return F.linear(out, net["scores_projection.weight"], net["scores_projection.bias"])


def test_checkpoint_layout_is_the_authors():
    names = set(bqnco.to_checkpoint(PerceiverPolicy("tsp", **{**TINY, "n_layers": 1}))["net"])
    block = {"attn.lambda1", "attn.lambda2", "attn.theta1", "attn.theta2", "attn.bias_lambda",
             "attn.bias_theta"} | {f"{m}.{w}" for m in ("layer_norm1", "layer_norm2", "layer_norm3",
                                                       "linear1", "linear2") for w in ("weight", "bias")}
    expected = {"latent_array", "begin_end_tokens.weight", "input_emb.weight", "input_emb.bias",
                "scores_projection.weight", "scores_projection.bias"}
    expected |= {f"{p}.{b}" for p in ("encoder", "layers.0", "decoder") for b in block}
    assert names == expected


@pytest.mark.parametrize("name,begin,end", [("tsp", 0, 1), ("cvrp", 1, 0)])
def test_loaded_model_computes_the_authors_forward(tmp_path, name, begin, end):
    path = synthetic(name, tmp_path)
    p = get_problem(name)
    model, meta = load_model(str(path), p)
    assert meta["licence"] == "CC BY-NC-SA 4.0" and model.hyperparameters["n_layers"] == 2
    state = p.step(p.initial_state(p.generate(9, 2, 0)), torch.tensor([5, 8]))
    x, _, _ = perceiver_inputs(name, state)
    net = torch.load(path, weights_only=True)["net"]
    want = reference_scores(net, x, begin, end).reshape(2, -1)
    got = policy_logits(model, p, state)
    mask = p.mask(state).reshape(2, -1)
    assert torch.allclose(got[mask], want[mask], atol=1e-4)


def test_wrong_problem_shape_or_file_is_one_clear_error(tmp_path):
    tsp = synthetic("tsp", tmp_path)
    with pytest.raises(PolicyFileError, match=r"for tsp \(2 input features.*cvrp \(4 input"):
        load_model(str(tsp), get_problem("cvrp"))
    with pytest.raises(PolicyFileError, match="tsp and cvrp only"):
        load_model(str(tsp), get_problem("kp"))
    ck = torch.load(tsp, weights_only=True)
    ck["net"]["layers.1.linear1.weight"] = torch.zeros(7, 8)
    torch.save(ck, tmp_path / "bad.best")
    with pytest.raises(PolicyFileError, match=r"layers.1.linear1.weight.*\(7, 8\), expected \(24, 8\)"):
        load_model(str(tmp_path / "bad.best"), get_problem("tsp"))
    del ck["net"]["layers.1.linear1.weight"]
    torch.save(ck, tmp_path / "short.best")
    with pytest.raises(PolicyFileError, match="lacks 1 tensors"):
        load_model(str(tmp_path / "short.best"), get_problem("tsp"))
    (tmp_path / "junk.best").write_bytes(b"not a checkpoint")
    torch.save({"net": {"w": torch.zeros(1)}}, tmp_path / "other.pt")
    for f in ("junk.best", "other.pt"):
        with pytest.raises(PolicyFileError, match=r"orlearn policy.*BQ-NCO"):
            load_model(str(tmp_path / f), get_problem("tsp"))


def test_cli_error_for_a_checkpoint_of_another_problem(tmp_path, capsys):
    tsp = synthetic("tsp", tmp_path)
    vrp = INSTANCES / "cvrplib" / "X-n101-k25.vrp"
    assert main(["construct", "solve", str(vrp), "--problem", "cvrp", "--policy", str(tsp),
                 "--out", str(tmp_path / "o.jsonl")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("orlearn: error:") and "for tsp" in err and len(err.splitlines()) == 1


def _real(name: str) -> Path:
    path = BQNCO / f"{name}_perceiver.best"
    if not path.is_file():
        pytest.skip(f"{path} absent (set ORLEARN_BQNCO_DIR to the folder of the authors' checkpoints)")
    return path


def test_real_tsp_checkpoint_gives_short_feasible_tours():
    torch.set_num_threads(1)
    p = get_problem("tsp")
    inst = p.generate(30, 4, 0)
    out = solve("tsp", inst, policy=_real("tsp"))
    assert all(sorted(r.solution) == list(range(30)) for r in out)
    # A trained policy, not noise: within 5 % of PyVRP's tours, far from a random tour's length.
    ref = [p.objective(i, p.expert(i, 0.2, 0)) for i in inst]
    gaps = [r.objective / f - 1 for r, f in zip(out, ref)]
    assert np.mean(gaps) < 0.05


def test_real_cvrp_checkpoint_gives_feasible_routes():
    torch.set_num_threads(1)
    p = get_problem("cvrp")
    inst = p.generate(20, 3, 0)
    out = solve("cvrp", inst, policy=_real("cvrp"), beam=2)
    assert all(p.check(i, r.solution) is None for i, r in zip(inst, out))
    ref = [p.objective(i, p.expert(i, 0.2, 0)) for i in inst]
    assert np.mean([r.objective / f - 1 for r, f in zip(out, ref)]) < 0.15
