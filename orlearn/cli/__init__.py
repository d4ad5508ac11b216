"""The `orlearn` command.

Each verb group lives in its own module of this package and exposes ``register(subparsers)``;
the modules parse arguments and call library functions, nothing more. Heavy imports (torch,
pyscipopt, pyomo) happen inside the command functions so that ``orlearn --help`` stays fast.

Exit codes: 0 success; 1 the work ran but some items failed (e.g. a solve ended in error);
2 bad input (a clear one-line message on stderr); 130 interrupted (results written so far kept).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from orlearn import __version__
from orlearn.errors import OrlearnError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orlearn", description="Learned policies inside operations-research solvers."
    )
    parser.add_argument("--version", action="version", version=f"orlearn {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
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
