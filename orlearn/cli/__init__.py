"""The `orlearn` command: ``orlearn <capability> <verb> ...`` (and ``orlearn demo``).

One module of this package per capability (:data:`CAPABILITIES`), each exposing
``register(subparsers)``; the modules parse arguments, call library functions and print what
they return, nothing more. Heavy imports (torch, pyscipopt, pyomo) happen inside the command
functions so that ``orlearn --help`` stays fast.

Exit codes: 0 success; 1 the work ran but some items failed (e.g. a solve ended in error);
2 bad input (a clear one-line message on stderr); 130 interrupted (results written so far kept).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from orlearn import __version__
from orlearn.errors import OrlearnError

#: The modules of this package that add a command, in the order ``orlearn --help`` lists them.
CAPABILITIES = ("milp", "branching", "construct", "decision_rules", "inventory", "demo")

#: Verbs typed without their capability (``orlearn solve``): word -> the command meant.
MEANT = {
    "solve": "milp solve",
    "generate": "milp generate",
    "hardness": "milp hardness",
    "convert": "milp convert",
    "collect": "branching collect",
    "ddr": "decision-rules",
}
#: ``orlearn train KIND`` -> the command meant.
MEANT_TRAIN = {"branching": "branching train", "branching-rl": "branching train-rl"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orlearn",
        description="Learned policies inside operations-research solvers.",
    )
    parser.add_argument("--version", action="version", version=f"orlearn {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    subparsers = parser.add_subparsers(dest="command", metavar="CAPABILITY")
    for name in CAPABILITIES:
        importlib.import_module(f"{__name__}.{name}").register(subparsers)
    return parser


def moved_command(argv: Sequence[str]) -> str | None:
    """The one-line hint for a verb typed without its capability (``orlearn solve ...`` and the
    like), or None when ``argv`` does not start with one."""
    words = [a for a in argv if not a.startswith("-")]
    if not words:
        return None
    word, rest = words[0], words[1:]
    if word == "train":
        meant = MEANT_TRAIN.get(rest[0] if rest else "", "branching train' or 'orlearn branching train-rl")
        return f"'orlearn train' is no command; did you mean 'orlearn {meant}'?"
    if word in MEANT:
        return f"'orlearn {word}' is no command; did you mean 'orlearn {MEANT[word]}'?"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    hint = moved_command(argv)
    if hint is not None:
        print(f"orlearn: error: {hint}", file=sys.stderr)
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.func(args) or 0)
    except OrlearnError as exc:
        print(f"orlearn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("orlearn: interrupted; results written so far are kept", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
