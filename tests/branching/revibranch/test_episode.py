"""Episodes: a task that carries its files' bytes (Ray across machines) records the same episode
as one that reads them from the trainer's file system."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from orlearn.branching.loader import load_branching_policy
from orlearn.branching.revibranch.episode import EpisodeTask, run_episode
from orlearn.branching.revibranch.policy import from_imitation, save_rl_policy


def test_shipped_task_needs_no_shared_files(instance_dir: Path, imitation_policy: Path, tmp_path: Path) -> None:
    net = from_imitation(load_branching_policy(imitation_policy).model, heads=2, max_path=4)
    policy = save_rl_policy(tmp_path / "rl.pt", net)
    instance = sorted(instance_dir.glob("*.mps.gz"))[0]
    task = EpisodeTask(instance=str(instance), policy=str(policy), seed=3, epsilon=0.2, time_limit=30.0)
    from_files = run_episode(task)
    # Names that do not exist on the worker: only the bytes inside the task are used.
    shipped = replace(task.shipped(), instance="/nowhere/mkp.mps.gz", policy="/nowhere/rl.pt")
    from_bytes = run_episode(shipped)
    assert from_files.complete and from_files.decisions
    assert from_bytes.instance == "/nowhere/mkp.mps.gz" and from_bytes.status == from_files.status
    assert (from_bytes.nodes, from_bytes.lp_iterations) == (from_files.nodes, from_files.lp_iterations)
    assert [(d.node, d.action) for d in from_bytes.decisions] == [(d.node, d.action) for d in from_files.decisions]
