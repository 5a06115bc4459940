"""Inputs and seeds for the command line: from .npz/.npy files, numbers, random draws
from the declared symbolic shapes, or the library graph's example.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> values = gather_inputs(g, InputOptions(dims={"N": 3, "D": 2}, random_seed=0))
>>> values["x"].shape, values["gamma"].shape, "eps" in values
((3, 2), (2,), False)
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError, UnknownInputError, closest
from ..graph import Graph

__all__ = ["InputOptions", "gather_inputs", "load_arrays", "parse_assignment"]


@dataclass
class InputOptions:
    """What the user said about inputs on the command line."""

    npz: Path | None = None
    files: list[tuple[str, Path]] = field(default_factory=list)
    numbers: list[tuple[str, float]] = field(default_factory=list)
    dims: dict[str, int] = field(default_factory=dict)
    random_seed: int | None = None


def parse_assignment(text: str, what: str) -> tuple[str, str]:
    """Split ``NAME=VALUE``; anything else is a usage error naming the option.

    >>> parse_assignment("N=64", "--dim")
    ('N', '64')
    """
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        raise InputError(f"{what} expects NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


def load_arrays(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a .npz archive (or one .npy file, keyed by its stem); never unpickles."""
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    try:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {path.stem: loaded}
        with loaded:
            return {name: loaded[name] for name in loaded.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as error:
        raise InputError(f"cannot read {path}: not a valid .npz/.npy file ({error})") from None


def _load_npy(name: str, path: Path) -> np.ndarray:
    if not path.is_file():
        raise InputError(f"--input {name}: no such file: {path}")
    try:
        value = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as error:
        raise InputError(f"--input {name}: cannot read {path} as a .npy file ({error})") from None
    if not isinstance(value, np.ndarray):
        raise InputError(f"--input {name}: {path} holds several arrays; use --inputs for a .npz")
    return value


def _check_names(graph: Graph, names: list[str], source: str) -> None:
    for name in names:
        if name not in graph.inputs:
            raise UnknownInputError(
                f"{source}: graph {graph.name!r} has no input {name!r}"
                f"{closest(name, graph.inputs)}; its inputs: {graph.signature()}"
            )


def _random(graph: Graph, name: str, dims: dict[str, int], rng: np.random.Generator) -> np.ndarray:
    declared = graph.spec(name).params.get("shape")
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
    shape = tuple(dims[d] if isinstance(d, str) else d for d in declared)
    return rng.standard_normal(shape)


def gather_inputs(
    graph: Graph, options: InputOptions, example: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Every input the run gets, in order of precedence: --input and --set, then
    --inputs, then random draws (when --dim or --random-seed is given), then the example.
    Inputs with a default that nobody gave keep their default."""
    given: dict[str, Any] = {}
    if options.npz is not None:
        arrays = load_arrays(options.npz)
        _check_names(graph, list(arrays), f"--inputs {options.npz}")
        given.update(arrays)
    for name, path in options.files:
        _check_names(graph, [name], f"--input {name}")
        given[name] = _load_npy(name, path)
    for name, number in options.numbers:
        _check_names(graph, [name], f"--set {name}")
        given[name] = number
    defaults = {n for n in graph.inputs if "default" in graph.spec(n).params}
    missing = [n for n in graph.inputs if n not in given and n not in defaults]
    if options.dims or options.random_seed is not None:
        rng = np.random.default_rng(options.random_seed or 0)
        for name in missing:
            given[name] = _random(graph, name, options.dims, rng)
    elif example is not None:
        given.update({n: v for n, v in example.items() if n not in given})
    return given
