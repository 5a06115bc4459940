"""A run's inputs: the values given, the declared defaults, and the symbols they bind.

``bind_inputs(plan, given)`` checks the names, turns every value into what the
engine computes with (Python numbers stay weak floats, integer arrays become
float64 except for constant inputs, whose integers stay integers) and binds the symbolic dimensions of the declared shapes.

>>> import numpy as np, bngraph as bg
>>> bound = bind_inputs(bg.library.get("batchnorm").plan, {"x": np.ones((5, 4)), "gamma": 2,
...                                                        "beta": 0})
>>> dict(bound.dims), bound.values[3]
({'N': 5, 'D': 4}, 1e-05)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np

from .errors import InputError, MissingInputError, UnknownInputError, closest
from .schedule import Plan
from .shapes import bind_dims_cached

__all__ = ["Bound", "bind_inputs", "as_value"]


class Bound(NamedTuple):
    """A run's starting state: the value list and shapes (inputs filled in), the
    bound symbols, and the caller's own arrays (gradients must never alias them)."""

    values: list[Any]
    shapes: list[tuple[int, ...]]
    dims: Mapping[str, int]
    caller: list[Any]


def bind_inputs(plan: Plan, given: Mapping[str, Any]) -> Bound:
    """Check and convert the inputs ``given`` by name, fill in defaults, bind symbols."""
    ir = plan.ir
    if not plan.input_names.issuperset(given):
        unknown = next(k for k in given if k not in plan.input_names)
        raise UnknownInputError(
            f"graph {ir.name!r} has no input {unknown!r}"
            f"{closest(unknown, ir.inputs)}; valid inputs: {', '.join(ir.inputs)}"
        )
    values = plan.blank_values
    shapes: list[tuple[int, ...]] = [()] * len(ir)
    caller: list[Any] = []
    declared = []
    missing = []
    for index in plan.inputs:
        name, params = ir.names[index], ir.params[index]
        if name in given:
            value = as_value(name, given[name], params.get("grad") is False)
            if type(value) is not float:
                caller.append(given[name])
        elif "default" in params:
            value = params["default"]
        else:
            missing.append(name)
            continue
        values[index] = value
        shape = shapes[index] = value.shape if type(value) is np.ndarray else ()
        if "shape" in params:
            declared.append((name, params["shape"], shape))
    if missing:
        raise MissingInputError(
            f"graph {ir.name!r}: missing input(s) {', '.join(map(repr, missing))}; "
            f"it expects {ir.signature()}"
        )
    return Bound(values, shapes, bind_dims_cached(tuple(declared)), caller)


def as_value(name: str, value: Any, constant: bool = False) -> Any:
    """Inputs and seeds: Python numbers stay weak floats; integer arrays become float64,
    except for a ``constant`` input (indices, labels), whose integers stay integers.

    >>> as_value("x", 2), as_value("x", np.array([1, 2])), as_value("i", np.array([1]), True)
    (2.0, array([1., 2.]), array([1]))
    """
    if type(value) in (int, float, bool):
        return float(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"input {name!r} is not an array of numbers: {error}") from None
    if constant and array.dtype.kind in "iu":
        return array
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind not in "fc":
        raise InputError(f"input {name!r} must hold numbers, not {array.dtype} values")
    return array
