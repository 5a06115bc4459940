"""The ``bngraph`` command line (also ``python -m bngraph``).

Every command prints one clear line on stderr and exits non-zero on bad input
(exit 2; 1 for a check that fails), with a traceback only under ``--debug``.

>>> main(["--version"])  # doctest: +ELLIPSIS
bngraph ...
0
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from .. import __version__
from ..errors import BngraphError
from . import commands

__all__ = ["main", "build_parser"]

EXIT_FAILED_CHECK = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _input_options(parser: argparse.ArgumentParser, seeds: bool = True) -> None:
    group = parser.add_argument_group("inputs (library graphs fall back on their example)")
    group.add_argument("--inputs", metavar="FILE.npz", help="arrays named after the graph's inputs")
    group.add_argument("--input", metavar="NAME=FILE.npy", action="append", default=[],
                       help="one input from a .npy file (repeatable)")
    group.add_argument("--set", metavar="NAME=NUMBER", action="append", default=[],
                       help="one input as a number (repeatable)")
    group.add_argument("--dim", metavar="SYMBOL=SIZE", action="append", default=[],
                       help="draw missing inputs at random with this size for a symbolic "
                       "dimension (repeatable)")
    group.add_argument("--random-seed", metavar="SEED", type=int,
                       help="seed for random inputs (implies random inputs; default 0)")
    if seeds:
        group.add_argument("--seed-grad", metavar="FILE.npz",
                           help="backward seeds named after the outputs (default: ones)")


def _plugin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plugin", metavar="MODULE", action="append", default=[],
                        help="import a module (or a .py file) that registers ops before the "
                        "graph is read (repeatable)")


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bngraph",
        description="Build computational graphs, run them forward and backward, and draw them. "
        "A GRAPH is a library name (see 'bngraph list') or a path to a .bng file.",
        epilog="example: bngraph demo",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    demo = sub.add_parser(
        "demo", help="the nine-stage BatchNorm on the seed data, shown and checked",
        description="Run the nine-stage BatchNorm on the seed notebook's data (x = arange(20) as "
        "5x4, gamma = 2, beta = 1, eps = 0.1, dout = out), print every stage's node, shape, "
        "value and gradient, and check it against the closed form.",
        epilog="example: bngraph demo --out renders/demo",
    )
    demo.add_argument("--out", metavar="DIR", default="renders/demo",
                      help="where the pictures go (default: renders/demo)")

    sub.add_parser(
        "list", help="the library graphs with their descriptions and inputs",
        description="List the library graphs with their one-line descriptions and inputs.",
        epilog="example: bngraph list",
    )

    run = sub.add_parser(
        "run", help="run a graph forward and backward",
        description="Run GRAPH forward and backward; print a summary of the outputs and of the "
        "gradient of every input, and write them to a .npz file with -o.",
        epilog="example: bngraph run batchnorm --dim N=64 --dim D=16 --random-seed 0 -o out.npz",
    )
    run.add_argument("graph", metavar="GRAPH")
    run.add_argument("-o", "--output", metavar="OUT.npz",
                     help="write outputs (by name) and gradients (grad_<input>) here")
    _input_options(run)
    _output_options(run)

    render = sub.add_parser(
        "render", help="draw a graph (with values and gradients when inputs are given)",
        description="Draw GRAPH to an .svg, .png, .pdf or .dot file. With inputs (any of the "
        "input options, or --example), the drawing shows values and gradients.",
        epilog="example: bngraph render batchnorm --example --view backward -o bn.svg",
    )
    render.add_argument("graph", metavar="GRAPH")
    render.add_argument("-o", "--output", metavar="FILE",
                        help="the picture; its suffix picks the format (default: GRAPH_VIEW.svg)")
    render.add_argument("--view", choices=("forward", "backward", "both"), default="forward",
                        help="which edges to draw (default: forward)")
    render.add_argument("--example", action="store_true",
                        help="run the library graph's example and draw its values")
    _input_options(render)

    check = sub.add_parser(
        "check", help="gradient check, and the closed form for library graphs",
        description="Check GRAPH's backward pass against central differences, and library graphs "
        "against their closed-form reference. Exit 0 when it holds, 1 when it does not.",
        epilog="example: bngraph check layernorm --dim N=8 --dim D=5",
    )
    check.add_argument("graph", metavar="GRAPH")
    check.add_argument("--fast", action="store_true",
                       help="check random projections instead of every element")
    _input_options(check, seeds=False)
    _output_options(check)

    compare = sub.add_parser(
        "compare", help="run two graphs on the same inputs and compare everything",
        description="Run GRAPH1 and GRAPH2 on the same inputs and report the largest absolute, "
        "relative and ulp differences of every output and input gradient. Exit 1 when they "
        "differ beyond the tolerances.",
        epilog="example: bngraph compare batchnorm batchnorm_composite",
    )
    compare.add_argument("graph", metavar="GRAPH1")
    compare.add_argument("other", metavar="GRAPH2")
    _input_options(compare)
    _output_options(compare)
    for command in sub.choices.values():
        _plugin_option(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.version:
        print(f"bngraph {__version__}")
        return 0
    if args.command is None:
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        from ..plugins import import_plugins, load_entry_points

        import_plugins(args.plugin)
        load_entry_points()
        return commands.dispatch(args)
    except BngraphError as error:
        if args.debug:
            raise
        print(f"bngraph {args.command}: error: {commands.one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:  # a file that cannot be written, a full disk
        if args.debug:
            raise
        print(f"bngraph {args.command}: error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(f"bngraph {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - a bug: still one line, the traceback on demand
        if args.debug:
            raise
        print(f"bngraph {args.command}: internal error: {type(error).__name__}: {error} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return EXIT_INTERNAL
