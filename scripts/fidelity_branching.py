"""How often a learned branching policy picks strong branching's choice, on orlearn's instances.

For each distribution, solves test instances with a rule that, at up to ``--nodes`` nodes per
instance with an LP solution (each node with probability ``--prob``; pseudo costs branch at the
others, as in Gasse et al.'s and rl2branch's imitation data, which use 0.05), asks
the policy for its scores and the expert for idempotent strong-branching scores
(:mod:`orlearn.branching.expert`), records the agreement, and branches on the expert's choice.
With ``--prob 0.05`` (the default) the states are those of imitation data, spread over the whole
tree; ``--prob 1`` asks at every node from the root, so the states are the first nodes of a tree
that follows the expert. Top-k agreement is Gasse et al.'s
measure: the best expert score among the policy's k best candidates equals the best expert score
(ties count as agreement).

With ``--stats`` it also prints, per input feature, the mean and standard deviation of the
observations next to the policy's normalisation statistics (for a published rl2branch policy the
PreNorm buffers: training-set mean = -shift, std = 1/scale), the diagnostic for a feature that
does not match the one the policy was trained on.

    python scripts/fidelity_branching.py cauctions/small setcover/small -n 8 --stats
    python scripts/fidelity_branching.py setcover/small --policy gnn:setcover --prob 1 --nodes 20

``--policy`` defaults to rl2branch's ``<class>/il.pkl`` in ``$ORLEARN_RL2BRANCH`` (default
``../shared/benchmarks/rl2branch`` from the repository root); ``{cls}`` in it is replaced by the
distribution's rl2branch class.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

#: The rl2branch policy class for each orlearn domain.
RL2BRANCH_CLASS = {
    "setcover": "setcover", "cauctions": "cauctions", "indset": "indset",
    "mknapsack": "mknapsack", "ufacilities": "ufacilities",
}  # fmt: skip


def rl2branch_dir() -> Path:
    default = Path(__file__).resolve().parents[1] / ".." / "shared" / "benchmarks" / "rl2branch"
    return Path(os.environ.get("ORLEARN_RL2BRANCH", default)).resolve()


class FeatureStats:
    """Pooled mean and variance of feature rows over many observations (NaN read as 0)."""

    def __init__(self) -> None:
        self.n = 0
        self.total: np.ndarray | None = None
        self.squares: np.ndarray | None = None

    def add(self, x: np.ndarray) -> None:
        x = np.nan_to_num(x.astype(np.float64), nan=0.0)
        if self.total is None:
            self.total, self.squares = np.zeros(x.shape[1]), np.zeros(x.shape[1])
        self.n += x.shape[0]
        self.total += x.sum(0)
        self.squares += (x * x).sum(0)

    def mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.total is not None and self.squares is not None
        mean = self.total / self.n
        return mean, np.sqrt(np.maximum(self.squares / self.n - mean * mean, 0.0))


def _fidelity_rule(
    policy, nodes: int, prob: float, seed: int, stats: dict[str, FeatureStats], keep: list | None
):
    import pyscipopt as scip
    import torch

    from orlearn.branching.expert import strong_branching_scores

    class FidelityRule(scip.Branchrule):
        def __init__(self) -> None:
            self.obs_fn = policy.observation_function()
            self.rng = np.random.default_rng(seed)
            self.records: list[dict] = []
            self.failures = 0

        def branchinitsol(self) -> None:
            self.obs_fn.before_reset(self.model)

        def branchexeclp(self, allowaddcons: bool) -> dict:
            if len(self.records) >= nodes:
                self.model.interruptSolve()
                return {"result": scip.SCIP_RESULT.DIDNOTRUN}
            if self.rng.random() >= prob:
                return {"result": scip.SCIP_RESULT.DIDNOTRUN}
            try:
                obs = self.obs_fn.extract(self.model)
                if len(obs.candidate_vars) < 2:  # nothing to choose
                    return {"result": scip.SCIP_RESULT.DIDNOTRUN}
                with torch.no_grad():
                    logits = policy.scores(obs).numpy()
                expert = strong_branching_scores(self.model, obs.candidate_vars)
            except Exception:  # an LP error in strong branching: pseudo costs take this node
                self.failures += 1
                return {"result": scip.SCIP_RESULT.DIDNOTRUN}
            hits = {k: _hits(expert, logits, k) for k in (1, 5)}
            if keep is not None:  # for offline diagnosis (--save)
                keep.append({"obs": obs.__class__(**{**obs.__dict__, "candidate_vars": []}),
                             "expert": expert, "logits": logits})  # fmt: skip
            stats["var"].add(obs.var_features)
            stats["cons"].add(obs.cons_features)
            stats["edge"].add(obs.edge_features)
            self.records.append(
                {"cands": len(obs.candidate_vars), "top1": hits[1], "top5": hits[5],
                 "depth": self.model.getCurrentNode().getDepth()}
            )  # fmt: skip
            self.model.branchVar(obs.candidate_vars[int(np.argmax(expert))])
            return {"result": scip.SCIP_RESULT.BRANCHED}

    return FidelityRule()


def _feature_table(policy, stats: dict[str, FeatureStats]) -> list[str]:
    """Observed mean/std per feature next to the policy's training statistics."""
    from orlearn.branching import ecole_observation, observation

    names = {
        "ecole": {"var": ecole_observation.VAR_FEATURES, "cons": ecole_observation.CONS_FEATURES,
                  "edge": ecole_observation.EDGE_FEATURES},
        "orlearn": {"var": observation.VAR_FEATURES, "cons": observation.CONS_FEATURES,
                    "edge": observation.EDGE_FEATURES},
    }[policy.observation_function().name]  # fmt: skip
    norms = {"var": policy.model.norm_v, "cons": policy.model.norm_c, "edge": policy.model.norm_e}
    lines = [f"{'feature':<34} {'mean':>10} {'train mean':>10} {'std':>10} {'train std':>10}"]
    for side in ("cons", "edge", "var"):
        mean, std = stats[side].mean_std()
        t_mean, t_std = norms[side].mean.numpy(), norms[side].std.numpy()
        for k, name in enumerate(names[side]):
            lines.append(
                f"{side + ':' + name:<34} {mean[k]:>10.4f} {t_mean[k]:>10.4f} {std[k]:>10.4f} {t_std[k]:>10.4f}"
            )
    return lines


def run(dist_name: str, args: argparse.Namespace) -> dict:
    import torch

    from orlearn.branching.loader import load_branching_policy
    from orlearn.milp.registry import get_distribution
    from orlearn.solver.settings import SETTINGS

    torch.set_num_threads(1)
    dist = get_distribution(dist_name)
    cls = RL2BRANCH_CLASS.get(dist.domain, dist.domain)
    spec = args.policy or str(rl2branch_dir() / "{cls}" / "il.pkl")
    policy = load_branching_policy(spec.format(cls=cls))
    stats = {side: FeatureStats() for side in ("var", "cons", "edge")}
    records: list[dict] = []
    kept: list | None = [] if args.save else None
    t0 = time.perf_counter()
    for i in range(args.instances):
        seed = dist.seed_for(args.split, args.first + i)
        model = dist.sample(seed)
        model.hideOutput()
        for name, value in SETTINGS[args.settings].items():
            model.setParam(name, value)
        model.setParam("limits/time", args.time_limit)
        # Where the expert is not asked, pseudo costs branch (Gasse's and rl2branch's sampling).
        model.setParam("branching/pscost/priority", 900_000)
        rule = _fidelity_rule(policy, args.nodes, args.prob, seed, stats, kept)
        model.includeBranchrule(rule, "fidelity", "expert vs policy", 1_000_000, -1, 1.0)
        model.optimize()
        records += rule.records
        n = len(records)
        print(
            f"{dist_name} instance {args.first + i}: {len(rule.records)} nodes, "
            f"running top-1 {np.mean([r['top1'] for r in records]) if n else float('nan'):.3f} "
            f"top-5 {np.mean([r['top5'] for r in records]) if n else float('nan'):.3f} ({n} nodes, "
            f"{time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    result = {
        "distribution": dist_name,
        "policy": policy.name,
        "settings": args.settings,
        "prob": args.prob,
        "first": args.first,
        "instances": args.instances,
        "nodes": len(records),
        # NaN (written as NaN in the JSON line) when no node was sampled.
        "top1": float(np.mean([r["top1"] for r in records])) if records else float("nan"),
        "top5": float(np.mean([r["top5"] for r in records])) if records else float("nan"),
        "random_top1": float(np.mean([1.0 / r["cands"] for r in records])) if records else float("nan"),
        "mean_candidates": float(np.mean([r["cands"] for r in records])) if records else float("nan"),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if args.save:
        import pickle

        args.save.mkdir(parents=True, exist_ok=True)
        with (args.save / f"{dist_name.replace('/', '_')}.pkl").open("wb") as f:
            pickle.dump(kept, f)
    if args.stats and records:
        result["feature_table"] = _feature_table(policy, stats)
    return result


def _hits(expert: np.ndarray, logits: np.ndarray, k: int) -> bool:
    """Gasse et al.'s top-k: the best expert score is among the policy's k best candidates."""
    order = np.argsort(-logits, kind="stable")
    return bool(np.isclose(expert[order[:k]].max(), expert.max(), rtol=1e-9, atol=1e-12))


def ablate(saved: Path, spec: str) -> list[str]:
    """Top-1/top-5 on the states saved by ``--save`` with one Ecole feature changed at a time:
    how much the policy relies on a feature, and whether a sign or a scale is read as trained."""
    import pickle

    import torch

    from orlearn.branching.ecole_observation import CONS_FEATURES, VAR_FEATURES
    from orlearn.branching.loader import load_branching_policy

    torch.set_num_threads(1)
    policy = load_branching_policy(spec)
    with saved.open("rb") as f:
        states = pickle.load(f)
    v, c = VAR_FEATURES.index, CONS_FEATURES.index

    def scale(side: str, k: int, factor: float):
        return lambda o: getattr(o, side).__setitem__((slice(None), k), getattr(o, side)[:, k] * factor)

    changes = {
        "none": lambda o: None,
        "ages x 0.3": lambda o: (scale("var_features", v("scaled_age"), 0.3)(o),
                                 scale("cons_features", c("scaled_age"), 0.3)(o)),
        "ages x 0.1": lambda o: (scale("var_features", v("scaled_age"), 0.1)(o),
                                 scale("cons_features", c("scaled_age"), 0.1)(o)),
        "coefficients x 0": scale("edge_features", 0, 0.0),
        "at upper bound := at lower bound": lambda o: o.var_features.__setitem__(
            (slice(None), v("is_solution_at_upper_bound")), o.var_features[:, v("is_solution_at_lower_bound")]),
        "objective x -1": scale("var_features", v("objective"), -1.0),
        "reduced cost x -1": scale("var_features", v("normed_reduced_cost"), -1.0),
        "duals x -1": scale("cons_features", c("dual_solution_value"), -1.0),
    }  # fmt: skip
    lines = [f"{saved} ({len(states)} states, {policy.name})", "| change | top-1 | top-5 |", "|---|---|---|"]
    for name, change in changes.items():
        top = {1: 0, 5: 0}
        for state in states:
            o = state["obs"]
            o = o.__class__(**{**o.__dict__, "var_features": o.var_features.copy(),
                               "cons_features": o.cons_features.copy(), "edge_features": o.edge_features.copy()})  # fmt: skip
            change(o)
            with torch.no_grad():
                logits = policy.scores(o).numpy()
            for k in top:
                top[k] += _hits(state["expert"], logits, k)
        lines.append(f"| {name} | {top[1] / len(states):.2f} | {top[5] / len(states):.2f} |")
    return lines


def report(files: list[Path]) -> list[str]:
    """A markdown table pooling the runs in ``files`` (JSON lines written by ``-o``) per
    distribution, policy, settings and expert probability, node-weighted."""
    groups: dict[tuple, list[dict]] = {}
    for path in files:
        for line in path.read_text().splitlines():
            r = json.loads(line)
            groups.setdefault((r["distribution"], r["policy"], r["settings"], r["prob"]), []).append(r)
    lines = [
        "| distribution | policy | settings | p | instances | nodes | top-1 | top-5 | random top-1 |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for (dist, policy, settings, prob), rs in sorted(groups.items()):
        rs = [r for r in rs if r["nodes"] > 0]  # a run whose instances never asked the expert
        n = sum(r["nodes"] for r in rs)
        if n == 0:
            continue
        mean = {k: sum(r[k] * r["nodes"] for r in rs) / n for k in ("top1", "top5", "random_top1")}
        lines.append(
            f"| {dist} | {policy} | {settings} | {prob:g} | {sum(r['instances'] for r in rs)} | {n} "
            f"| {mean['top1']:.2f} | {mean['top5']:.2f} | {mean['random_top1']:.3f} |"
        )
    return lines


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dists", nargs="*", help="registry distributions, e.g. setcover/small")
    p.add_argument("--report", nargs="+", type=Path, metavar="JSONL",
                   help="print the pooled table of earlier runs (their -o files) and exit")
    p.add_argument("--ablate", type=Path, metavar="PKL",
                   help="states saved by --save: top-k with one feature changed at a time (needs --policy)")  # fmt: skip
    p.add_argument("--policy", help="policy spec; '{cls}' becomes the rl2branch class "
                   "(default: $ORLEARN_RL2BRANCH/{cls}/il.pkl)")  # fmt: skip
    p.add_argument("-n", "--instances", type=int, default=10)
    p.add_argument("--first", type=int, default=0, help="index of the first test instance")
    p.add_argument("--split", default="test")
    p.add_argument("--nodes", type=int, default=40, help="expert nodes per instance, at most")
    p.add_argument("--prob", type=float, default=0.05,
                   help="probability of asking the expert at a node (1: every node from the root)")
    p.add_argument("--settings", default="gasse", choices=["gasse", "default"])
    p.add_argument("--time-limit", type=float, default=600.0, help="per instance, seconds")
    p.add_argument("--stats", action="store_true", help="print feature statistics vs training ones")
    p.add_argument("-o", "--out", type=Path, help="append the results as JSON lines here")
    p.add_argument("--save", type=Path, help="folder to pickle the observations and expert scores in")
    args = p.parse_args()
    if args.report:
        print("\n".join(report(args.report)))
        return
    if args.ablate:
        if not args.policy:
            p.error("--ablate needs --policy (the policy that scored the saved states)")
        print("\n".join(ablate(args.ablate, args.policy)))
        return
    if not args.dists:
        p.error("name at least one distribution (or --report)")
    for dist in args.dists:
        result = run(dist, args)
        for line in result.pop("feature_table", []):
            print(line)
        print(json.dumps(result), flush=True)
        if args.out:
            with args.out.open("a") as f:
                f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
