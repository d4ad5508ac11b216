"""Torch threads under load: `orlearn construct solve` on TSPLIB eil51, beam 16, with torch's
default thread count (one per physical core) and with orlearn's default (the idle cores, see
orlearn/threads.py), first as the machine is, then with busy processes beside it.

    .venv/bin/python scripts/bench_threads.py --busy 1 --repeats 3

Each solve runs in a fresh `orlearn` process; the time is the decoding wall time the command
records per instance (model loading and imports excluded). A busy process is `yes > /dev/null`,
started two seconds before the solve so that the run-queue sees it. Prints a markdown table with
the 1-minute load average at the start of each configuration.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORLEARN = [str(Path(sys.executable).parent / "orlearn")]
INSTANCE = ROOT / "instances" / "construct" / "tsplib" / "eil51.tsp"


def solve_seconds(threads: int | None, beam: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "sol.jsonl"
        cmd = [*ORLEARN, "construct", "solve", str(INSTANCE), "--problem", "tsp", "--beam", str(beam),
               "--out", str(out), "-q"]
        env = dict(os.environ)
        env.pop("ORLEARN_THREADS", None)
        env.pop("OMP_NUM_THREADS", None)
        if threads is not None:
            cmd += ["--threads", str(threads)]
        subprocess.run(cmd, check=True, capture_output=True, env=env, cwd=tmp)
        return float(json.loads(out.read_text().splitlines()[0])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=1, help="busy processes in the loaded runs")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--beam", type=int, default=16)
    args = parser.parse_args()

    import torch

    torch_default = torch.get_num_threads()
    configs = [(f"torch default ({torch_default} threads)", torch_default), ("orlearn default", None)]
    rows = []
    for loaded in (False, True):
        for label, threads in configs:
            busy = []
            if loaded:
                busy = [subprocess.Popen(["yes"], stdout=subprocess.DEVNULL) for _ in range(args.busy)]
                time.sleep(2.0)
            try:
                load = os.getloadavg()[0]
                times = [solve_seconds(threads, args.beam) for _ in range(args.repeats)]
            finally:
                for proc in busy:
                    proc.kill()
                    proc.wait()
            rows.append((f"{args.busy} busy" if loaded else "as is", label, load, times))
            time.sleep(1.0)
    print(f"| machine | threads | load (1 min) | eil51 beam {args.beam}, s (median of {args.repeats}) | all runs, s |")
    print("|---|---|---|---|---|")
    for machine, label, load, times in rows:
        runs = ", ".join(f"{t:.2f}" for t in times)
        print(f"| {machine} | {label} | {load:.1f} | {statistics.median(times):.2f} | {runs} |")


if __name__ == "__main__":
    main()
