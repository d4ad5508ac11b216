"""BQ-PerceiverIO: shapes, masks, the attention formula, the BQ invariances, training."""

from __future__ import annotations

import math

import pytest
import torch

from orlearn.construct.model import build_model, load_model, policy_logits
from orlearn.construct.perceiver import HeadwiseAttention, PerceiverPolicy
from orlearn.construct.problems import get_problem
from orlearn.construct.train import TrainConfig, train
from orlearn.errors import OrlearnError

TINY = {"d_model": 16, "n_layers": 2, "n_heads": 2, "d_ff": 24, "latent_len": 5, "latent_dim": 8}


def tiny(problem: str, seed: int = 0) -> PerceiverPolicy:
    torch.manual_seed(seed)
    model = build_model(get_problem(problem), {"arch": "perceiver", **TINY})
    for p in model.parameters():  # non-zero biases too, so every parameter matters
        torch.nn.init.normal_(p, std=0.3)
    return model.eval()


def test_headwise_attention_is_the_per_head_formula():
    torch.manual_seed(1)
    att = HeadwiseAttention(source_dim=6, target_dim=4, n_heads=3)
    for p in att.parameters():
        torch.nn.init.normal_(p)
    s, t = torch.randn(2, 7, 6), torch.randn(2, 5, 4)
    expected = torch.zeros(2, 5, 4)
    for h in range(3):
        q = t @ att.query[h]
        k = s @ att.key[h] + att.key_bias[h]
        v = s @ att.value[h] + att.value_bias[h]
        w = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(2), dim=-1)  # head_dim = 6 / 3
        expected += (w @ v) @ att.out[h].T
    assert torch.allclose(att(s, t), expected, atol=1e-5)


@pytest.mark.parametrize("name,actions", [("tsp", 1), ("cvrp", 2)])
def test_shapes_and_masks(name, actions):
    p = get_problem(name)
    model = tiny(name)
    state = p.initial_state(p.generate(12, 3, 0))
    logits = policy_logits(model, p, state)
    assert logits.shape == (3, state.size * actions)
    mask = p.mask(state).reshape(3, -1)
    assert torch.isinf(logits[~mask]).all() and torch.isfinite(logits[mask]).all()
    assert sum(v.numel() for v in model.parameters()) > 0


@pytest.mark.parametrize("name", ["tsp", "cvrp"])
def test_equivariant_to_the_order_of_the_remaining_nodes(name):
    """No positional encoding: permuting the remaining tokens permutes their scores."""
    p = get_problem(name)
    model = tiny(name)
    state = p.step(p.initial_state(p.generate(10, 2, 1)), torch.tensor([4, 6]))  # one step in
    perm = torch.cat([torch.arange(2), 2 + torch.randperm(state.size - 2, generator=torch.Generator().manual_seed(0))])
    shuffled = type(state)(**{
        k: (v[:, perm] if isinstance(v, torch.Tensor) and v.dim() >= 2 and v.shape[1] == state.size else v)
        for k, v in vars(state).items()
    })
    a = p.actions_per_token
    base = policy_logits(model, p, state).reshape(2, -1, a)
    moved = policy_logits(model, p, shuffled).reshape(2, -1, a)
    assert torch.allclose(base[:, perm], moved, atol=1e-5)


def test_markers_tell_origin_from_destination():
    p = get_problem("tsp")
    model = tiny("tsp")
    state = p.step(p.initial_state(p.generate(8, 1, 2)), torch.tensor([3]))
    swapped = type(state)(state.coords[:, [1, 0, *range(2, state.size)]], state.ids)
    assert not torch.allclose(policy_logits(model, p, state), policy_logits(model, p, swapped))


def test_bq_state_after_a_prefix_gives_the_same_scores(h):
    """The reduced state of a prefix (training) and the state reached step by step (decoding)
    are the same sub-problem, so the perceiver scores them the same."""
    p = get_problem("cvrp")
    model = tiny("cvrp")
    inst = p.generate(9, 2, 3)
    states, rows = h.random_rollout("cvrp", inst, seed=0)
    for t in (1, 4):
        reduced = p.reduce(p.initial_state(inst), rows[:, :t])
        assert torch.allclose(policy_logits(model, p, reduced), policy_logits(model, p, states[t]), atol=1e-5)


def test_unavailable_for_other_problems():
    with pytest.raises(OrlearnError, match="perceiver"):
        build_model(get_problem("kp"), {"arch": "perceiver"})
    with pytest.raises(OrlearnError, match="unknown architecture"):
        build_model(get_problem("tsp"), {"arch": "lstm"})


def test_trains_and_reloads_as_an_orlearn_policy(tmp_path):
    torch.set_num_threads(1)
    cfg = TrainConfig(problem="tsp", out=str(tmp_path / "p.pt"), n=8, train_instances=6,
                      val_instances=2, label_time=0.02, batch_size=8, epochs=1, steps_per_epoch=3,
                      arch="perceiver", cache_dir=str(tmp_path / "labels"),
                      run_dir=str(tmp_path / "run"), **TINY)
    path = train(cfg, show_progress=False)
    p = get_problem("tsp")
    model, meta = load_model(str(path), p)
    assert isinstance(model, PerceiverPolicy) and model.hyperparameters == {"arch": "perceiver", **TINY}
    ck = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    state = p.initial_state(p.generate(8, 2, 5))
    fresh = build_model(p, {"arch": "perceiver", **TINY})
    fresh.load_state_dict(ck["states"]["model"])
    assert torch.allclose(policy_logits(model, p, state), policy_logits(fresh.eval(), p, state))
