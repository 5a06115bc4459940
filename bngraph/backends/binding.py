"""Binding the inputs of a run on another array library than numpy.

The run's library is the library of its array inputs, decided once here: two
libraries in one run are refused, except numpy arrays and Python numbers beside
dask arrays, which the run takes in as dask does (as single-chunk dask arrays,
copied, so that editing them before the run is computed changes nothing). The
rules of numpy runs hold: Python numbers stay weak, integer and bool arrays become
float64 (integers stay integers for constant inputs), complex values are refused,
a value that broadcasts to its declared shape is computed with as that broadcast,
and arrays the backward pass reads are copied. Every op of the graph must run on
the library: one that does not is named before anything runs.

>>> import array_api_strict as xs, bngraph as bg
>>> bound = bind_namespace(bg.library.get("batchnorm").plan,
...                        {"x": xs.ones((5, 4)), "gamma": 2, "beta": 0})
>>> bound.backend.name, dict(bound.dims), bound.given
('array_api_strict', {'N': 5, 'D': 4}, {1: (), 2: ()})
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..binding import Bound, as_value, collect_inputs
from ..errors import InputError, ShapeError
from ..ops.arrays import NamespaceError, library, namespace
from ..schedule import Plan
from ..shapes import bind_dims
from .backend import Backend

__all__ = ["bind_namespace", "run_library", "take_in", "check_ops"]


_NUMBERS = (int, float, bool)


def run_library(given: Mapping[str, Any]) -> Any:
    """The array namespace of a run's inputs: the one library other than numpy among
    them; numpy arrays may stand beside dask arrays only.

    >>> import array_api_strict as xs
    >>> run_library({"x": xs.ones(2), "eps": 1e-5}).__name__
    'array_api_strict'
    """
    found: dict[str, tuple[Any, str]] = {}
    plain: list[tuple[str, Any]] = []
    for name, value in given.items():
        if type(value) in _NUMBERS:
            continue
        try:
            xp = namespace(value)
        except NamespaceError as error:
            raise NamespaceError(f"input {name!r}: {error}") from None
        if xp is np:
            plain.append((name, value))
        else:
            found.setdefault(library(xp), (xp, name))
    if len(found) > 1:
        listed = " and ".join(f"{n!r} is {_an(lib)} array" for lib, (_, n) in found.items())
        raise NamespaceError(
            f"inputs of two array libraries in one run: {listed}; give every input in one "
            "library (numpy arrays and Python numbers may stand beside dask arrays)"
        )
    ((name, (xp, first)),) = found.items()
    if plain and name != "dask":
        other, value = plain[0]
        what = (f"a numpy {value.dtype} scalar (float(...) makes it a Python number)"
                if isinstance(value, np.generic) else "a numpy array")
        raise NamespaceError(
            f"input {other!r} is {what} but {first!r} is {_an(name)} array: give every input "
            f"as {_an(name)} array or a Python number (numpy arrays may stand beside dask "
            "arrays only)"
        )
    return xp


def _an(word: str) -> str:
    """``word`` with its article: ``a torch``, ``an array_api_strict``."""
    return ("an " if word[0] in "aeiou" else "a ") + word


def take_in(xp: Any, name: str, value: Any, constant: bool = False) -> Any:
    """One input or seed in the run's library: weak numbers stay floats; integer and
    bool arrays become float64 unless ``constant``; complex values are refused."""
    if type(value) in _NUMBERS:
        return float(value)
    if namespace(value) is np:  # beside dask arrays: taken in as dask does, copied
        return xp.asarray(np.array(as_value(name, value, constant), copy=True))
    dtype = value.dtype
    if xp.isdtype(dtype, "real floating"):
        return value
    if xp.isdtype(dtype, "integral") and constant:
        return value
    if xp.isdtype(dtype, ("integral", "bool")):
        return xp.astype(value, xp.float64)
    if xp.isdtype(dtype, "complex floating"):
        raise InputError(
            f"input {name!r} holds {dtype} values: bngraph computes real gradients; give the "
            "real and imaginary parts as two inputs"
        )
    raise InputError(f"input {name!r} must hold numbers, not {dtype} values")


def _shape(name: str, value: Any) -> tuple[int, ...]:
    """A value's shape, all sizes known: dask arrays of unknown chunk sizes are refused."""
    if type(value) is float:
        return ()
    shape = tuple(value.shape)
    if any(not isinstance(d, int) and math.isnan(d) for d in shape):
        raise ShapeError(
            f"input {name!r} has unknown chunk sizes, shape {shape}: call "
            f"{name}.compute_chunk_sizes() first, so that its symbolic dimensions can bind"
        )
    return tuple(int(d) for d in shape)


def _device(given: Mapping[str, Any], values: list[Any], inputs: tuple[int, ...],
            names: tuple[str, ...]) -> Any:
    """The one device of the run's arrays; arrays on two devices are refused."""
    from array_api_compat import device

    found: dict[str, str] = {}
    first: Any = None
    for index in inputs:
        value = values[index]
        if value is None or type(value) is float:
            continue
        where = device(value)
        found.setdefault(str(where), names[index])
        if first is None:
            first = where
    if len(found) > 1:
        listed = ", ".join(f"{n} on {d}" for d, n in found.items())
        raise InputError(f"inputs on two devices in one run: {listed}; move them to one device")
    return first


def check_ops(plan: Plan, name: str) -> None:
    """Refuse, before anything runs, a graph with an op that does not run on ``name``."""
    ir = plan.ir
    for index in plan.order:
        op = ir.op(index)
        if op is not None and not op.runs_on(name):
            listed = ", ".join(sorted(op.namespaces or ()))
            raise NamespaceError(
                f"{ir.describe(index)} does not run on {name} arrays: op {op.name} runs on "
                f"{listed} only; give the inputs as numpy arrays to run this graph"
            )


def bind_namespace(plan: Plan, given: Mapping[str, Any]) -> Bound:
    """``bind_inputs`` for a run whose array inputs belong to another library than numpy
    (the names are already checked)."""
    ir = plan.ir
    xp = run_library(given)
    name = library(xp)
    check_ops(plan, name)

    def take(index: int, input_name: str, value: Any) -> Any:
        taken = take_in(xp, input_name, value, ir.params[index].get("grad") is False)
        if type(taken) is not float and plan.saved[index] and taken is value \
                and name != "dask":
            taken = xp.asarray(taken, copy=True)  # the backward pass reads it
        return taken

    values, shapes, caller, declared = collect_inputs(plan, given, take, _shape)
    dims = bind_dims(declared)
    floats = [values[i].dtype for i in plan.inputs if type(values[i]) is not float
              and xp.isdtype(values[i].dtype, "real floating")]
    float_dtype = xp.result_type(*floats) if floats else xp.float64
    backend = _backend(xp, name, _device(given, values, plan.inputs, ir.names), float_dtype)
    given_shapes = {}
    for input_name, shape, actual in declared:
        index = ir.index[input_name]
        full = tuple(d if isinstance(d, int) else dims[d] for d in shape)
        if actual != full:
            given_shapes[index] = actual
            values[index] = backend.broadcast(values[index], full)
            shapes[index] = full
    return Bound(values, shapes, dims, caller, given_shapes, float_dtype, backend)


def _backend(xp: Any, name: str, device: Any, float_dtype: Any) -> Backend:
    if name == "dask":
        from .lazy import DaskBackend

        return DaskBackend(xp, name, device, float_dtype)
    return Backend(xp, name, device, float_dtype)
