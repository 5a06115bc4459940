"""What each command of the command line does; ``dispatch`` picks one.

>>> resolve_graph("batchnorm")[0].name
'batchnorm'
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from .. import library
from ..errors import BngraphError, InputError, UnknownInputError, closest
from ..formatting import format_index, format_number, format_table
from ..graph import Graph
from .inputs import InputOptions, gather_inputs, load_arrays, parse_assignment

__all__ = ["dispatch", "resolve_graph", "one_line"]


def one_line(error: BaseException) -> str:
    """An error as the one line the command line prints (a .bng error keeps its place)."""
    short = getattr(error, "one_line", None)
    if callable(short):
        return str(short())
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def resolve_graph(spec: str) -> tuple[Graph, dict[str, Any] | None]:
    """A library graph by name (with its example inputs), or a graph loaded from a .bng file."""
    if spec in library.names():
        return library.get(spec), library.example(spec)
    path = Path(spec)
    if path.suffix == ".bng" or path.exists():
        if not path.is_file():
            raise InputError(f"no such file: {spec}")
        from ..dsl import load

        return load(path), None
    raise InputError(
        f"{spec!r} is neither a library graph{closest(spec, library.names())} nor a .bng file; "
        f"library graphs: {', '.join(library.names())}"
    )


def input_options(args: argparse.Namespace) -> InputOptions:
    options = InputOptions(random_seed=args.random_seed)
    if args.inputs:
        options.npz = Path(args.inputs)
    for text in args.input:
        name, path = parse_assignment(text, "--input")
        options.files.append((name, Path(path)))
    for text in args.set:
        name, value = parse_assignment(text, "--set")
        try:
            options.numbers.append((name, float(value)))
        except ValueError:
            raise InputError(f"--set {name}: {value!r} is not a number") from None
    for text in args.dim:
        symbol, value = parse_assignment(text, "--dim")
        if not value.isdigit() or int(value) == 0:
            raise InputError(f"--dim {symbol}: {value!r} is not a positive size")
        options.dims[symbol] = int(value)
    return options


def gather(graph: Graph, args: argparse.Namespace, example: dict[str, Any] | None) -> dict[str, Any]:
    return gather_inputs(graph, input_options(args), example)


def load_seeds(args: argparse.Namespace, graph: Graph) -> dict[str, np.ndarray]:
    """Backward seeds from ``--seed-grad``, named after the graph's outputs."""
    if not getattr(args, "seed_grad", None):
        return {}
    seeds = load_arrays(Path(args.seed_grad))
    for name in seeds:
        if name not in graph.outputs:
            raise UnknownInputError(
                f"--seed-grad {args.seed_grad}: graph {graph.name!r} has no output {name!r}"
                f"{closest(name, graph.outputs)}; outputs: {', '.join(graph.outputs)}"
            )
    return seeds


def summarize(array: Any) -> dict[str, Any]:
    """Shape, dtype, min, mean and max of an array, as plain Python values."""
    values = np.asarray(array)
    finite = values.size > 0
    return {
        "shape": list(values.shape),
        "dtype": str(values.dtype),
        "min": float(values.min()) if finite else None,
        "mean": float(values.mean()) if finite else None,
        "max": float(values.max()) if finite else None,
    }


def _summary_table(facts: dict[str, dict[str, Any]]) -> str:
    rows = [
        [name, format_index(tuple(f["shape"])), f["dtype"],
         *(("(empty)", "", "") if f["min"] is None else
           (format_number(f["min"]), format_number(f["mean"]), format_number(f["max"])))]
        for name, f in facts.items()
    ]
    return format_table(["", "shape", "dtype", "min", "mean", "max"], rows)


def cmd_list(args: argparse.Namespace) -> int:
    for name in library.names():
        graph = library.get(name)
        print(f"{name}\n    {library.describe(name)}\n    inputs: {graph.signature()}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    graph, example = resolve_graph(args.graph)
    run = graph.forward(gather(graph, args, example))
    seeds = load_seeds(args, graph)
    grads = run.backward(seeds) if seeds else run.backward()
    arrays = {name: np.asarray(value) for name, value in run.outputs.items()}
    for name, grad in grads.items():
        key = f"grad_{name}"
        if key in arrays:
            raise InputError(f"output {key!r} clashes with the gradient of input {name!r} in the .npz")
        arrays[key] = grad
    if args.output:
        np.savez(args.output, **arrays)  # type: ignore[arg-type]  # the stub's keywords
    report = {
        "graph": graph.name,
        "outputs": {name: summarize(run.outputs[name]) for name in graph.outputs},
        "gradients": {name: summarize(grad) for name, grad in grads.items()},
        "file": args.output,
    }
    if args.json:
        print(json.dumps(report, indent=2))
    elif not args.quiet:
        print(f"{graph.name}: forward and backward ({run.stats.forward_seconds * 1e3:.3g} ms + "
              f"{(run.stats.backward_seconds or 0) * 1e3:.3g} ms)")
        print("\noutputs\n" + _summary_table(report["outputs"]))
        print("\ngradients\n" + _summary_table(report["gradients"]))
        if args.output:
            print(f"wrote {args.output}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from ..demo import run_demo

    return run_demo(sys.stdout, Path(args.out))


def _given_inputs(args: argparse.Namespace) -> bool:
    return bool(args.inputs or args.input or args.set or args.dim or args.random_seed is not None)


def cmd_render(args: argparse.Namespace) -> int:
    from ..viz import render

    graph, example = resolve_graph(args.graph)
    output = args.output or f"{graph.name}_{args.view}.svg"
    if args.example or _given_inputs(args):
        if args.example and example is None:
            raise InputError(f"{args.graph} has no example inputs; give them with --inputs, "
                             "--input, --set or --dim")
        run = graph.forward(gather(graph, args, example), keep_values=True)
        if args.view != "forward":
            seeds = load_seeds(args, graph)
            run.backward(seeds) if seeds else run.backward()
        written = render(run, output, view=args.view)
    else:
        written = render(graph, output, view=args.view)
    print(f"wrote {written}")
    return 0


def _against_reference(spec: str, graph: Graph, inputs: dict[str, Any], seed: int) -> Any:
    """The graph against its closed form (library graphs only), on a random backward
    seed, as a ``CompareReport``; ``None`` for graphs without one."""
    from ..reference import REFERENCE_NAMES, closed_form
    from ..testing.compare import CompareReport, difference

    if spec not in library.names() or spec not in REFERENCE_NAMES:
        return None
    values = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    run = graph.forward(values)
    (output,) = graph.outputs
    dout = np.random.default_rng(seed).standard_normal(np.shape(run.outputs[output]))
    grads = run.backward(dout)
    expected_out, expected = closed_form(spec, values, dout)
    # float64 throughout: the graph and the closed form round differently, by a few
    # ulps of values of order one; 1e-10 is far below any mistake
    rows = [difference("output", output, run.outputs[output], expected_out, 1e-10, 1e-10)]
    rows += [difference("gradient", name, grads[name], expected[name], 1e-10, 1e-10)
             for name in graph.inputs if name in expected]
    return CompareReport(graph.name, "closed form", tuple(rows), 1e-10, 1e-10)


def cmd_check(args: argparse.Namespace) -> int:
    from ..testing import GradcheckError, gradcheck
    from .progress import Progress

    graph, example = resolve_graph(args.graph)
    inputs = gather(graph, args, example)
    seed = args.random_seed or 0
    bar: Progress | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress(f"gradcheck {graph.name}", total)
        bar.done = done
        bar.advance(1)

    try:
        report = gradcheck(graph, inputs, fast=args.fast, seed=seed, progress=progress)
    except GradcheckError as error:
        report = error.report
    finally:
        if bar is not None:
            bar.close()
    reference = _against_reference(args.graph, graph, inputs, seed)
    ok = report.ok and (reference is None or reference.ok)
    if args.json:
        print(json.dumps({
            "graph": graph.name, "ok": ok, "gradcheck": report.to_dict(),
            "reference": None if reference is None else reference.to_dict(),
        }, indent=2))
    elif not args.quiet:
        print(report)
        if reference is not None:
            print(f"\n{reference}")
        print(f"\n{graph.name}: {'check passed' if ok else 'CHECK FAILED'}")
    return 0 if ok else 1


def cmd_compare(args: argparse.Namespace) -> int:
    from ..testing import compare

    first, example = resolve_graph(args.graph)
    second, other_example = resolve_graph(args.other)
    inputs = gather(first, args, example if example is not None else other_example)
    report = compare(first, second, inputs, load_seeds(args, first) or None)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    elif not args.quiet:
        print(report)
    return 0 if report.ok else 1


COMMANDS = {
    "demo": cmd_demo,
    "list": cmd_list,
    "run": cmd_run,
    "render": cmd_render,
    "check": cmd_check,
    "compare": cmd_compare,
}


def dispatch(args: argparse.Namespace) -> int:
    """Run the command that ``args`` names; returns its exit code."""
    try:
        command = COMMANDS[args.command]
    except KeyError:
        raise BngraphError(f"the {args.command} command is not available") from None
    return command(args)
