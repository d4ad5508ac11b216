"""Pieces every capability's command module shares: its verb group."""

from __future__ import annotations

import argparse
from typing import Any


def verb_group(subparsers: Any, name: str, help_text: str) -> Any:
    """Add ``orlearn NAME`` with its own verbs; without a verb it prints its help (exit 2)."""
    group = subparsers.add_parser(name, help=help_text, description=help_text)
    group.set_defaults(func=lambda args: _print_help(group))
    return group.add_subparsers(dest=f"{name}_verb", metavar="VERB")


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
