"""Training pieces: the validation split, the loss, top-k accuracy with ties, shards."""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Batch

from orlearn.branching.dataset import ShardWriter, find_shards, load_shard, shard_to_data
from orlearn.branching.model import BipartiteData, BranchingGNN
from orlearn.branching.observation import Observation
from orlearn.branching.train import candidate_logits, imitation_loss, split_shards, topk_hits
from orlearn.errors import OrlearnError


@given(st.lists(st.integers(2, 12), min_size=1, max_size=4), st.integers(0, 10**6))
@settings(max_examples=40, deadline=None)
def test_split_is_by_instance_and_per_distribution(counts, seed):
    payloads = [{"distribution": f"d{i}"} for i, c in enumerate(counts) for _ in range(c)]
    train, valid = split_shards(payloads, 0.2, seed)
    assert sorted(train + valid) == list(range(len(payloads)))
    for i in range(len(counts)):
        members = {j for j, p in enumerate(payloads) if p["distribution"] == f"d{i}"}
        assert members & set(valid) and members & set(train)
    assert split_shards(payloads, 0.2, seed) == (train, valid)


def test_split_needs_two_instances_per_distribution():
    with pytest.raises(OrlearnError, match="at least 2"):
        split_shards([{"distribution": "a"}], 0.2, 0)


def _sample(n_vars, cands, scores, choice):
    return BipartiteData(
        x_c=torch.zeros(1, 9), x_v=torch.zeros(n_vars, 20),
        edge_index=torch.zeros(2, 0, dtype=torch.long), edge_attr=torch.zeros(0, 1),
        candidates=torch.tensor(cands), cand_scores=torch.tensor(scores, dtype=torch.float64),
        y=torch.tensor([cands[choice]]), n_cands=torch.tensor([len(cands)]), num_nodes=n_vars,
    )  # fmt: skip


def test_loss_and_topk_on_a_hand_made_batch():
    batch = Batch.from_data_list(
        [_sample(4, [1, 3], [2.0, 5.0], 1), _sample(3, [0, 1, 2], [1.0, 1.0, 0.5], 0)],
        follow_batch=["candidates"],
    )
    logits = torch.tensor([0.0, 1.0, 9.0, 0.0, 2.0, 2.0, 5.0])
    # Sample 1: softmax over (1.0, 0.0), target the second; sample 2: over (2, 2, 5), target 1st.
    expected = -(
        (0.0 - math.log(math.exp(1) + 1)) + (2.0 - math.log(2 * math.exp(2) + math.exp(5)))
    ) / 2
    assert float(imitation_loss(logits, batch)) == pytest.approx(expected, rel=1e-6)
    # Top-1: sample 1 picks column 1 (score 2 < 5): wrong; sample 2 picks the 0.5: wrong.
    # Top-3: both right; the tie in sample 2 means either of its first two columns counts.
    np.testing.assert_array_equal(topk_hits(logits, batch, ks=(1, 2, 3)), [0, 2, 2])


def test_shard_round_trip_and_version_check(tmp_path):
    obs = Observation(
        var_features=np.ones((4, 20), np.float32), cons_features=np.ones((2, 9), np.float32),
        edge_index=np.array([[0, 1, 1], [0, 2, 3]]), edge_features=np.ones((3, 1), np.float32),
        candidates=np.array([2, 3]),
    )  # fmt: skip
    writer = ShardWriter(instance="x.mps", distribution="toy")
    writer.add(obs, np.array([1.0, 4.0]), depth=0, node=1)
    writer.add(obs, np.array([3.0, 0.0]), depth=1, node=2)
    path = writer.save(tmp_path / "a.shard.pt", {"expert_prob": 1.0})
    payload = load_shard(path)
    assert len(payload["edges"]) == 1  # shared by both samples
    data = shard_to_data(payload)
    assert [int(d.y) for d in data] == [3, 2]
    assert find_shards([tmp_path]) == [path]
    payload["feature_version"] += 1
    torch.save(payload, tmp_path / "b.shard.pt")
    with pytest.raises(OrlearnError, match="version"):
        load_shard(tmp_path / "b.shard.pt")
    with pytest.raises(OrlearnError, match="no such data"):
        find_shards([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(OrlearnError, match="no branching shards"):
        find_shards([tmp_path / "empty"])


def test_training_on_candidate_logits_is_training_on_all_logits():
    """The trainer scores only the candidates: same loss, same gradients as scoring all."""
    gen = torch.Generator().manual_seed(3)

    def sample(n_cons, n_vars, n_edges, cands):
        data = _sample(n_vars, cands, [float(c) for c in cands], len(cands) - 1)
        data.x_c = torch.randn(n_cons, 9, generator=gen)
        data.x_v = torch.randn(n_vars, 20, generator=gen)
        data.edge_index = torch.stack([torch.randint(0, n_cons, (n_edges,), generator=gen),
                                       torch.randint(0, n_vars, (n_edges,), generator=gen)])
        data.edge_attr = torch.randn(n_edges, 1, generator=gen)
        return data

    batch = Batch.from_data_list([sample(4, 7, 15, [1, 4, 6]), sample(3, 5, 9, [0, 2])],
                                 follow_batch=["candidates"])
    torch.manual_seed(0)
    model = BranchingGNN(emb=8).double()
    for key in ("x_c", "x_v", "edge_attr"):
        batch[key] = batch[key].double()
    grads = []
    for logits_of in (lambda: model(batch), lambda: candidate_logits(model, batch)):
        model.zero_grad()
        loss = imitation_loss(logits_of(), batch)
        loss.backward()
        grads.append((loss.item(), [p.grad.clone() for p in model.parameters()]))
    assert grads[0][0] == pytest.approx(grads[1][0], rel=1e-12)
    for full, cand in zip(grads[0][1], grads[1][1], strict=True):
        assert torch.allclose(full, cand, atol=1e-12)
