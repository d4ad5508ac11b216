"""Recorded episodes: consequences add up, the buffer rebuilds every ancestor path, failed
episodes are refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from orlearn.branching.loader import load_branching_policy
from orlearn.branching.revibranch.buffer import RevivedBuffer
from orlearn.branching.revibranch.episode import (
    EpisodeTask,
    dual_gain,
    failed_episode,
    run_episode,
)
from orlearn.branching.revibranch.policy import from_imitation, save_rl_policy
from orlearn.branching.revibranch.rewards import decision_returns, decision_stakes


@pytest.fixture(scope="module")
def rl_policy(imitation_policy: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    net = from_imitation(load_branching_policy(imitation_policy).model, heads=2, max_path=4)
    return save_rl_policy(tmp_path_factory.mktemp("rl") / "rl.pt", net)


@pytest.fixture(scope="module")
def episode(instance_dir: Path, rl_policy: Path):
    inst = instance_dir / "mkp_0.mps.gz"
    return run_episode(EpisodeTask(instance=str(inst), policy=str(rl_policy), seed=1, epsilon=0.3))


def test_episode_consequences_add_up(episode) -> None:
    assert episode.complete and len(episode.decisions) >= 8
    root = episode.decisions[0]
    assert root.node == 1 and root.parent == -1
    # Every processed node is charged to exactly one decision; LP iterations are all counted.
    assert len(episode.parents) == episode.nodes
    assert sum(d.local_nodes for d in episode.decisions) == episode.nodes
    assert root.subtree_nodes == episode.nodes
    assert root.subtree_lp == episode.lp_iterations
    for d in episode.decisions:
        assert 0.0 <= d.gain <= 1.0
        assert d.local_nodes >= 1 and d.subtree_nodes >= d.local_nodes
        assert len(d.children) == 2
        assert 0 <= d.action < d.cand.shape[0] == d.candidates.shape[0]


def _true_ancestors(node: int, parents: dict[int, int], decision_nodes: set[int]) -> list[int]:
    """Decision nodes above ``node``, root first, from the event handler's node log."""
    path = []
    p = parents[node]
    while p >= 0:
        if p in decision_nodes:
            path.append(p)
        p = parents[p]
    return path[::-1]


def test_buffer_rebuilds_every_ancestor_path(episode) -> None:
    buffer = RevivedBuffer()
    assert buffer.add(episode, decision_returns(episode), decision_stakes(episode))
    decision_nodes = {d.node for d in episode.decisions}
    assert len(buffer) == len(episode.decisions)
    depths = []
    for i in range(len(buffer)):
        expected = _true_ancestors(buffer.node(i), episode.parents, decision_nodes)
        assert [buffer.node(a) for a in buffer.ancestors(i)] == expected
        assert [buffer.node(a) for a in buffer.ancestors(i, max_len=2)] == expected[-2:]
        depths.append(len(expected))
    assert max(depths) >= 3  # the tree is deep enough for the check to mean something
    # Each state is stored once: memory grows with decisions, not with path lengths.
    assert sum(b.state.shape[0] for b in buffer._blocks) == len(episode.decisions)
    batch, actions, targets, stakes = buffer.batch(range(len(buffer)), max_path=16)
    i = int(np.argmax(depths))
    assert int(batch.anc_mask[i].sum()) == depths[i]
    anc = buffer.ancestors(i)
    np.testing.assert_allclose(batch.anc_state[i, 0].numpy(), episode.decisions[anc[0]].state)
    assert torch.equal(actions, torch.tensor([d.action for d in episode.decisions]))
    np.testing.assert_allclose(targets.numpy(), decision_returns(episode), rtol=1e-6)
    np.testing.assert_allclose(stakes.numpy(), decision_stakes(episode), rtol=1e-6)
    no_path, _, _, _ = buffer.batch([i], max_path=16, revival=False)
    assert no_path.anc_state.shape[1] == 0


def test_time_limit_and_crashed_episodes_do_not_enter_the_buffer(
    episode, instance_dir: Path, rl_policy: Path
) -> None:
    inst = instance_dir / "mkp_2.mps.gz"
    task = EpisodeTask(instance=str(inst), policy=str(rl_policy), seed=0, time_limit=0.05)
    cut = run_episode(task)
    assert cut.status == "timelimit" and not cut.complete
    crashed = failed_episode(task, "crash", "worker killed by signal SIGKILL")
    buffer = RevivedBuffer()
    buffer.add(episode, decision_returns(episode), decision_stakes(episode))
    state = buffer.state_dict()
    assert not buffer.add(cut, [], [])
    assert not buffer.add(crashed, [], [])
    assert buffer.rejected == {"timelimit": 1, "crash": 1}
    assert len(buffer) == len(episode.decisions)
    assert [b["nodes"].tolist() for b in buffer.state_dict()["blocks"]] == [
        b["nodes"].tolist() for b in state["blocks"]
    ]


def test_buffer_capacity_drops_oldest_episodes_and_round_trips(episode) -> None:
    n = len(episode.decisions)
    buffer = RevivedBuffer(capacity=n + 1)
    returns, stakes = decision_returns(episode), decision_stakes(episode)
    buffer.add(episode, returns, stakes)
    buffer.add(episode, returns * 2, stakes * 3)
    assert buffer.episodes == 1 and len(buffer) == n
    copy = RevivedBuffer()
    copy.load_state_dict(buffer.state_dict())
    _, _, targets, copied_stakes = copy.batch(range(n), max_path=4)
    np.testing.assert_allclose(targets.numpy(), 2 * returns, rtol=1e-6)
    np.testing.assert_allclose(copied_stakes.numpy(), 3 * stakes, rtol=1e-6)
    assert [copy.ancestors(i) for i in range(n)] == [buffer.ancestors(i) for i in range(n)]


def test_dual_gain() -> None:
    assert dual_gain(10.0, [12.0, 14.0], 20.0) == pytest.approx(0.3)
    assert dual_gain(10.0, [float("inf"), 15.0], 20.0) == pytest.approx(0.75)  # pruned child
    assert dual_gain(10.0, [12.0], 1e20) == 0.0  # no primal solution: no gain measured
    assert dual_gain(20.0, [20.0, 20.0], 20.0) == 1.0  # no gap left
