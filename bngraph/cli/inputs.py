"""The inputs of a command: which value each input gets, and where it came from.

Precedence, input by input:

1. given: ``--input NAME=FILE.npy`` and ``--set NAME=NUMBER``, then ``--inputs FILE.npz``;
2. the input's declared default (``input eps = 1e-5``), which always wins over 3;
3. for the inputs still missing: random draws from the declared shapes (``--dim``,
   ``--random-seed``), or the library graph's example (``--example``, or when no input
   option is given at all for a library graph).

Every source is recorded, so that the command can say on stderr where each value
came from. Sizes are checked before anything is drawn or run. With ``lazy`` (the
command line's ``--scheduler``), inputs become dask arrays read chunk by chunk (Zarr
stores, ``.npy`` files through a memory map) or drawn chunk by chunk, and what must
fit in memory is each chunk, not the run.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> inputs = gather_inputs(g, InputOptions(dims={"N": 3, "D": 2}, random_seed=0))
>>> inputs.values["x"].shape, inputs.values["gamma"].shape, "eps" in inputs.values
((3, 2), (2,), False)
>>> inputs.describe()
'inputs: x, gamma, beta random (seed 0); eps = 1e-05 by default'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, MissingInputError, UnknownInputError, closest
from ..schedule import Planned
from .arrays import Declared, MemoryLimit, declared_arrays, declared_npy
from .memory import check_fits
from .numbers import format_bytes
from .stores import MAX_CHUNKS, declared_zarr, is_zarr, needs_dask, row_chunks

__all__ = ["InputOptions", "Inputs", "gather_inputs", "parse_assignment", "symbols"]

DEFAULT = "by default"


@dataclass
class InputOptions:
    """What the user said about inputs on the command line."""

    npz: Path | None = None
    files: list[tuple[str, Path]] = field(default_factory=list)
    numbers: list[tuple[str, float]] = field(default_factory=list)
    dims: dict[str, int] = field(default_factory=dict)
    random_seed: int | None = None
    example: bool = False
    memory: MemoryLimit = field(default_factory=lambda: MemoryLimit(2**63, "no limit"))
    lazy: bool = False

    @property
    def random(self) -> bool:
        """Whether missing inputs are drawn at random."""
        return bool(self.dims) or self.random_seed is not None

    @property
    def any_given(self) -> bool:
        """Whether any input option was given (then the example is used only if asked)."""
        return bool(self.npz or self.files or self.numbers) or self.random


@dataclass
class Inputs:
    """The values a run gets, and the source of every input of the graph."""

    values: dict[str, Any]
    sources: dict[str, str]
    defaults: dict[str, Any]

    def describe(self) -> str:
        """One line: each source with its inputs, in the graph's order."""
        groups: dict[str, list[str]] = {}
        for name, source in self.sources.items():
            groups.setdefault(source, []).append(name)
        parts = [
            ", ".join(f"{n} = {self.defaults[n]:g}" for n in names) + f" {DEFAULT}"
            if source == DEFAULT else f"{', '.join(names)} {source}"
            for source, names in groups.items()
        ]
        return "inputs: " + "; ".join(parts)


def parse_assignment(text: str, what: str) -> tuple[str, str]:
    """Split ``NAME=VALUE``; anything else is a usage error naming the option.

    >>> parse_assignment("N=64", "--dim")
    ('N', '64')
    """
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        raise InputError(f"{what} expects NAME=VALUE, got {text[:60]!r}")
    return name.strip(), value.strip()


def symbols(graph: Planned) -> list[str]:
    """The symbolic dimensions the graph's inputs declare, in order of first use."""
    declared = [graph.plan.ir.spec(n).params.get("shape") or () for n in graph.plan.ir.inputs]
    return list(dict.fromkeys(d for shape in declared for d in shape if isinstance(d, str)))


def _check_names(graph: Planned, names: Sequence[str], source: str) -> None:
    for name in names:
        if name not in graph.plan.ir.inputs:
            raise UnknownInputError(
                f"{source}: graph {graph.plan.name!r} has no input {name!r}"
                f"{closest(name, graph.plan.ir.inputs)}; its inputs: {graph.plan.ir.signature()}"
            )


def _check_dims(graph: Planned, dims: dict[str, int]) -> None:
    known = symbols(graph)
    for symbol in dims:
        if symbol not in known:
            listed = (f"its symbols: {', '.join(known)}" if known
                      else "it declares no symbolic dimension")
            same_letters = [k for k in known if k.lower() == symbol.lower()]
            hint = (f" (did you mean {same_letters[0]!r}?)" if same_letters
                    else closest(symbol, known))
            raise UnknownInputError(
                f"--dim {symbol}: graph {graph.plan.name!r} has no symbol {symbol!r}{hint}; "
                f"{listed} "
                f"(inputs {graph.plan.ir.signature()})"
            )


def _given(graph: Planned, options: InputOptions) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if options.npz is not None:
        arrays = (declared_zarr(options.npz, options.memory, options.lazy)
                  if is_zarr(options.npz) else declared_arrays(options.npz, options.memory))
        _check_names(graph, list(arrays), f"--inputs {options.npz}")
        values.update(arrays)
        sources.update(dict.fromkeys(arrays, f"given ({options.npz.name})"))
    for name, path in options.files:
        _check_names(graph, [name], f"--input {name}")
        try:
            values[name] = _declared_file(path, name, options)
        except InputError as error:
            raise InputError(f"--input {name}: {error}") from None
        sources[name] = f"given ({path.name})"
    for name, number in options.numbers:
        _check_names(graph, [name], f"--set {name}")
        values[name] = number
        sources[name] = "given (--set)"
    return values, sources


def _declared_file(path: Path, name: str, options: InputOptions) -> Declared:
    """``--input NAME=FILE``: one ``.npy`` file, or one array of a Zarr store."""
    if not is_zarr(path):
        return declared_npy(path, name, options.memory, options.lazy)
    arrays = declared_zarr(path, options.memory, options.lazy)
    if len(arrays) != 1:
        raise InputError(f"{path} is a Zarr group of {len(arrays)} arrays; give it with "
                         "--inputs, or name one array: --input NAME=STORE.zarr/ARRAY")
    return next(iter(arrays.values()))


def _bound_dims(graph: Planned, values: dict[str, Any], dims: dict[str, int]) -> dict[str, int]:
    """The sizes the given arrays bind (aligned from the right, as numpy broadcasts), with
    the ``--dim`` sizes; a ``--dim`` that contradicts a given array is refused."""
    bound = dict(dims)
    for name, value in values.items():
        declared = graph.plan.ir.spec(name).params.get("shape")
        shape = _shape(value)
        if declared is None or len(shape) > len(declared):
            continue
        for want, got in zip(declared[len(declared) - len(shape):], shape, strict=True):
            if not isinstance(want, str) or got == 1:
                continue
            if want in dims and dims[want] != got:
                raise InputError(
                    f"--dim {want}={dims[want]}, but input {name!r} of shape {shape} gives "
                    f"{want} = {got}"
                )
            bound.setdefault(want, got)
    return bound


def _shape(value: Any) -> tuple[int, ...]:
    return value.shape if isinstance(value, Declared) else np.shape(value)


def _itemsize(values: dict[str, Any]) -> int:
    """Bytes per element of the run: float64 unless the inputs are all narrower floats."""
    dtypes = [value.dtype if isinstance(value, Declared) else np.asarray(value).dtype
              for value in values.values() if not isinstance(value, (int, float))]
    return max((d.itemsize if d.kind in "fc" else 8 for d in dtypes), default=8)


def _random(
    graph: Planned, name: str, dims: dict[str, int], rng: np.random.Generator
) -> np.ndarray:
    return rng.standard_normal(_random_shape(graph, name, dims))


def _random_shape(graph: Planned, name: str, dims: dict[str, int]) -> tuple[int, ...]:
    """The shape of a random draw for input ``name``: its declared shape, symbols bound;
    a constant input is data, never drawn."""
    params = graph.plan.ir.spec(name).params
    if params.get("grad") is False:
        raise InputError(
            f"input {name!r} is a constant (labels, indices, a mask): data, not drawn at "
            f"random; give it with --input {name}=FILE.npy, --inputs or --set"
        )
    declared = params.get("shape")
    if declared is None:
        raise InputError(
            f"input {name!r} declares no shape, so it cannot be drawn at random; "
            f"give it with --input, --inputs or --set"
        )
    missing = [d for d in declared if isinstance(d, str) and d not in dims]
    if missing:
        raise InputError(
            f"input {name}[{', '.join(map(str, declared))}] needs "
            + " ".join(f"--dim {d}=SIZE" for d in dict.fromkeys(missing))
        )
    return tuple(dims[d] if isinstance(d, str) else d for d in declared)


def gather_inputs(
    graph: Planned,
    options: InputOptions,
    example: dict[str, Any] | None = None,
    *,
    also: Sequence[Planned] = (),
    explicit_defaults: bool = False,
) -> Inputs:
    """Every input's value and source (see the module's precedence). ``also`` are other
    graphs run on the same inputs, counted in the memory check; with ``explicit_defaults``
    the defaults are passed as values (so that two graphs get the same ones)."""
    if options.example and options.random:
        raise InputError("--example and random inputs (--dim, --random-seed) exclude each other")
    if options.example and example is None:
        raise InputError(f"graph {graph.plan.name!r} has no example inputs "
                         "(only library graphs have "
                         "one); give inputs with --inputs, --input, --set or --dim")
    _check_dims(graph, options.dims)
    values, sources = _given(graph, options)
    defaults = {n: graph.plan.ir.spec(n).params["default"] for n in graph.plan.ir.inputs
                if n not in values and graph.plan.ir.spec(n).params.get("default") is not None}
    sources.update(dict.fromkeys(defaults, DEFAULT))
    if explicit_defaults:
        values.update(defaults)
    missing = [n for n in graph.plan.ir.inputs if n not in sources]
    use_example = example is not None and (options.example or not options.any_given)
    if missing and use_example:
        assert example is not None
        values.update({n: example[n] for n in missing if n in example})
        sources.update(
            {n: f"from the example of {graph.plan.name!r}" for n in missing if n in example})
    elif missing and not options.random:
        example_too = ("" if example is None
                       else ", or take the library example's with --example")
        raise MissingInputError(
            f"graph {graph.plan.name!r}: missing input(s) {', '.join(map(repr, missing))}; "
            "give them "
            f"with --inputs, --input or --set, draw them with --dim SYMBOL=SIZE{example_too} "
            f"(it expects {graph.plan.ir.signature()})"
        )
    dims = _bound_dims(graph, values, options.dims)
    if options.lazy:
        values = {n: _lazy(n, v, options.memory) for n, v in values.items()}
    else:
        check_fits((graph, *also), dims, _itemsize(values), options.memory)  # before any read
        values = {n: v.load() if isinstance(v, Declared) else v for n, v in values.items()}
    if options.random:
        rng = np.random.default_rng(options.random_seed or 0)
        for name in missing:
            values[name] = (_random_lazy(graph, name, dims, options) if options.lazy
                            else _random(graph, name, dims, rng))
            sources[name] = f"random (seed {options.random_seed or 0})"
    return Inputs(values, {n: sources[n] for n in graph.plan.ir.inputs if n in sources}, defaults)


def _lazy(name: str, value: Any, memory: MemoryLimit) -> Any:
    """An input as a dask array read chunk by chunk (numbers stay numbers), each chunk
    checked against the memory allowed before anything is read."""
    if isinstance(value, (int, float)):
        return value
    try:
        import dask.array as da
    except ImportError:
        raise needs_dask("--scheduler") from None
    if isinstance(value, Declared) and value.lazy is not None:
        array = value.lazy()
    else:  # an .npz member or a library example: in memory already, or read whole
        loaded = np.asarray(value.load() if isinstance(value, Declared) else value)
        array = da.from_array(loaded, chunks=row_chunks(loaded.shape, loaded.dtype.itemsize))
    _check_chunks(name, array, memory)
    return array


def _check_chunks(name: str, array: Any, memory: MemoryLimit) -> None:
    largest = math.prod(max(c) if c else 0 for c in array.chunks) * array.dtype.itemsize
    if largest > memory.limit:
        raise InputError(f"input {name!r} has chunks of {format_bytes(largest)}, more than the "
                         f"memory allowed, {memory.describe()}")
    if array.npartitions > MAX_CHUNKS:
        raise InputError(f"input {name!r} has {array.npartitions} chunks, more than "
                         f"{MAX_CHUNKS}: give it in larger chunks")


def _random_lazy(graph: Planned, name: str, dims: dict[str, int], options: InputOptions) -> Any:
    """A random input drawn by dask chunk by chunk, on the workers (other numbers than
    numpy's draws for the same seed)."""
    import dask.array as da

    shape = _random_shape(graph, name, dims)
    array = da.random.default_rng(options.random_seed or 0).standard_normal(
        shape, chunks=row_chunks(shape, 8))
    _check_chunks(name, array, options.memory)
    return array
