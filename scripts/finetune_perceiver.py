"""Fine-tune a TSP policy (e.g. the BQ-NCO authors' tsp_perceiver.best) on clustered TSP100 and
measure its greedy gaps on clustered and on uniform TSP100 before and after.

    OMP_NUM_THREADS=1 nice .venv/bin/python scripts/finetune_perceiver.py \\
        --init ../shared/benchmarks/bqnco/tsp_perceiver.best \\
        --out runs/construct/tsp_perceiver_clustered.pt --minutes 22 \\
        --report runs/construct/finetune_clustered.md

Training is `orlearn construct train --init ... --distribution clustered` (resumable: a rerun
continues from runs/construct/<out stem>/checkpoint.pt, --minutes counts all runs together).
The evaluation uses fresh instances of another seed than training and validation, with PyVRP
references cached under --ref-cache (the uniform ones are those of scripts/bench_construct.py
with the same seed, count and reference time). A policy fine-tuned from the authors' weights is
CC BY-NC-SA 4.0 like them (its model card says so): keep it out of MIT-licensed repositories.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from orlearn.construct import solve
from orlearn.construct.labels import label_instances
from orlearn.construct.problems import get_problem
from orlearn.construct.train import TrainConfig, train
from orlearn.policy_file import model_card_path


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", required=True, help="policy to start from (orlearn .pt or BQ-NCO .best)")
    ap.add_argument("--out", default="runs/construct/tsp_perceiver_clustered.pt")
    ap.add_argument("--minutes", type=float, default=30.0, help="training time budget")
    ap.add_argument("--train-instances", type=int, default=200)
    ap.add_argument("--val-instances", type=int, default=32)
    ap.add_argument("--label-time", type=float, default=0.5,
                    help="PyVRP CPU seconds per training label")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--steps-per-epoch", type=int, default=50)
    ap.add_argument("--patience", type=int, default=20)
    ap.add_argument("--count", type=int, default=64, help="clustered evaluation instances")
    ap.add_argument("--count-uniform", type=int, default=128, help="uniform evaluation instances")
    ap.add_argument("--seed", type=int, default=12345, help="seed of the evaluation instances")
    ap.add_argument("--ref-seconds", type=float, default=2.0, help="PyVRP reference seconds")
    ap.add_argument("--ref-clock", nargs=2, default=["cpu", "wall"], metavar=("CLUSTERED", "UNIFORM"),
                    help="clock of the clustered and uniform references (the uniform default "
                    "shares the cache of scripts/bench_perceiver.sh)")
    ap.add_argument("--ref-cache", default="runs/construct/refs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--skip-train", action="store_true", help="only evaluate --init and --out")
    ap.add_argument("--report", help="markdown file for the table")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    if not args.skip_train:
        train(TrainConfig(
            problem="tsp", out=args.out, n=100, train_instances=args.train_instances,
            val_instances=args.val_instances, label_time=args.label_time, label_clock="cpu",
            init=args.init,
            distribution="clustered", batch_size=args.batch_size, lr=args.lr, epochs=1000,
            steps_per_epoch=args.steps_per_epoch, patience=args.patience,
            max_minutes=args.minutes,
        ))
    tsp = get_problem("tsp")
    rows = []
    counts = {"clustered": args.count, "uniform": args.count_uniform}
    for dist, clock in zip(("clustered", "uniform"), args.ref_clock):
        instances = tsp.sample(100, counts[dist], args.seed, dist)
        sols = label_instances("tsp", instances, time_limit=args.ref_seconds, seed=0,
                               cache_dir=args.ref_cache, show_progress=False, clock=clock)
        refs = np.array([tsp.objective(i, s) for i, s in zip(instances, sols)])
        for name, policy in (("initial", args.init), ("fine-tuned", args.out)):
            res = solve("tsp", instances, policy=policy)
            assert all(tsp.check(i, r.solution) is None for i, r in zip(instances, res))
            objs = np.array([r.objective for r in res])
            rows.append({"distribution": dist, "policy": name, "file": Path(policy).name,
                         "gap_percent": float(np.mean((objs - refs) / refs * 100)),
                         "mean_length": float(objs.mean()),
                         "seconds_per_instance": float(np.mean([r.seconds for r in res]))})
            print(rows[-1], flush=True)
    card = json.loads(model_card_path(args.out).read_text())["metadata"]
    gap = {(r["distribution"], r["policy"]): r["gap_percent"] for r in rows}
    lines = [
        "| TSP100 instances | policy | greedy gap % | mean tour length | time / instance (s) |",
        "| --- | --- | ---: | ---: | ---: |",
        *(f"| {r['distribution']} ({counts[r['distribution']]}) | {r['policy']} (`{r['file']}`) | "
          f"{r['gap_percent']:.2f} | {r['mean_length']:.4f} | {r['seconds_per_instance']:.3f} |"
          for r in rows),
        "",
        f"Clustered gap change: {gap['clustered', 'initial']:.2f} % -> "
        f"{gap['clustered', 'fine-tuned']:.2f} % "
        f"({(gap['clustered', 'fine-tuned'] / gap['clustered', 'initial'] - 1) * 100:+.1f} % relative); "
        f"uniform: {gap['uniform', 'initial']:.2f} % -> {gap['uniform', 'fine-tuned']:.2f} % "
        f"({gap['uniform', 'fine-tuned'] - gap['uniform', 'initial']:+.2f} points).",
        f"Fine-tuning: best epoch {card['epochs']} (epoch 0 = the initial policy), "
        f"{card['training_seconds'] / 60:.1f} training minutes to it, validation gap "
        f"{card['validation_gap_percent']:.2f} % ({card['validation']}); training data: "
        f"{card['training_data']}; licence of the result: {card.get('licence', 'as its training')}.",
        f"References: PyVRP {args.ref_seconds:g} s per instance (clock: clustered "
        f"{args.ref_clock[0]}, uniform {args.ref_clock[1]}); evaluation seed {args.seed}. "
        f"Command: `python scripts/finetune_perceiver.py {' '.join(sys.argv[1:] if argv is None else argv)}`; "
        f"wall time {time.perf_counter() - t0:.0f} s, torch threads {torch.get_num_threads()}.",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
