"""The ``bngraph`` command line (also ``python -m bngraph``).

>>> main(["--version"])  # doctest: +ELLIPSIS
bngraph ...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__
from .errors import BngraphError

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bngraph",
        description="Build computational graphs, run them forward and backward, and draw them.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser(
        "demo",
        help="the nine-stage BatchNorm on the seed data, checked against the closed form",
        description="Run the nine-stage BatchNorm on the seed notebook's data and print every "
        "stage's value and gradient, then the check against the closed form.",
        epilog="example: bngraph demo",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"bngraph {__version__}")
        return 0
    try:
        if args.command == "demo":
            from .demo import run_demo

            return run_demo()
        parser.print_help()
        return 2
    except BngraphError as error:
        if args.debug:
            raise
        print(f"bngraph: error: {error}", file=sys.stderr)
        return 2
