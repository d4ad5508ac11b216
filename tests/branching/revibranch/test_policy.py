"""The Q-network starts at the imitation policy and cannot stray from it further than its
KL trust region allows; policy files round-trip and refuse mismatches."""

from __future__ import annotations

from pathlib import Path

import pyscipopt as scip
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from orlearn.branching.loader import load_branching_policy
from orlearn.branching.observation import FEATURE_VERSION, Observation, ObservationBuilder
from orlearn.branching.revibranch.policy import (
    PathBatch,
    RevivedQNet,
    from_imitation,
    load_rl_policy,
    policy_file,
    positional_encoding,
    save_rl_policy,
    single_batch,
)
from orlearn.errors import PolicyFileError
from orlearn.milp.io import read_model
from orlearn.policy_file import save_policy
from orlearn.solver.settings import SETTINGS


def _root_observation(instance: Path) -> Observation:
    """The observation at the root node of ``instance`` (then SCIP's own rule branches)."""
    seen: list[Observation] = []

    class Grab(scip.Branchrule):
        def branchexeclp(self, allowaddcons: bool) -> dict:
            if not seen:
                seen.append(ObservationBuilder()(self.model))
            return {"result": scip.SCIP_RESULT.DIDNOTRUN}

    model = read_model(instance)
    model.hideOutput()
    for name, value in SETTINGS["gasse"].items():
        model.setParam(name, value)
    model.setParam("limits/nodes", 1)
    model.includeBranchrule(Grab(), "grab", "grab", 1_000_000, -1, 1.0)
    model.optimize()
    return seen[0]


def test_untrained_network_ranks_candidates_as_the_imitation_policy(
    instance_dir: Path, imitation_policy: Path
) -> None:
    imitation = load_branching_policy(imitation_policy)
    net = from_imitation(imitation.model, heads=2, max_path=4).eval()
    obs = _root_observation(instance_dir / "mkp_0.mps.gz")
    with torch.no_grad():
        logits = imitation.scores(obs)
        cand, state = net.encode(obs)
        # Any ancestors: the path changes the values, never the initial ranking.
        ancestors = [(torch.randn(32), torch.randn(16), d) for d in range(3)]
        q = net.scores(single_batch(cand, state, 3, ancestors))[0]
    assert cand.shape == (len(obs.candidates), 16) and state.shape == (32,)
    assert torch.equal(torch.argsort(q, descending=True), torch.argsort(logits, descending=True))


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000), weight_scale=st.floats(0.1, 100.0),
    prior_weight=st.floats(0.01, 1.0), max_advantage=st.floats(0.0, 2.0),
)  # fmt: skip
def test_any_residual_stays_within_the_kl_trust_region(
    seed: int, weight_scale: float, prior_weight: float, max_advantage: float
) -> None:
    """Whatever the learned weights, the chosen candidate is within 2 b S / lambda nats of the
    prior's best one (S: the node's predicted stake): where the prior's margin is larger, the
    policy is the prior's."""
    torch.manual_seed(seed)
    net = RevivedQNet(emb=16, heads=2, max_path=4, prior_weight=prior_weight,
                      max_advantage=max_advantage).eval()  # fmt: skip
    with torch.no_grad():
        for name, param in net.named_parameters():
            if not name.startswith("gnn."):  # an arbitrary, strongly "trained" residual, value, stake
                param.normal_(0.0, weight_scale / param.shape[-1] ** 0.5)
    b, c = 12, 9
    batch = PathBatch(
        cand=torch.randn(b, c, 16) * 3, cand_mask=torch.arange(c) < torch.randint(2, c + 1, (b, 1)),
        state=torch.randn(b, 32), depth=torch.randint(0, 30, (b,)),
        anc_state=torch.randn(b, 3, 32), anc_action=torch.randn(b, 3, 16),
        anc_depth=torch.randint(0, 30, (b, 3)), anc_mask=torch.rand(b, 3) < 0.7,
    )  # fmt: skip
    with torch.no_grad():
        logp = net.prior_log_probs(batch)
        q, stake = net.q_and_stake(batch)
        chosen = net.scores(batch).argmax(1)
        value = (q.masked_fill(~batch.cand_mask, 0).sum(1) / batch.cand_mask.sum(1)).abs()
    spread = (q.masked_fill(~batch.cand_mask, -1e9).max(1).values
              - q.masked_fill(~batch.cand_mask, 1e9).min(1).values)  # fmt: skip
    tol = 1e-5 * (1 + value + stake)  # float32 rounding at the values' scale
    assert torch.all(spread <= 2 * max_advantage * stake + tol)
    margin = logp.max(1).values - logp.gather(1, chosen[:, None]).squeeze(1)
    assert torch.all(margin <= (2 * max_advantage * stake + 2 * tol) / prior_weight + 1e-5)
    assert torch.all(batch.cand_mask.gather(1, chosen[:, None]))
    if max_advantage == 0.0:
        assert torch.equal(chosen, logp.argmax(1))


def test_policy_file_round_trip_and_mismatches(imitation_policy: Path, tmp_path: Path) -> None:
    net = from_imitation(load_branching_policy(imitation_policy).model, heads=2, max_path=4)
    with torch.no_grad():
        net.advantage[-1].weight.normal_()  # a trained-looking network
    path = save_rl_policy(tmp_path / "rl.pt", net, {"note": "test"})
    loaded = load_rl_policy(path)
    assert loaded.metadata["note"] == "test" and loaded.net.max_path == 4
    batch = single_batch(torch.randn(5, 16), torch.randn(32), 2, [(torch.randn(32), torch.randn(16), 1)])
    with torch.no_grad():
        assert torch.allclose(net.eval().q_and_stake(batch)[0], loaded.net.q_and_stake(batch)[0])

    other = policy_file(net)
    other.feature_version = FEATURE_VERSION + 1
    save_policy(tmp_path / "old.pt", other)
    with pytest.raises(PolicyFileError, match="feature version"):
        load_rl_policy(tmp_path / "old.pt")
    other = policy_file(net)
    other.metadata["path_version"] = 0
    save_policy(tmp_path / "oldpath.pt", other)
    with pytest.raises(PolicyFileError, match="path-feature version 0"):
        load_rl_policy(tmp_path / "oldpath.pt")
    with pytest.raises(PolicyFileError, match="'branching' policy, expected 'branching-rl'"):
        load_rl_policy(imitation_policy)
    (tmp_path / "junk.pt").write_bytes(b"not a policy")
    with pytest.raises(PolicyFileError):
        load_rl_policy(tmp_path / "junk.pt")


def test_positional_encoding_distinguishes_depths() -> None:
    enc = positional_encoding(torch.arange(20), 16)
    assert enc.shape == (20, 16)
    assert torch.cdist(enc, enc).fill_diagonal_(1.0).min() > 0.1


def test_positional_encoding_is_the_sinusoid_in_and_out_of_inference_mode() -> None:
    # The frequencies are cached; the first call may come from the rule (inference mode) and
    # a later one from training, which must still be able to backpropagate through it.
    from orlearn.branching.revibranch import policy

    policy._frequencies.cache_clear()
    pos = torch.tensor([0, 3, 17])
    with torch.inference_mode():
        first = positional_encoding(pos, 6)
    freq = 10000.0 ** (-torch.arange(3, dtype=torch.float64) / 3)
    angle = pos[:, None].double() * freq
    expected = torch.cat([torch.sin(angle), torch.cos(angle)], -1).float()
    torch.testing.assert_close(first, expected)
    scale = torch.ones(1, requires_grad=True)
    (positional_encoding(pos, 6) * scale).sum().backward()
    assert scale.grad is not None and torch.isfinite(scale.grad).all()


def test_untrained_rule_solves_like_the_imitation_rule(
    instance_dir: Path, imitation_policy: Path
) -> None:
    from orlearn.branching.plugin import attach_branching
    from orlearn.branching.revibranch.policy import RLBranchingPolicy
    from orlearn.branching.rules.rl import attach_rl_branching

    def run(attach) -> tuple[int, int, dict]:  # type: ignore[no-untyped-def]
        model = read_model(instance_dir / "mkp_3.mps.gz")
        model.hideOutput()
        for name, value in SETTINGS["gasse"].items():
            model.setParam(name, value)
        rule = attach(model)
        model.optimize()
        return model.getNNodes(), model.getNLPIterations(), rule.stats()

    imitation = load_branching_policy(imitation_policy)
    net = from_imitation(imitation.model, heads=2, max_path=4).eval()
    nodes, lps, stats = run(lambda m: attach_branching(m, imitation))
    rl_nodes, rl_lps, rl_stats = run(lambda m: attach_rl_branching(m, RLBranchingPolicy(net=net)))
    assert (rl_nodes, rl_lps) == (nodes, lps) and nodes > 10
    assert rl_stats["learned_calls"] == stats["learned_calls"] and rl_stats["fallbacks"] == 0


def test_rl_policy_files_run_wherever_imitation_policies_do(
    instance_dir: Path, imitation_policy: Path, tmp_path: Path
) -> None:
    """`solve -b rl.pt` and attach_branching dispatch on the file's kind (branching-rl)."""
    from orlearn.branching.plugin import attach_branching, solve
    from orlearn.branching.rules.rl import RevivedBranchrule

    net = from_imitation(load_branching_policy(imitation_policy).model, heads=2, max_path=4)
    path = save_rl_policy(tmp_path / "rl.pt", net.eval())
    assert isinstance(attach_branching(scip.Model(), str(path)), RevivedBranchrule)
    instance = instance_dir / "mkp_3.mps.gz"
    rl = solve(instance, branching=str(path), settings="gasse")
    imitation = solve(instance, branching=str(imitation_policy), settings="gasse")
    assert rl.status == imitation.status == "optimal"
    assert rl.primal_bound == pytest.approx(imitation.primal_bound)
    assert rl.nodes == imitation.nodes and rl.branching_stats["learned_calls"] > 0


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000), n_cands=st.integers(1, 12), n_anc=st.integers(0, 6),
    layers=st.integers(1, 2), revival=st.booleans(),
)  # fmt: skip
def test_node_scores_equal_the_batched_scores(
    seed: int, n_cands: int, n_anc: int, layers: int, revival: bool
) -> None:
    """The rule's one-node path (last layer for the current token only) computes the batched
    scores: the same ranking and values within float32 rounding, in and out of inference mode."""
    torch.manual_seed(seed)
    net = RevivedQNet(emb=16, heads=2, layers=layers, max_path=8, revival=revival).eval()
    with torch.no_grad():
        for name, param in net.named_parameters():
            if not name.startswith("gnn."):
                param.normal_(0.0, 1.0 / param.shape[-1] ** 0.5)
    cand, state = torch.randn(n_cands, 16), torch.randn(32)
    ancestors = [(torch.randn(32), torch.randn(16), d) for d in range(n_anc)]
    for mode in (torch.no_grad, torch.inference_mode):
        with mode():
            fast = net.node_scores(cand, state, n_anc, ancestors)
            batched = net.scores(single_batch(cand, state, n_anc, ancestors))[0]
        assert fast.shape == (n_cands,)
        assert torch.allclose(fast, batched, atol=1e-5, rtol=1e-5)
