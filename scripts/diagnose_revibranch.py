"""How far a ReviBranch policy has moved from its imitation prior, measured on its own buffer.

For a training checkpoint (``<policy>.pt.ckpt``) it samples up to 3,000 stored decisions and
reports: how often the greedy choice differs from the prior's (all states, and the states whose
subtree exceeds 10 % of the reference tree, where the trust region lets the policy act), how
well the Q and stake heads fit their targets, and how often the learned residual's spread is
larger than the prior's margin to its runner-up (the policy *could* overturn the prior there;
whether it does is the deviation). docs/revibranch.md quotes these numbers::

    python scripts/diagnose_revibranch.py runs/revibranch/run6/cauctions/full.pt.ckpt
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from orlearn.branching.revibranch.learner import Learner, RLConfig, load_checkpoint
from orlearn.branching.revibranch.policy import RevivedQNet
from orlearn.errors import OrlearnError

TOP_STAKE = 0.1  # a tenth of the reference tree


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint")
    parser.add_argument("--states", type=int, default=3000)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        ck = load_checkpoint(args.checkpoint)
    except OrlearnError as exc:
        print(f"diagnose_revibranch: error: {exc}", file=sys.stderr)
        return 2
    state = ck["states"]["learner"]
    net = RevivedQNet(**ck["extra"]["hyperparameters"])
    net.load_state_dict(state["net"])
    net.eval()
    learner = Learner(net, RLConfig(**ck["config"]))
    learner.buffer.load_state_dict(state["buffer"])
    n = len(learner.buffer)
    if n == 0:
        print("the checkpoint's buffer is empty")
        return 0
    idx = np.random.default_rng(0).choice(n, min(n, args.states), replace=False)
    batch, actions, targets, stakes = learner.buffer.batch(idx, max_path=net.max_path, revival=net.revival)
    with torch.no_grad():
        q, stake = net.q_and_stake(batch)
        scores = net.scores(batch)
        logp = net.prior_log_probs(batch)
    greedy, prior = scores.argmax(1), logp.argmax(1)
    # The learned residual: the score less its prior part (padding: nan, masked below).
    adv = scores - net.prior_weight * logp
    deviate = greedy != prior
    qa = q.gather(1, actions[:, None]).squeeze(1)
    top = stakes > TOP_STAKE
    # The residual's spread within a state against the prior's margin (in score units).
    spread = adv.masked_fill(~batch.cand_mask, -np.inf).max(1).values - adv.masked_fill(
        ~batch.cand_mask, np.inf
    ).min(1).values
    top2 = logp.topk(2, 1).values if logp.shape[1] > 1 else torch.cat([logp, logp], 1)
    margin = net.prior_weight * (top2[:, 0] - top2[:, 1]).clamp(min=1e-12)
    cover = (spread / margin)[top]
    print(f"round {ck['round']}, {n} decisions in the buffer, {len(idx)} sampled")
    print(f"greedy != prior: {100 * deviate.float().mean():.2f} % of the states; "
          f"{100 * deviate[top].float().mean():.2f} % of the {int(top.sum())} with subtree > "
          f"{TOP_STAKE:g} reference")  # fmt: skip
    print(f"fit: corr(Q, target) {np.corrcoef(qa.numpy(), targets.numpy())[0, 1]:.3f}, "
          f"corr(stake, subtree) {np.corrcoef(stake.numpy(), stakes.numpy())[0, 1]:.3f}")
    if top.any():
        print(f"top states where the residual could overturn the prior: "
              f"{100 * (cover >= 1).float().mean():.1f} % (median spread / margin "
              f"{cover.median():.2f})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
