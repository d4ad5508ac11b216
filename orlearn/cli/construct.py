"""`orlearn construct generate|train|solve`: the BQ-NCO constructive solvers."""

from __future__ import annotations

import argparse

from orlearn.cli.common import verb_group
from orlearn.threads import add_threads_option

PROBLEMS = ("tsp", "atsp", "cvrp", "op", "kp")
# The default of the label cache, kept in step with orlearn.construct.tasks.LABEL_CACHE (a test
# checks it) so that `--help` needs no import of the library.
LABEL_CACHE = "runs/construct/labels"
LABEL_CACHE_HELP = ("expert-label cache, shared by `construct generate` and `construct train` "
                    "(default runs/construct/labels in the current directory)")


def register(subparsers: argparse._SubParsersAction) -> None:
    verbs = verb_group(subparsers, "construct",
                       "constructive neural solvers (BQ-NCO) for TSP, ATSP, CVRP, OP, KP")  # fmt: skip
    _register_generate(verbs)
    _register_train(verbs)
    _register_solve(verbs)


def _register_solve(verbs: argparse._SubParsersAction) -> None:
    p = verbs.add_parser("solve", help="solve instance files with a trained policy")
    p.add_argument("target", help="an instance file (.tsp, .atsp, .vrp, or a generated .npz set) or a folder")
    p.add_argument("--problem", required=True, choices=PROBLEMS)
    p.add_argument("--policy", help="policy file: an orlearn .pt, or a BQ-NCO authors' checkpoint "
                   "(tsp_perceiver.best, cvrp_perceiver.best) (default: the shipped "
                   "policies/construct/<problem>100.pt)")
    p.add_argument("--beam", type=int, default=1, help="beam width (1 = greedy)")
    p.add_argument("--knn", type=int, help="restrict each step to the k nearest candidates "
                   "(default: the training size, for instances more than twice that size; "
                   "perceiver policies decode in full)")
    p.add_argument("--two-opt", action="store_true", help="also report a 2-opt improvement (TSP, CVRP)")
    p.add_argument("--out", metavar="FILE", help="also write the solutions here as JSON lines, "
                   "one per instance as it is solved (default: only the table is printed)")
    p.add_argument("--batch-size", type=int, default=64, help="instances decoded together "
                   "(beam search divides it by the width)")
    add_threads_option(p, "batched")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress display")
    p.set_defaults(func=_solve)


def _register_train(verbs: argparse._SubParsersAction) -> None:
    t = verbs.add_parser("train", help="train a policy by imitation of expert solutions")
    t.add_argument("--problem", required=True, choices=PROBLEMS)
    t.add_argument("--out", required=True, help="policy file to write (.pt)")
    t.add_argument("--n", type=int, default=100, help="training instance size")
    t.add_argument("--train-instances", type=int, default=800)
    t.add_argument("--val-instances", type=int, default=32)
    t.add_argument("--label-time", type=float, default=0.5, help="expert seconds per instance")
    t.add_argument("--label-clock", choices=("wall", "cpu"), default="wall",
                   help="clock of --label-time (cpu: the same search effort on a busy machine)")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--distribution", default="uniform",
                   help="instance distribution: uniform, or clustered (TSP: Gaussian mixtures)")
    t.add_argument("--arch", choices=("transformer", "perceiver"), default="transformer",
                   help="policy architecture: transformer (d 128, 4 layers by default) or the "
                   "paper's BQ-PerceiverIO (TSP, CVRP; d 192, latents 64 x 48, 9 layers)")
    t.add_argument("--init", help="start from this policy (orlearn .pt or BQ-NCO .best): "
                   "fine-tuning; its architecture and sizes are used")
    t.add_argument("--d-model", type=int, help="token width (default: the architecture's)")
    t.add_argument("--layers", type=int, help="layers (perceiver: latent self-attention layers)")
    t.add_argument("--heads", type=int)
    t.add_argument("--d-ff", type=int)
    t.add_argument("--latent-len", type=int, help="perceiver: number of latent vectors")
    t.add_argument("--latent-dim", type=int, help="perceiver: width of the latent vectors")
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=3e-4, help="Adam step size (also on resume)")
    t.add_argument("--no-augment", action="store_true",
                   help="train on the labelled instances as they are, without random equivalent "
                   "copies (other start node, direction, plane symmetry)")
    t.add_argument("--knn", type=int, help="train and validate on sub-problems cut to the k "
                   "nearest candidates (cheaper steps; the policy then decodes with that k)")
    t.add_argument("--epochs", type=int, default=200)
    t.add_argument("--steps-per-epoch", type=int, default=100)
    t.add_argument("--patience", type=int, default=20, help="epochs without a better validation gap")
    t.add_argument("--max-minutes", type=float, help="stop (resumably) after this much training")
    t.add_argument("--workers", type=int, default=1, help="processes for expert labels")
    t.add_argument("--cache-dir", default=LABEL_CACHE, help=LABEL_CACHE_HELP)
    t.add_argument("--run-dir", help="checkpoint, learning curves and history (default "
                   "runs/construct/<out stem> in the current directory)")
    add_threads_option(t, "batched")
    t.set_defaults(func=_train)


def _register_generate(verbs: argparse._SubParsersAction) -> None:
    g = verbs.add_parser("generate", help="generate random instances (and optionally expert labels)")
    g.add_argument("--problem", required=True, choices=PROBLEMS)
    g.add_argument("--n", type=int, required=True, help="nodes / customers / items")
    g.add_argument("--count", type=int, required=True)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--distribution", default="uniform",
                   help="uniform, or clustered (TSP: Gaussian mixtures)")
    g.add_argument("--out", required=True, help=".npz instance set to write")
    g.add_argument("--label-time", type=float, help="also label with the expert (s per instance)")
    g.add_argument("--workers", type=int, default=1, help="processes for expert labels")
    g.add_argument("--cache-dir", default=LABEL_CACHE, help=LABEL_CACHE_HELP)
    g.set_defaults(func=_generate)


def _solve(args: argparse.Namespace) -> int:
    import sys

    from rich.console import Console
    from rich.table import Table

    from orlearn.construct.io import read_instances
    from orlearn.construct.problems import get_problem
    from orlearn.construct.tasks import SolutionWriter, Solved, solve_set
    from orlearn.errors import OrlearnError
    from orlearn.progress import progress_bar
    from orlearn.threads import resolve_threads

    if args.batch_size < 1:
        raise OrlearnError(f"--batch-size must be at least 1, got {args.batch_size}")
    threads = resolve_threads(args.threads, "batched")
    instances = read_instances(get_problem(args.problem), args.target)
    writer = SolutionWriter(args.out)
    mode = "greedy" if args.beam == 1 else f"beam {args.beam}"
    try:
        with progress_bar(f"{args.problem} {mode}", len(instances), disable=args.quiet) as advance:
            def on_solved(item: Solved) -> None:
                advance(status=item.name)

            solved = solve_set(
                args.problem, instances, two_opt=args.two_opt, writer=writer, on_solved=on_solved,
                policy=args.policy, beam=args.beam, knn=args.knn, batch_size=args.batch_size,
                threads=threads,
            )  # fmt: skip
    except KeyboardInterrupt:
        if writer.written:
            kept = f"{writer.written} of {len(instances)} solutions are kept in {writer.path}"
        else:
            kept = "no solution was written"
        print(f"orlearn: interrupted; {kept}", file=sys.stderr)
        return 130
    finally:
        writer.close()
    table = Table(title=f"{args.problem} ({mode}, {threads} torch thread{'s' * (threads > 1)})")
    columns = ["instance", "objective", "gap %", "time s"]
    if args.two_opt:
        columns += ["2-opt objective", "2-opt gap %", "2-opt time s"]
    for col in columns:
        table.add_column(col, justify="right")
    for item in solved:
        row = [item.name, f"{item.objective:.6g}", _gap(item.gap), f"{item.seconds:.3f}"]
        if item.two_opt is not None:
            better = item.two_opt
            row += [f"{better.objective:.6g}", _gap(item.two_opt_gap), f"{better.seconds:.3f}"]
        table.add_row(*row)
    Console().print(table)
    if writer.path is not None:
        print(f"solutions written to {writer.path}")
    return 0


def _gap(percent: float | None) -> str:
    return "-" if percent is None else f"{percent:.2f}"


def _train(args: argparse.Namespace) -> int:
    from orlearn.construct.tasks import check_train_options
    from orlearn.construct.train import TrainConfig, train
    from orlearn.threads import set_threads

    sizes = (args.d_model, args.layers, args.heads, args.d_ff, args.latent_len, args.latent_dim)
    check_train_options(args.n, args.batch_size, args.epochs, args.knn, sizes)
    set_threads(args.threads, "batched")
    cfg = TrainConfig(
        problem=args.problem, out=args.out, n=args.n, train_instances=args.train_instances,
        val_instances=args.val_instances, label_time=args.label_time,
        label_clock=args.label_clock, seed=args.seed,
        arch=args.arch, init=args.init, distribution=args.distribution,
        d_model=args.d_model, n_layers=args.layers, n_heads=args.heads, d_ff=args.d_ff,
        latent_len=args.latent_len, latent_dim=args.latent_dim,
        batch_size=args.batch_size, lr=args.lr, epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch, patience=args.patience,
        max_minutes=args.max_minutes, workers=args.workers, cache_dir=args.cache_dir,
        run_dir=args.run_dir, augment=not args.no_augment, knn=args.knn,
    )
    path = train(cfg)
    print(f"policy written to {path}")
    return 0


def _generate(args: argparse.Namespace) -> int:
    from orlearn.construct.tasks import generate_set

    result = generate_set(
        args.problem, args.n, args.count, args.out, seed=args.seed, distribution=args.distribution,
        label_time=args.label_time, workers=args.workers, cache_dir=args.cache_dir,
    )  # fmt: skip
    print(f"{result.count} {args.problem} instances written to {result.path}")
    if result.label_cache is not None:
        print(f"expert labels cached in {result.label_cache}")
    return 0
