"""Benchmark of the BQ-NCO constructive solvers: gap and time per instance of BQ greedy,
BQ beam, OR-Tools routing (guided local search) and PyVRP given the same wall time per instance
as BQ beam, on random TSP / CVRP / KP / OP and on TSPLIB, ATSP and CVRPLIB X instances.

The full target configuration is the default:
    .venv/bin/python scripts/bench_construct.py
A reduced run (what fits a shared 2-core machine in ~35 minutes; docs/construct.md) picks fewer
instances per size and a shorter reference:
    .venv/bin/python scripts/bench_construct.py --count 128 --count-mid 64 --count-large 16 \
        --beam-count 8 --beam 16 --beam-max-n 100 --ref-seconds 0.5 --ref-seconds-op 1 \
        --out runs/construct/bench_s3.md

Gaps on random instances are to a reference solution: the exact optimum for KP (orlearn's exact
branch and bound over the float weights, experts.exact_knapsack), and
for routing PyVRP run for --ref-seconds per 100 nodes (no Concorde here: the published BQ-NCO
gaps are to Concorde / exact optima, so a PyVRP reference makes our gaps slightly optimistic,
by PyVRP's own gap). TSPLIB / CVRPLIB gaps are to the published optima, with TSPLIB's rounded
distances. Problems without a policy in --policy-dir are skipped and listed. At 500-1000 nodes
PyVRP's TSP tours are several percent above optimal; --tsp-ref lkh uses LKH-3 through the
optional package elkai instead (pip install 'orlearn[bench]'; --lkh-tsplib-check measures it
against the TSPLIB optima of 400-1002 nodes first).

The BQ-NCO authors' PerceiverIO checkpoints (README) are benchmarked against their published
greedy gaps with --policy and --published; references are cached under --ref-cache:
    .venv/bin/python scripts/bench_construct.py --policy tsp=PATH/tsp_perceiver.best \
        --policy cvrp=PATH/cvrp_perceiver.best --published bq-perceiver --kp --no-op --atsp 0 \
        --no-baselines --ref-seconds 2 --ref-seconds-cvrp 4 --ref-cache runs/construct/refs ...
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

from orlearn.construct.decode import solve
from orlearn.construct.labels import label_instances
from orlearn.construct.model import load_model
from orlearn.construct.problems import get_problem
from orlearn.construct.problems.base import scaled_int
from orlearn.construct.problems.experts import expert_clock, ortools_routing, pyvrp_routes

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "benchmarks"

# Published greedy gaps (%) to compare with (--published): BQ-perceiver, Drakulic et al.,
# "BQ-NCO", NeurIPS 2023 (appendix; the checkpoints of naver/bq-nco, branch perceiver).
PUBLISHED = {
    "bq-perceiver": {
        "TSP100": 0.97, "TSP200": 2.09, "TSP500": 5.22, "TSP1000": 8.97,
        "CVRP100": 5.63, "CVRP200": 5.49, "CVRP500": 6.39, "CVRP1000": 10.21,
    },
}


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=128, help="random instances per size")
    ap.add_argument("--beam-count", type=int, help="instances per size for beam and the "
                    "equal-time baselines (default: --count)")
    ap.add_argument("--count-mid", type=int, help="random instances per size 101..200 "
                    "(default: --count)")
    ap.add_argument("--count-large", type=int, help="random instances per size above 200 "
                    "(default: --count)")
    ap.add_argument("--beam", type=int, default=16)
    ap.add_argument("--beam-max-n", type=int, help="run beam and the baselines only up to this "
                    "size (default: every size)")
    ap.add_argument("--knn", type=int, default=100, help="k-NN size for instances > 2x training size")
    ap.add_argument("--also-knn", type=int, metavar="K", help="an extra greedy row per random "
                    "routing set decoded on the K nearest candidates at every step")
    ap.add_argument("--tsp", type=int, nargs="*", default=[100, 200, 500, 1000])
    ap.add_argument("--cvrp", type=int, nargs="*", default=[100, 200, 500])
    ap.add_argument("--kp", type=int, nargs="*", default=[100, 200, 500, 1000])
    ap.add_argument("--op", action="store_true", default=None, help="include OP100")
    ap.add_argument("--no-op", dest="op", action="store_false")
    ap.add_argument("--tsplib", default="all", help="'all' (EUC_2D 50-1000 nodes), N smallest, or 0")
    ap.add_argument("--atsp", default="all", help="'all', N smallest, or 0")
    ap.add_argument("--cvrplib", default="all", help="'all' (Set X 100-300), N smallest, or 0")
    ap.add_argument("--ref-seconds", type=float, default=5.0, help="PyVRP reference seconds per 100 nodes")
    ap.add_argument("--ref-seconds-op", type=float, help="the same for OP, whose PyVRP solutions "
                    "need more time (default: --ref-seconds)")
    ap.add_argument("--policy-dir", default=str(ROOT / "policies" / "construct"))
    ap.add_argument("--benchmarks", default=str(SHARED), help="folder holding tsplib/ and "
                    "cvrplib/ with optima.csv and bks.csv (default: ../shared/benchmarks)")
    ap.add_argument("--policy", action="append", default=[], metavar="PROBLEM=FILE",
                    help="use FILE (an orlearn policy or a BQ-NCO .best) for PROBLEM instead of "
                    "--policy-dir (repeatable)")
    ap.add_argument("--published", choices=sorted(PUBLISHED),
                    help="add a column with these published greedy gaps")
    ap.add_argument("--no-baselines", dest="baselines", action="store_false",
                    help="skip OR-Tools and PyVRP at the beam's time")
    ap.add_argument("--ref-seconds-cvrp", type=float, help="PyVRP reference seconds per 100 "
                    "customers for CVRP (default: --ref-seconds)")
    ap.add_argument("--ref-cache", help="cache the random-instance references in this folder "
                    "(labels format: reruns only decode)")
    ap.add_argument("--ref-clock", choices=("wall", "cpu"), default="wall",
                    help="clock of the reference time limit (cpu: load does not shorten it)")
    ap.add_argument("--ref-check", type=int, default=0, metavar="K",
                    help="also solve the first K instances of each random routing set with "
                    "--ref-check-factor times the reference's effort (PyVRP: time on the CPU "
                    "clock; LKH: runs): how far the reference is from converged")
    ap.add_argument("--ref-check-factor", type=float, default=2.0, metavar="F",
                    help="effort of the --ref-check solves relative to the reference (default 2)")
    ap.add_argument("--tsp-ref", choices=("pyvrp", "lkh"), default="pyvrp",
                    help="reference solver of random TSP sets: PyVRP (--ref-seconds) or LKH-3 "
                    "through the optional package elkai (pip install 'orlearn[bench]'), which is "
                    "near-optimal at 500-1000 nodes in seconds")
    ap.add_argument("--lkh-runs", type=int, default=1, help="LKH runs per instance (--tsp-ref lkh)")
    ap.add_argument("--lkh-tsplib-check", action="store_true",
                    help="first solve the TSPLIB EUC_2D instances of 400-1002 nodes with the LKH "
                    "reference and report its gap to their published optima")
    ap.add_argument("--seed", type=int, default=12345, help="seed of the random test instances")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1 on a shared machine)")
    ap.add_argument("--out", help="markdown file for the table (a .json with the raw rows beside it)")
    args = ap.parse_args(argv)
    try:
        args.policy = dict(item.split("=", 1) for item in args.policy)
    except ValueError:
        ap.error("--policy takes PROBLEM=FILE")
    if args.op is None:
        args.op = True
    # 0 switches beam search off (an "or" default would turn it into --count)
    args.beam_count = args.count if args.beam_count is None else args.beam_count
    args.count_large = args.count_large or args.count
    args.count_mid = args.count_mid or args.count
    return args


def _pick(kind: str, spec: str, rows: list[tuple[str, int, Path, float]]):
    rows = sorted(rows, key=lambda r: (r[1], r[0]))
    if spec == "all":
        return rows
    return rows[: int(spec)]


def _gap(problem, objective: float, reference: float) -> float:
    sign = 1.0 if problem.sense == "min" else -1.0
    return sign * (objective - reference) / abs(reference) * 100


def _routing_baselines(problem, instances, seconds: list[float]):
    """OR-Tools GLS and PyVRP with the given wall time per instance."""
    out = {"OR-Tools GLS": [], "PyVRP": []}
    for inst, sec in zip(instances, seconds):
        dist = scaled_int(inst.distances(), inst.rounded)
        kw = {}
        if problem.name == "cvrp":
            kw = {"demands": inst.demands, "capacity": inst.capacity}
        t0 = time.perf_counter()
        routes = ortools_routing(dist, sec, **kw)
        t1 = time.perf_counter()
        out["OR-Tools GLS"].append((_as_solution(problem, routes), t1 - t0))
        routes = pyvrp_routes(dist, sec, 0, **kw)
        out["PyVRP"].append((_as_solution(problem, routes), time.perf_counter() - t1))
    return out


def _lkh_name(runs: int) -> str:
    return f"LKH-3 (elkai), {runs} run{'s' if runs != 1 else ''}"


def lkh_tour(instance, runs: int) -> list[int]:
    """A TSP tour from LKH-3 through elkai (optional: ``pip install elkai``), starting at node 0.
    TSPLIB instances are solved in their own metric (EUC_2D, rounded); random unit-square
    instances with coordinates scaled by 1e6 (rounded distances then differ from the float
    ones by under 1e-6 relative per edge)."""
    import elkai

    scale = 1.0 if instance.rounded else 1e6
    coords = {i: (float(x * scale), float(y * scale)) for i, (x, y) in enumerate(instance.coords)}
    tour = elkai.Coordinates2D(coords).solve_tsp(runs=runs)[:-1]
    k = tour.index(0)
    return [int(v) for v in tour[k:] + tour[:k]]


def _lkh_cache_path(instance, runs: int, cache: str | None) -> Path | None:
    if not cache:
        return None
    from orlearn.construct.labels import instance_key

    return Path(cache) / "tsp_lkh" / f"{instance_key('tsp', instance, runs, 0)}.json"


def lkh_references(instances, runs: int, cache: str | None) -> list[list[int]]:
    """LKH tours of ``instances`` with ``runs`` runs, cached under ``cache``/tsp_lkh (with the
    CPU seconds each took)."""
    out = []
    for inst in instances:
        path = _lkh_cache_path(inst, runs, cache)
        if path is not None and path.is_file():
            out.append(json.loads(path.read_text())["solution"])
            continue
        t0 = time.process_time()
        tour = lkh_tour(inst, runs)
        secs = time.process_time() - t0
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"solution": tour, "runs": runs, "cpu_seconds": secs}))
        out.append(tour)
    return out


def _lkh_seconds(instances, runs: int, cache: str | None) -> float | None:
    """Mean CPU seconds of the cached LKH references (None without a cache)."""
    paths = [_lkh_cache_path(i, runs, cache) for i in instances]
    if not paths or paths[0] is None or not all(p.is_file() for p in paths):
        return None
    return float(np.mean([json.loads(p.read_text())["cpu_seconds"] for p in paths]))


def _as_solution(problem, routes):
    if problem.name == "tsp":
        return [0] + [v for r in routes for v in r]
    return routes


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rows: list[dict] = []
        # set -> (label, objectives) of the --ref-check solutions of its first instances
        self.check_refs: dict[str, tuple[str, list[float]]] = {}
        self.skipped: list[str] = []
        self.models: dict = {}
        self.argv: list[str] = []
        self.t0 = time.perf_counter()

    def model(self, name: str):
        if name not in self.models:
            path = Path(self.args.policy.get(name) or Path(self.args.policy_dir) / f"{name}100.pt")
            self.models[name] = load_model(str(path), get_problem(name)) if path.is_file() else None
            if self.models[name] is None:
                self.skipped.append(f"{name}: no policy at {path}")
        return self.models[name]

    def trained_n(self, name: str) -> int:
        return int(self.models[name][1].get("config", {}).get("n", 100))

    def knn_for(self, name: str, n: int) -> int | None:
        if not getattr(self.models[name][0], "auto_knn", True):  # the perceiver decodes in full
            return None
        trained_n = int(self.models[name][1].get("config", {}).get("n", 100))
        return self.args.knn if n > 2 * trained_n else None

    def add(self, group: str, method: str, problem, instances, sols, times, refs) -> None:
        gaps, objs = [], []
        for inst, sol, ref in zip(instances, sols, refs):
            if sol is None or problem.check(inst, sol) is not None:
                gaps.append(float("nan"))
            else:
                objs.append(problem.objective(inst, sol))
                gaps.append(_gap(problem, objs[-1], ref))
        row = {"set": group, "method": method, "instances": len(instances),
               "gap_percent": float(np.nanmean(gaps)) if not np.all(np.isnan(gaps)) else None,
               "mean_objective": float(np.mean(objs)) if objs else None,
               "infeasible": int(np.isnan(gaps).sum()),
               "published": self.published(group, method),
               "seconds_per_instance": float(np.mean(times)),
               # per instance, for the spread (json only)
               "gaps": [None if np.isnan(x) else round(float(x), 4) for x in gaps]}
        self.rows.append(row)
        self.save()
        print(f"{group:>22} {method:<28} gap {row['gap_percent'] if row['gap_percent'] is not None else float('nan'):7.2f} %"
              f"  {row['seconds_per_instance']:8.3f} s  (n={len(instances)})", flush=True)

    def reference(self, name: str, instances, seconds: float, clock: str) -> list:
        """Reference solutions with ``seconds`` per instance on ``clock`` (cached with
        --ref-cache)."""
        if name == "tsp" and self.args.tsp_ref == "lkh":
            return lkh_references(instances, int(seconds), self.args.ref_cache)
        if self.args.ref_cache:
            return label_instances(name, instances, time_limit=seconds, seed=0,
                                   cache_dir=self.args.ref_cache, show_progress=False, clock=clock)
        with expert_clock(clock):
            return [get_problem(name).expert(inst, seconds, 0) for inst in instances]

    def published(self, group: str, method: str) -> float | None:
        """The published gap of ``method`` on random set ``group`` (greedy rows, full or k-NN:
        the paper's protocol is the full instance)."""
        if (not self.args.published or not method.startswith("BQ greedy")
                or "beam's instances" in method or "against the check" in method):
            return None
        return PUBLISHED[self.args.published].get(group)

    def against_check(self, group: str, method: str, problem, instances, decoded) -> None:
        """``method``'s solutions of the first instances again, against the stronger
        --ref-check solutions of the same instances (how much the gap grows with the reference)."""
        if group not in self.check_refs:
            return
        what, objs = self.check_refs[group]
        k = len(objs)
        self.add(group, f"{method}: first {k}, against the check ({what})", problem,
                 instances[:k], [r.solution for r in decoded[:k]], [r.seconds for r in decoded[:k]],
                 objs)

    def run_set(self, group: str, name: str, instances, refs, *, baselines: bool) -> None:
        problem = get_problem(name)
        m = self.model(name)
        if m is None:
            return
        model = m[0]
        n = problem.size_of(instances[0])
        # Only problems with a k-NN restriction use it (KP has none).
        knn = self.knn_for(name, n) if name != "kp" else None
        tag = f" (k-NN {knn})" if knn else ""
        if not knn and name != "kp" and n > 2 * self.trained_n(name):
            tag = ", full instance"  # the published protocol for the perceiver at 500 / 1000
        g = solve(problem, model, instances, beam=1, knn=knn, batch_size=self.args.batch_size)
        self.add(group, "BQ greedy" + tag, problem, instances, [r.solution for r in g],
                 [r.seconds for r in g], refs)
        self.against_check(group, "BQ greedy" + tag, problem, instances, g)
        k_extra = self.args.also_knn
        if k_extra and name != "kp" and not knn and n - 1 > k_extra:
            gk = solve(problem, model, instances, beam=1, knn=k_extra, batch_size=self.args.batch_size)
            self.add(group, f"BQ greedy, k-NN {k_extra} (extra row)", problem, instances,
                     [r.solution for r in gk], [r.seconds for r in gk], refs)
            self.against_check(group, f"BQ greedy, k-NN {k_extra}", problem, instances, gk)
        small = self.args.beam_max_n is None or n <= self.args.beam_max_n
        if self.args.beam > 1 and self.args.beam_count > 0 and small:
            k = min(self.args.beam_count, len(instances))
            sub, sub_refs = instances[:k], refs[:k]
            if k < len(instances):  # greedy on exactly the beam's instances, for comparison
                self.add(group, "BQ greedy (beam's instances)" + tag, problem, sub,
                         [r.solution for r in g[:k]], [r.seconds for r in g[:k]], sub_refs)
            b = solve(problem, model, sub, beam=self.args.beam, knn=knn, batch_size=self.args.batch_size)
            self.add(group, f"BQ beam {self.args.beam}" + tag, problem, sub,
                     [r.solution for r in b], [r.seconds for r in b], sub_refs)
            if baselines and self.args.baselines and name in ("tsp", "cvrp"):
                secs = [r.seconds for r in b]
                for method, res in _routing_baselines(problem, sub, secs).items():
                    self.add(group, f"{method} (same time as beam)", problem, sub,
                             [s for s, _ in res], [t for _, t in res], sub_refs)

    def random_sets(self) -> None:
        a = self.args
        plan = [("tsp", n) for n in a.tsp] + [("cvrp", n) for n in a.cvrp]
        plan += [("kp", n) for n in a.kp] + ([("op", 100)] if a.op else [])
        plan.sort(key=lambda item: item[1])  # smallest sizes first: the cheap, main rows
        for name, n in plan:
            problem = get_problem(name)
            if self.model(name) is None:
                continue
            count = a.count if n <= 100 else a.count_mid if n <= 200 else a.count_large
            instances = problem.generate(n, count, a.seed)
            t0 = time.perf_counter()
            per_100 = {"op": a.ref_seconds_op, "cvrp": a.ref_seconds_cvrp}.get(name) or a.ref_seconds
            ref_time = per_100 * n / 100
            lkh = name == "tsp" and a.tsp_ref == "lkh"
            if lkh:  # effort in runs; seconds measured (a cached LKH reference: its own record)
                ref_time = a.lkh_runs
            sols = self.reference(name, instances, ref_time, a.ref_clock)
            # PyVRP runs its whole budget, so a cached reference took ref_time per instance.
            ref_secs = (ref_time if a.ref_cache and name != "kp" and not lkh
                        else (time.perf_counter() - t0) / len(instances))
            if lkh:
                ref_secs = _lkh_seconds(instances, ref_time, a.ref_cache) or ref_secs
            refs = [problem.objective(i, s) for i, s in zip(instances, sols)]
            clock = " CPU" if a.ref_clock == "cpu" else ""
            ref_name = ("exact B&B" if name == "kp" else _lkh_name(ref_time) if lkh
                        else f"PyVRP {ref_time:g} s{clock}")
            group = f"{name.upper()}{n}"
            self.add(group, f"reference ({ref_name})", problem, instances, sols,
                     [ref_secs] * len(instances), refs)
            if a.ref_check and name != "kp":
                k = min(a.ref_check, len(instances))
                effort = a.ref_check_factor * ref_time
                if lkh:
                    effort = max(int(round(effort)), ref_time + 1)
                better = self.reference(name, instances[:k], effort, "cpu")
                what = _lkh_name(effort) if lkh else f"PyVRP {effort:g} s CPU"
                secs = ((_lkh_seconds(instances[:k], effort, a.ref_cache) or float("nan"))
                        if lkh else effort)
                self.add(group, f"reference check: {what} (first {k})", problem,
                         instances[:k], better, [secs] * k, refs[:k])
                self.check_refs[group] = (what, [problem.objective(i, s)
                                                 for i, s in zip(instances[:k], better)])
            self.run_set(f"{name.upper()}{n}", name, instances, refs, baselines=True)

    def lkh_tsplib_check(self) -> None:
        """The LKH reference on the TSPLIB EUC_2D instances of 400-1002 nodes, against their
        published optima (TSPLIB's rounded distances): how near optimal it is at this size."""
        import csv

        shared = Path(self.args.benchmarks)
        table = shared / "tsplib" / "optima.csv"
        if not table.is_file():
            self.skipped.append(f"LKH TSPLIB check: {table} not found")
            return
        rows = [r for r in csv.DictReader(table.open()) if r["type"] == "TSP"
                and r["edge_weight_type"] == "EUC_2D" and 400 <= int(r["n"]) <= 1002]
        problem = get_problem("tsp")
        insts = [problem.read(shared / "tsplib" / r["file"]) for r in rows]
        runs = self.args.lkh_runs
        sols, secs = [], []
        for inst in insts:
            t0 = time.process_time()
            sols.append(lkh_tour(inst, runs))
            secs.append(time.process_time() - t0)
            print(f"  LKH {inst.name}: {problem.objective(inst, sols[-1]):.0f} in {secs[-1]:.1f} s CPU",
                  flush=True)
        self.add(f"TSPLIB 400-1002 ({len(insts)})", f"reference check: {_lkh_name(runs)}, "
                 "to the optima", problem, insts, sols, secs, [float(r["optimal_value"]) for r in rows])

    def real_sets(self) -> None:
        a = self.args
        import csv

        shared = Path(a.benchmarks)
        tsp_rows, atsp_rows, x_rows = [], [], []
        if (shared / "tsplib" / "optima.csv").is_file():
            for r in csv.DictReader((shared / "tsplib" / "optima.csv").open()):
                row = (r["name"], int(r["n"]), shared / "tsplib" / r["file"], float(r["optimal_value"]))
                if r["type"] == "TSP" and r["edge_weight_type"] == "EUC_2D" and 50 <= row[1] <= 1002:
                    tsp_rows.append(row)
                elif r["type"] == "ATSP":
                    atsp_rows.append(row)
        if (shared / "cvrplib" / "bks.csv").is_file():
            for r in csv.DictReader((shared / "cvrplib" / "bks.csv").open()):
                if r["set"] == "X" and 100 <= int(r["n"]) <= 300:
                    x_rows.append((r["name"], int(r["n"]), shared / "cvrplib" / r["instance_file"],
                                   float(r["bks"])))
        if not (tsp_rows or x_rows) and (a.tsplib, a.cvrplib) != ("0", "0"):
            self.skipped.append(f"real instances: {shared} not found")
        for group, name, spec, rows in (("TSPLIB", "tsp", a.tsplib, tsp_rows),
                                        ("TSPLIB ATSP", "atsp", a.atsp, atsp_rows),
                                        ("CVRPLIB X", "cvrp", a.cvrplib, x_rows)):
            chosen = _pick(name, spec, rows)
            if not chosen or self.model(name) is None:
                continue
            problem = get_problem(name)
            # One table row per size class; the decoder batches instances of equal size.
            by_n: dict[str, list] = {}
            for _name, n, path, opt in chosen:
                inst = problem.read(path)
                by_n.setdefault(f"{group} n<=200" if n <= 200 else f"{group} n>200", []).append((inst, opt))
            for sub, items in by_n.items():
                insts = [i for i, _ in items]
                refs = [o for _, o in items]
                self.run_set(f"{sub} ({len(insts)})", name, insts, refs, baselines=False)

    def table(self) -> str:
        pub = self.args.published
        lines = ["| set | method | instances | gap % | " + (f"published ({pub}) % | " if pub else "")
                 + "mean objective | infeasible | time / instance (s) |",
                 "| --- | --- | ---: | ---: | " + ("---: | " if pub else "") + "---: | ---: | ---: |"]
        for r in self.rows:
            gap = "-" if r["gap_percent"] is None else f"{r['gap_percent']:.2f}"
            obj = "-" if r["mean_objective"] is None else f"{r['mean_objective']:.6g}"
            published = "" if not pub else (
                "- | " if r.get("published") is None else f"{r['published']:.2f} | "
            )
            lines.append(f"| {r['set']} | {r['method']} | {r['instances']} | {gap} | {published}{obj} | "
                         f"{r['infeasible']} | {r['seconds_per_instance']:.3f} |")
        if self.skipped:
            lines.append("")
            lines.append("Skipped: " + "; ".join(self.skipped))
        return "\n".join(lines)


    def save(self, done: bool = False) -> str:
        """The table so far, also written to --out (after every row, so a run stopped early
        keeps what it measured)."""
        text = self.table()
        cmd = "python scripts/bench_construct.py " + " ".join(self.argv)
        wall = time.perf_counter() - self.t0
        status = "" if done else " (incomplete: still running or stopped)"
        text += (f"\n\nCommand: `{cmd}`; wall time {wall:.0f} s{status}, torch threads "
                 f"{torch.get_num_threads()}.\n")
        if self.args.out:
            out = Path(self.args.out)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(text)
            out.with_suffix(".json").write_text(
                json.dumps({"config": vars(self.args), "rows": self.rows}, indent=1)
            )
        return text


def main(argv=None) -> int:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    bench = Bench(args)
    bench.argv = sys.argv[1:] if argv is None else list(argv)
    bench.t0 = time.perf_counter()
    if args.tsp_ref == "lkh" or args.lkh_tsplib_check:
        try:
            import elkai  # noqa: F401
        except ImportError:
            print("--tsp-ref lkh / --lkh-tsplib-check need the optional package elkai (LKH-3): "
                  "pip install 'orlearn[bench]' (or pip install elkai)", file=sys.stderr)
            return 2
    if args.lkh_tsplib_check:
        bench.lkh_tsplib_check()
    bench.real_sets()  # first: the cheaper sets, kept if a long run has to be stopped
    bench.random_sets()
    print(bench.save(done=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
