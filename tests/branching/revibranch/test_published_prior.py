"""ReviBranch from a published rl2branch imitation policy (``il.pkl``): the RL policy reads its
prior's Ecole observation, starts at the prior's choices, and trains through the CLI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from orlearn.branching.ecole_observation import NodeBipartite
from orlearn.branching.loader import load_branching_policy
from orlearn.branching.plugin import solve
from orlearn.branching.published import KEYS, PublishedPolicy
from orlearn.branching.revibranch.policy import from_imitation, load_rl_policy, save_rl_policy
from orlearn.cli import main

RL2BRANCH = Path(
    os.environ.get(
        "ORLEARN_RL2BRANCH", Path(__file__).resolve().parents[3] / "../shared/benchmarks/rl2branch"
    )
)
TRAIN_ARGS = [
    "--rounds", "1", "--episodes", "3", "--updates", "4", "--batch-size", "8", "--lr", "1e-3",
    "--max-path", "4", "--time-limit", "30",
]  # fmt: skip


def il_pkl_state(emb: int = 8, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the layout of rl2branch's GNNPolicy state dict (an ``il.pkl``): Ecole's
    5 row, 1 edge and 19 column features; PreNorm scales positive, as fitted ones are."""
    g = torch.Generator().manual_seed(seed)
    n = {"cons": 5, "edge": 1, "var": 19}

    def shape(key: str) -> tuple[int, ...]:
        name, param = key.rsplit(".", 1)
        side = key.split("_", 1)[0]
        if name.endswith("_embedding.0"):  # PreNorm shift, scale
            return (n[side],)
        if name.endswith(("_embedding.1",)):
            return (emb, n[side]) if param == "weight" else (emb,)
        if name.endswith(("final.0", "post_conv_module.0")):  # fixed scalars
            return (1,)
        if name.endswith("feature_module_edge.0"):
            return (emb, 1)
        if name.endswith("conv_v_to_c.output_module.0") or name.endswith("conv_c_to_v.output_module.0"):
            return (emb, 2 * emb) if param == "weight" else (emb,)
        if name == "output_module.2":
            return (1, emb)
        return (emb, emb) if param == "weight" else (emb,)

    state = {}
    for key in sorted(KEYS):
        t = torch.randn(shape(key), generator=g) * 0.5
        state[key] = t.abs() + 0.1 if key.endswith(("scale",)) else t
    return state


@pytest.fixture(scope="module")
def il_pkl(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("rl2branch") / "mknapsack" / "il.pkl"
    path.parent.mkdir()
    torch.save(il_pkl_state(), path)
    return path


def _trees(instance: Path, rules: list[str]) -> list[tuple[str, int, int, dict]]:
    out = []
    for rule in rules:
        r = solve(instance, rule, settings="gasse")
        out.append((r.status, r.nodes, r.lp_iterations, r.branching_stats))
    return out


def test_rl_network_from_il_pkl_reads_ecole_and_starts_at_the_prior(
    il_pkl: Path, instance_dir: Path, tmp_path: Path
) -> None:
    prior = load_branching_policy(il_pkl)
    assert isinstance(prior, PublishedPolicy)
    net = from_imitation(prior, heads=2, max_path=4)
    assert net.observation == "ecole" and isinstance(net.observation_function(), NodeBipartite)
    assert net.hyperparameters()["gnn"] == {"n_cons": 5, "n_var": 19, "post": "scale"}
    path = save_rl_policy(tmp_path / "rl.pt", net)
    loaded = load_rl_policy(path)
    assert isinstance(loaded.observation_function(), NodeBipartite)
    assert loaded.net.hyperparameters() == net.hyperparameters()
    assert all(torch.equal(v, loaded.net.state_dict()[k]) for k, v in net.state_dict().items())
    # Untrained, the RL rule builds the prior's search tree node for node (NaN incumbent
    # features read as 0 on both sides).
    for seed in (0, 2):
        instance = instance_dir / f"mkp_{seed}.mps.gz"
        (il, rl) = _trees(instance, [str(il_pkl), str(path)])
        assert il[0] == rl[0] == "optimal" and il[1] > 1
        assert il[:3] == rl[:3]
        assert rl[3]["learned_calls"] == il[3]["learned_calls"] > 0 and rl[3]["fallbacks"] == 0


def test_train_rl_cli_from_il_pkl(il_pkl: Path, instance_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "rl.pt"
    argv = ["branching", "train-rl", str(instance_dir), "--init", str(il_pkl), "-o", str(out)]
    assert main(argv + TRAIN_ARGS + ["--eval", str(instance_dir), "--eval-every", "1"]) == 0
    trained = load_rl_policy(out)
    assert trained.metadata["rounds"] == 1 and trained.metadata["decisions_in_buffer"] > 0
    assert "ecole observation" in trained.metadata["origin"]
    assert isinstance(trained.observation_function(), NodeBipartite)
    start = from_imitation(load_branching_policy(il_pkl), max_path=4)
    changed = [k for k, v in trained.net.state_dict().items() if not torch.equal(v, start.state_dict()[k])]
    assert any(k.startswith("advantage") for k in changed)
    assert not any(k.startswith("gnn.") for k in changed)  # the published GNN stays as it was
    ((status, nodes, _, stats),) = _trees(instance_dir / "mkp_3.mps.gz", [str(out)])
    assert status == "optimal" and nodes > 1
    assert stats["learned_calls"] > 0 and stats["fallbacks"] == 0
    # The trained file continues its own training with the observation it was made with.
    assert main(argv[:3] + ["--init", str(out), "-o", str(tmp_path / "more.pt")] + TRAIN_ARGS) == 0
    assert isinstance(load_rl_policy(tmp_path / "more.pt").observation_function(), NodeBipartite)


def test_real_mknapsack_il_pkl_as_the_prior(instance_dir: Path, tmp_path: Path) -> None:
    """The published mknapsack policy: the untrained RL network builds its trees, and a
    one-round training run from it gives a valid policy."""
    il = RL2BRANCH / "mknapsack" / "il.pkl"
    if not il.is_file():
        pytest.skip(f"rl2branch policies not found at {RL2BRANCH} (set ORLEARN_RL2BRANCH)")
    net = from_imitation(load_branching_policy(il), max_path=4)
    assert net.emb == 64 and net.observation == "ecole"
    untrained = save_rl_policy(tmp_path / "untrained.pt", net)
    (a, b) = _trees(instance_dir / "mkp_0.mps.gz", [str(il), str(untrained)])
    assert a[:3] == b[:3] and a[0] == "optimal"
    out = tmp_path / "rl.pt"
    argv = ["branching", "train-rl", str(instance_dir), "--init", str(il), "-o", str(out)]
    assert main(argv + TRAIN_ARGS) == 0
    ((status, _, _, stats),) = _trees(instance_dir / "mkp_2.mps.gz", [str(out)])
    assert status == "optimal" and stats["fallbacks"] == 0
