"""What each command of the command line does; ``dispatch`` picks one.

>>> resolve_graph("batchnorm")[0].name
'batchnorm'
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import library
from ..backends import grad_key
from ..errors import BngraphError, InputError, UnknownInputError, closest
from ..formatting import format_index, format_number, format_table
from ..run import forward
from ..schedule import Planned
from .arrays import load_arrays
from .cluster import connect
from .inputs import InputOptions, Inputs, gather_inputs, parse_assignment
from .memory import memory_limit
from .numbers import parse_number, parse_seed, parse_size
from .results import npz_path, output_path, summarize, write_results

__all__ = ["dispatch", "resolve_graph", "one_line", "npz_path", "summarize"]

Notes = list[str]
"""One-line notes a command leaves for stderr (where its inputs came from, ...)."""


def one_line(error: BaseException) -> str:
    """An error as the one line the command line prints (a .bng error keeps its place)."""
    short = getattr(error, "one_line", None)
    if callable(short):
        return str(short())
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def resolve_graph(spec: str) -> tuple[Planned, dict[str, Any] | None]:
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
    """The input options of a command, every number checked (exit 2 on a bad one)."""
    memory = memory_limit(getattr(args, "max_memory", None))
    options = InputOptions(example=getattr(args, "example", False), memory=memory,
                           lazy=getattr(args, "scheduler", None) is not None)
    if args.random_seed is not None:
        options.random_seed = parse_seed(args.random_seed)
    if args.inputs:
        options.npz = Path(args.inputs)
    for text in args.input:
        name, path = parse_assignment(text, "--input")
        options.files.append((name, Path(path)))
    for text in args.set:
        name, value = parse_assignment(text, "--set")
        options.numbers.append((name, parse_number(value, f"--set {name}")))
    for text in args.dim:
        symbol, value = parse_assignment(text, "--dim")
        options.dims[symbol] = parse_size(value, f"--dim {symbol}")
    return options


def gather(graph: Planned, args: argparse.Namespace, example: dict[str, Any] | None,
           notes: Notes, **more: Any) -> Inputs:
    """The inputs of ``graph``; says where they came from in ``notes``."""
    inputs = gather_inputs(graph, input_options(args), example, **more)
    notes.append(inputs.describe())
    return inputs


def load_seeds(args: argparse.Namespace, graph: Planned) -> dict[str, np.ndarray]:
    """Backward seeds from ``--seed-grad``, named after the graph's outputs."""
    outputs = graph.plan.ir.outputs
    if not getattr(args, "seed_grad", None):
        return {}
    seeds = load_arrays(Path(args.seed_grad), memory_limit(getattr(args, "max_memory", None)))
    for name in seeds:
        if name not in outputs:
            raise UnknownInputError(
                f"--seed-grad {args.seed_grad}: graph {graph.plan.name!r} has no output {name!r}"
                f"{closest(name, outputs)}; outputs: {', '.join(outputs)}"
            )
    return seeds


def print_json(data: Any) -> None:
    """``data`` as standard JSON on stdout: NaN and infinities become null."""
    def plain(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        return value

    print(json.dumps(plain(data), indent=2, allow_nan=False))


def _summary_table(facts: dict[str, dict[str, Any]]) -> str:
    rows = [
        [name, format_index(tuple(f["shape"])), f["dtype"],
         *((_no_summary(f), "", "") if f["min"] is None else
           (format_number(f["min"]), format_number(f["mean"]), format_number(f["max"])))]
        for name, f in facts.items()
    ]
    return format_table(["", "shape", "dtype", "min", "mean", "max"], rows)


def _no_summary(facts: dict[str, Any]) -> str:
    return "(complex)" if facts["dtype"].startswith("complex") else "(empty)"


def cmd_list(args: argparse.Namespace, notes: Notes) -> int:
    for name in library.names():
        graph = library.get(name)
        print(f"{name}\n    {library.describe(name)}\n    inputs: {graph.plan.ir.signature()}")
    return 0


def cmd_run(args: argparse.Namespace, notes: Notes) -> int:
    graph, example = resolve_graph(args.graph)
    output = output_path(args.output) if args.output else None  # refused before running
    progress = sys.stderr.isatty() and not args.quiet
    with connect(args.scheduler, args.memory_limit, args.plugin, notes) as client:
        inputs = gather(graph, args, example, notes)
        run = forward(graph, inputs.values)
        seeds = load_seeds(args, graph)
        grads = run.backward(seeds) if seeds else run.backward()
        start = time.perf_counter()
        facts = write_results(run, output, progress)
        seconds = time.perf_counter() - start
    report: dict[str, Any] = {
        "graph": graph.plan.name,
        "inputs": inputs.sources,
        "outputs": {name: facts[name] for name in graph.plan.ir.outputs},
        "gradients": {name: facts[grad_key(name)] for name in grads},
        "file": None if output is None else str(output),
    }
    if args.json:
        print_json(report)
    elif not args.quiet:
        lazy = client is not None
        timing = (f"computed in {seconds:.3g} s" if lazy else
                  f"{run.stats.forward_seconds * 1e3:.3g} ms + "
                  f"{(run.stats.backward_seconds or 0) * 1e3:.3g} ms")
        print(f"{graph.plan.name}: forward and backward ({timing})")
        print("\noutputs\n" + _summary_table(report["outputs"]))
        print("\ngradients\n" + _summary_table(report["gradients"]))
        if output is not None:
            print(f"wrote {output}")
    return 0


def cmd_demo(args: argparse.Namespace, notes: Notes) -> int:
    from ..demo import run_demo

    return run_demo(sys.stdout, Path(args.out))


def cmd_render(args: argparse.Namespace, notes: Notes) -> int:
    from ..viz import render

    graph, example = resolve_graph(args.graph)
    output = args.output or f"{graph.plan.name}_{args.view}.svg"
    if args.example or input_options(args).any_given:
        inputs = gather(graph, args, example, notes)
        run = forward(graph, inputs.values, keep_values=True)
        if args.view != "forward":
            seeds = load_seeds(args, graph)
            run.backward(seeds) if seeds else run.backward()
        written = render(run, output, view=args.view, rules=args.rules)
    else:
        written = render(graph, output, view=args.view, rules=args.rules)
    print(f"wrote {written}")
    return 0


def _against_reference(spec: str, graph: Planned, inputs: dict[str, Any], seed: int) -> Any:
    """The graph against its closed form (library graphs only), on a random backward
    seed, as a ``CompareReport``; ``None`` for graphs without one."""
    from ..reference import REFERENCE_NAMES, closed_form
    from ..testing.compare import CompareReport, difference

    if spec not in library.names() or spec not in REFERENCE_NAMES:
        return None
    values = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    run = forward(graph, values)
    (output,) = graph.plan.ir.outputs
    dout = np.random.default_rng(seed).standard_normal(np.shape(run.outputs[output]))
    grads = run.backward(dout)
    expected_out, expected = closed_form(spec, values, dout)
    # float64 throughout: the graph and the closed form round differently, by a few
    # ulps of values of order one; 1e-10 is far below any mistake
    rows = [difference("output", output, run.outputs[output], expected_out, 1e-10, 1e-10)]
    rows += [difference("gradient", name, grads[name], expected[name], 1e-10, 1e-10)
             for name in graph.plan.ir.inputs if name in expected]
    return CompareReport(graph.plan.name, "closed form", tuple(rows), 1e-10, 1e-10)


def cmd_check(args: argparse.Namespace, notes: Notes) -> int:
    from ..testing import GradcheckError, gradcheck
    from .progress import Progress

    graph, example = resolve_graph(args.graph)
    gathered = gather(graph, args, example, notes)
    inputs = gathered.values
    seed = input_options(args).random_seed or 0
    bar: Progress | None = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = Progress(f"gradcheck {graph.plan.name}", total)
        bar.done = done
        bar.advance(1)

    try:
        report = gradcheck(graph, inputs, fast=args.fast, seed=seed, progress=progress)
    except GradcheckError as error:
        report = error.report
    finally:
        if bar is not None:
            bar.close()
    reference = _against_reference(args.graph, graph, {**gathered.defaults, **inputs}, seed)
    ok = report.ok and (reference is None or reference.ok)
    if args.json:
        print_json({
            "graph": graph.plan.name, "ok": ok, "inputs": gathered.sources,
            "gradcheck": report.to_dict(),
            "reference": None if reference is None else reference.to_dict(),
        })
    elif not args.quiet:
        print(report)
        if reference is not None:
            print(f"\n{reference}")
        print(f"\n{graph.plan.name}: {'check passed' if ok else 'CHECK FAILED'}")
    return 0 if ok else 1


def cmd_compare(args: argparse.Namespace, notes: Notes) -> int:
    from ..testing import compare

    first, example = resolve_graph(args.graph)
    second, other_example = resolve_graph(args.other)
    if args.render:
        from ..viz.render import output_format

        output_format(args.render)  # a bad suffix is said before anything runs
    # both graphs get the same values, the first graph's defaults included
    inputs = gather(first, args, example if example is not None else other_example, notes,
                    also=(second,), explicit_defaults=True)
    for name, value in inputs.defaults.items():
        theirs_ir = second.plan.ir
        other = theirs_ir.spec(name).params.get("default") if name in theirs_ir.inputs else None
        if other != value:
            theirs = "not declared" if other is None else f"{other:g}"
            notes.append(f"both graphs get {name} = {value:g}, the default of {first.plan.name!r} "
                         f"(in {second.plan.name!r} it is {theirs})")
    report = compare(first, second, inputs.values, load_seeds(args, first) or None)
    picture = None
    if args.render:
        from ..viz.compare_view import write_comparison

        picture = write_comparison(first, second, report, args.render)
    if args.json:
        print_json({**report.to_dict(), "inputs": inputs.sources, "picture": picture})
    elif not args.quiet:
        print(report)
        if picture is not None:
            print(f"wrote {picture}")
    return 0 if report.ok else 1


COMMANDS = {
    "demo": cmd_demo,
    "list": cmd_list,
    "run": cmd_run,
    "render": cmd_render,
    "check": cmd_check,
    "compare": cmd_compare,
}


def dispatch(args: argparse.Namespace, notes: Notes | None = None) -> int:
    """Run the command that ``args`` names; returns its exit code. The command's notes
    for stderr are appended to ``notes``."""
    try:
        command = COMMANDS[args.command]
    except KeyError:
        raise BngraphError(f"the {args.command} command is not available") from None
    return command(args, notes if notes is not None else [])
