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
import warnings
from collections.abc import Sequence

from .. import __version__
from ..errors import BngraphError, NonFiniteWarning
from ..plugins import import_plugins, load_entry_points
from . import commands
from .memory import machine_memory
from .numbers import format_bytes

__all__ = ["main", "build_parser", "warning_notes"]

EXIT_FAILED_CHECK = 1
EXIT_BAD_INPUT = 2
EXIT_INTERNAL = 3


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit code 2, like every bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


INPUTS_HELP = (
    "Each input takes, in this order: the value given (--input, --set, then --inputs); else "
    "its declared default (input eps = 1e-5), which always wins over the example; else a "
    "random draw (--dim, --random-seed) or the library graph's example (--example, or no "
    "input option at all). The command says on stderr where each input came from."
)


def _memory_help() -> str:
    machine = machine_memory()
    here = f", {format_bytes(machine)} here" if machine is not None else ""
    return ("refuse inputs and runs that would need more memory than this, before allocating "
            f"(like 8G or 512M; default: the physical memory of this machine{here})")


def _input_options(parser: argparse.ArgumentParser, seeds: bool = True) -> None:
    group = parser.add_argument_group("inputs", INPUTS_HELP)
    group.add_argument("--inputs", metavar="FILE.npz|STORE.zarr",
                       help="arrays named after the graph's inputs: a .npz archive or a Zarr "
                       "group")
    group.add_argument("--input", metavar="NAME=FILE.npy", action="append", default=[],
                       help="one input from a .npy file or a Zarr array (repeatable)")
    group.add_argument("--set", metavar="NAME=NUMBER", action="append", default=[],
                       help="one input as a number (repeatable)")
    group.add_argument("--dim", metavar="SYMBOL=SIZE", action="append", default=[],
                       help="draw missing inputs at random with this size for a symbolic "
                       "dimension (repeatable)")
    group.add_argument("--random-seed", metavar="SEED",
                       help="seed for random inputs, a whole number >= 0 (implies random "
                       "inputs; default 0)")
    group.add_argument("--example", action="store_true",
                       help="fill the inputs not given (and without a default) from the library "
                       "graph's example")
    group.add_argument("--max-memory", metavar="BYTES", help=_memory_help())
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
        "gradient of every input, and write them to a .npz file or a Zarr store with -o. With "
        "--scheduler the run computes on a dask cluster, chunk by chunk: inputs are read "
        "lazily (a Zarr store, .npy files through a memory map, in chunks of rows), and "
        "-o OUT.zarr writes the results where they are computed, never gathered here.",
        epilog="example: bngraph run batchnorm --dim N=64 --dim D=16 --random-seed 0 -o "
        "out.npz; on a cluster: bngraph run batchnorm --inputs x.zarr --set gamma=1 --set "
        "beta=0 --scheduler local:2 --memory-limit 2G -o out.zarr",
    )
    run.add_argument("graph", metavar="GRAPH")
    run.add_argument("-o", "--output", metavar="OUT.npz|OUT.zarr",
                     help="write outputs (by name) and gradients (grad_<input>) to this .npz "
                     "file (.npz is added to another suffix; a directory is refused) or, for a "
                     "path ending in .zarr, to a Zarr store (an existing store is replaced)")
    cluster = run.add_argument_group(
        "cluster", "A run on a dask cluster (needs the dask extra: pip install 'bngraph[dask]').")
    cluster.add_argument("--scheduler", metavar="ADDRESS|local[:WORKERS]",
                         help="compute on the dask scheduler at ADDRESS (tcp://host:8786), or "
                         "on a local cluster started for the run (local: sized to this machine; "
                         "local:4: four worker processes); dask's progress shows on a terminal")
    cluster.add_argument("--memory-limit", metavar="BYTES",
                         help="the memory of each worker of --scheduler local (like 2G or 512M)")
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
    render.add_argument("--rules", action="store_true",
                        help="label each backward edge with the local rule that produced it")
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
        epilog="example: bngraph compare batchnorm batchnorm_composite --render diff.svg",
    )
    compare.add_argument("graph", metavar="GRAPH1")
    compare.add_argument("other", metavar="GRAPH2")
    compare.add_argument("--render", metavar="FILE",
                         help="also draw both graphs side by side, their differences painted "
                         "on them (.svg, .png, .pdf or .dot)")
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
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:  # numpy's warnings become notes
        warnings.simplefilter("always")
        try:
            import_plugins(args.plugin)
            load_entry_points()
            code = commands.dispatch(args, notes)
        except BngraphError as error:
            return _fail(args, error, commands.one_line(error), EXIT_BAD_INPUT)
        except OSError as error:  # a file that cannot be written, a full disk
            return _fail(args, error, str(error), EXIT_BAD_INPUT)
        except KeyboardInterrupt:
            print(f"bngraph {args.command}: interrupted", file=sys.stderr)
            return 130
        except Exception as error:  # noqa: BLE001 - a bug: still one line, the traceback on demand
            return _fail(args, error, f"internal error: {type(error).__name__}: {error} "
                         "(run with --debug for the traceback)", EXIT_INTERNAL)
    notes.extend(warning_notes(caught))
    if not getattr(args, "quiet", False):
        for note in notes:
            print(f"bngraph {args.command}: {note}", file=sys.stderr)
    return code


def _fail(args: argparse.Namespace, error: BaseException, message: str, code: int) -> int:
    """The one line of a failed command (warnings met on the way are not shown: the error
    says what went wrong); under ``--debug`` the traceback instead."""
    if args.debug:
        raise error
    text = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    if not text.startswith("internal error"):
        text = f"error: {text}"
    print(f"bngraph {args.command}: {text}", file=sys.stderr)
    return code


def warning_notes(caught: Sequence[warnings.WarningMessage], shown: int = 3) -> list[str]:
    """Python warnings as one line: each distinct message once. bngraph's own note on
    a NaN or infinity (which names the node that produced it) replaces numpy's
    floating-point warnings.

    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     for _ in range(3):
    ...         warnings.warn("invalid value encountered in divide", RuntimeWarning)
    >>> warning_notes(caught)
    ['warning: invalid value encountered in divide (RuntimeWarning)']
    """
    if any(issubclass(w.category, NonFiniteWarning) for w in caught):
        caught = [w for w in caught if not _floating_point(w)]
    distinct = list(dict.fromkeys(
        f"{(str(w.message).strip().splitlines() or [''])[0][:300]} ({w.category.__name__})"
        for w in caught
    ))
    if not distinct:
        return []
    more = f"; and {len(distinct) - shown} more" if len(distinct) > shown else ""
    return [f"warning{'s' if len(distinct) > 1 else ''}: " + "; ".join(distinct[:shown]) + more]


def _floating_point(caught: warnings.WarningMessage) -> bool:
    """numpy's warnings of invalid values, division by zero, overflow and underflow."""
    return caught.category is RuntimeWarning and " encountered in " in str(caught.message)
