"""A run's inputs: the values given, the declared defaults, and the symbols they bind.

``bind_inputs(plan, given)`` checks the names, turns every value into what the
engine computes with and binds the symbolic dimensions of the declared shapes:

- Python numbers stay weak floats (they take the dtype of the arrays they meet);
  integer and bool arrays become float64, except for constant inputs (indices,
  labels), whose integers stay integers; float16, float32 and float64 stay as they
  are; complex values are refused (gradients here are real).
- A value whose shape broadcasts to its declared shape is computed with as that
  broadcast (a read-only view, no copy): ``x = arange(4)`` for ``x[N, D]`` is one
  sample of four features, shape (1, 4). Its gradient is summed back to the shape
  given.
- An array the backward pass will read is copied, so that editing it after
  ``forward`` cannot change a later ``backward``.

>>> import numpy as np, bngraph as bg
>>> bound = bind_inputs(bg.library.get("batchnorm").plan, {"x": np.ones((5, 4)), "gamma": 2,
...                                                        "beta": 0})
>>> dict(bound.dims), bound.shapes[1], bound.given
({'N': 5, 'D': 4}, (4,), {1: (), 2: ()})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from .errors import InputError, MissingInputError, UnknownInputError, closest
from .ir import IR
from .ops.arrays import namespace
from .schedule import Plan
from .shapes import bind_dims_cached

__all__ = ["Bound", "bind_inputs", "as_value", "collect_inputs", "missing_inputs"]

_NUMBERS = (int, float, bool)


class Bound(NamedTuple):
    """A run's starting state: the value list and shapes (inputs filled in), the
    bound symbols, the caller's own arrays (gradients must never alias them), the
    shapes given for inputs computed with as a broadcast, the run's float dtype
    (what a weak Python number becomes when it has to be an array) and, for a run on
    another array library than numpy, its backend (``bngraph.backends``)."""

    values: list[Any]
    shapes: list[tuple[int, ...]]
    dims: Mapping[str, int]
    caller: list[Any]
    given: dict[int, tuple[int, ...]]
    float_dtype: Any
    backend: Any = None


def bind_inputs(plan: Plan, given: Mapping[str, Any]) -> Bound:
    """Check and convert the inputs ``given`` by name, fill in defaults, bind symbols.

    The run's array library is decided here, once: numpy for numpy arrays and
    numbers; given arrays of another library (dask, torch, CuPy, any library of the
    array API standard), the run computes in that library (``bngraph.backends``)."""
    ir = plan.ir
    if not plan.input_names.issuperset(given):
        unknown = next(k for k in given if k not in plan.input_names)
        raise UnknownInputError(
            f"graph {ir.name!r} has no input {unknown!r}"
            f"{closest(unknown, ir.inputs)}; valid inputs: {', '.join(ir.inputs)}"
        )
    for name in (ir.names[i] for i in plan.inputs if ir.names[i] in given):
        value = given[name]
        if type(value) is not np.ndarray and type(value) not in _NUMBERS \
                and namespace(value) is not np:
            from .backends.binding import bind_namespace

            return bind_namespace(plan, given)

    def take(index: int, name: str, value: Any) -> Any:
        taken = as_value(name, value, ir.params[index].get("grad") is False)
        if type(taken) is not float and plan.saved[index] and np.may_share_memory(taken, value):
            taken = taken.copy()  # the backward pass reads it: keep it as given
        return taken

    values, shapes, caller, declared = collect_inputs(plan, given, take, _numpy_shape)
    dims = bind_dims_cached(tuple(declared))
    float_dtype = _float_dtype(values[i] for i in plan.inputs)
    broadcast = {
        ir.index[name]: tuple(d if isinstance(d, int) else dims[d] for d in shape)
        for name, shape, actual in declared if len(actual) != len(shape) or 1 in actual
    }
    given_shapes = {}
    for index, full in broadcast.items():
        if shapes[index] != full:
            given_shapes[index] = shapes[index]
            value = values[index]
            if type(value) is float:  # a weak number takes the dtype of the run's arrays
                value = np.asarray(value, float_dtype)
            values[index] = np.broadcast_to(value, full)
            shapes[index] = full
    return Bound(values, shapes, dims, caller, given_shapes, float_dtype)


Declared = tuple[str, Any, tuple[int, ...]]


def collect_inputs(
    plan: Plan, given: Mapping[str, Any], take: Callable[[int, str, Any], Any],
    shape_of: Callable[[str, Any], tuple[int, ...]],
) -> tuple[list[Any], list[tuple[int, ...]], list[Any], list[Declared]]:
    """The walk over the inputs that every binder makes: each value given, as
    ``take(index, name, value)`` turns it (or the input's default), in the value list;
    its shape (``shape_of``); the caller's own arrays; the declared shapes beside the
    actual ones. Raises for the inputs given no value that have no default."""
    ir = plan.ir
    values = plan.blank_values
    shapes: list[tuple[int, ...]] = [()] * len(ir)
    caller: list[Any] = []
    declared: list[Declared] = []
    missing = []
    for index in plan.inputs:
        name, params = ir.names[index], ir.params[index]
        if name in given:
            value = take(index, name, given[name])
            if type(value) is not float:
                caller.append(given[name])
        elif "default" in params:
            value = params["default"]
        else:
            missing.append(name)
            continue
        values[index] = value
        shape = shapes[index] = shape_of(name, value)
        if "shape" in params:
            declared.append((name, params["shape"], shape))
    if missing:
        raise missing_inputs(ir, missing)
    return values, shapes, caller, declared


def _numpy_shape(name: str, value: Any) -> tuple[int, ...]:
    return value.shape if type(value) is np.ndarray else ()


def missing_inputs(ir: IR, missing: list[str]) -> MissingInputError:
    """The error for inputs given no value that have no default."""
    return MissingInputError(
        f"graph {ir.name!r}: missing input(s) {', '.join(map(repr, missing))}; "
        f"it expects {ir.signature()}"
    )


def _float_dtype(values: Any) -> np.dtype[Any]:
    """The dtype that the float arrays among ``values`` meet in (float64 if none)."""
    dtypes = [v.dtype for v in values if type(v) is np.ndarray and v.dtype.kind == "f"]
    return np.result_type(*dtypes) if dtypes else np.dtype(np.float64)


def as_value(name: str, value: Any, constant: bool = False) -> Any:
    """Inputs and seeds: Python numbers stay weak floats; integer and bool arrays
    become float64, except for a ``constant`` input (indices, labels), whose integers
    stay integers; complex values are refused.

    >>> as_value("x", 2), as_value("x", np.array([1, 2])), as_value("i", np.array([1]), True)
    (2.0, array([1., 2.]), array([1]))
    """
    if type(value) in (int, float, bool):
        return float(value)
    if isinstance(value, complex):
        raise _complex(name, "a complex number")
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"input {name!r} is not an array of numbers: {error}") from None
    kind = array.dtype.kind
    if constant and kind in "iu":
        return array
    if kind in "biu":
        return array.astype(np.float64)
    if kind == "c":
        raise _complex(name, f"{array.dtype} values")
    if kind != "f":
        raise InputError(f"input {name!r} must hold numbers, not {array.dtype} values")
    return array


def _complex(name: str, what: str) -> InputError:
    return InputError(
        f"input {name!r} holds {what}: bngraph computes real gradients; give the real "
        "and imaginary parts as two inputs"
    )
