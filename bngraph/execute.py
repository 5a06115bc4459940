"""The forward and backward passes: functions of a plan and a run's value list.

``forward_pass`` computes every node in schedule order and releases the values
no rule needs after their last consumer; ``backward_pass`` walks the plan in
reverse, sends each node's gradient through its ops' vector-Jacobian rules and
sums what reaches a value from several consumers. Both work on plain lists
indexed like the IR (``values`` also holds the literal operands after the nodes),
so the ``Run`` that owns them only holds state.

>>> import numpy as np, bngraph as bg
>>> g = bg.Graph("g"); x = g.input("x"); g.output((x * x).named("y"))
>>> values = g.plan.blank_values; values[0] = np.array([3.0])
>>> shapes = [(1,), ()]
>>> forward_pass(g.plan, values, shapes, release=True, check_finite=False,
...              float_dtype=np.dtype(np.float64))
>>> values[1]
array([9.])
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import BngraphError, NonFiniteError, OpError, ShapeError
from .ops import format_shape, unbroadcast
from .schedule import BackwardStep, ForwardStep, Plan

if TYPE_CHECKING:
    from .backends import Backend

__all__ = [
    "Released", "forward_pass", "backward_pass", "all_finite", "nonfinite_error",
]


class Released:
    """Stands in for a forward value released early: it keeps the shape and dtype only."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<released {self.dtype} value of shape {format_shape(self.shape)}>"


_FLOAT64 = np.dtype(np.float64)
_ANY = object()  # a dtype no array has
# placeholders are immutable, so runs share one per shape and dtype
_released = lru_cache(maxsize=4096)(Released)


def forward_pass(
    plan: Plan, values: list[Any], shapes: list[tuple[int, ...]], *,
    release: bool, check_finite: bool, float_dtype: Any, backend: Backend | None = None,
) -> None:
    """Fill ``values`` (and ``shapes``) with every node's forward value, in place.

    A value computed from weak Python numbers alone stays weak: a number, or an
    array of the run's ``float_dtype`` (numpy would make it float64). A run on
    another array library than numpy has a ``backend``, which takes in what ops return.
    """
    placeholder: Any = _released
    if backend is not None:
        float_dtype = _ANY  # every numpy result of such a run is taken in by the backend
        placeholder = Released  # other libraries' dtypes do not compare with numpy's
    for step in plan.forward_steps:
        node, forward, fetch, params, freed, _ = step
        args = fetch(values)
        try:
            out = forward(*args, **params)
        except MemoryError:
            raise
        except Exception as error:
            raise _forward_error(plan, step, args, error) from error
        if type(out) is not np.ndarray:
            out = _normalize(out, args, plan.ir.describe(node), backend)
        elif out.dtype is not float_dtype and (
                backend is not None or all(type(a) is float for a in args)):
            out = (out.astype(float_dtype) if backend is None
                   else backend.normalize(out, args, plan.ir.describe(node)))
        values[node] = out
        shapes[node] = () if type(out) is float else out.shape
        if check_finite:
            _check(plan, node, out, "forward value", backend)
        if release and freed:
            for j in freed:
                values[j] = placeholder(shapes[j], getattr(values[j], "dtype", _FLOAT64))


def backward_pass(
    plan: Plan, values: list[Any], shapes: list[tuple[int, ...]], grads: list[Any], *,
    record: bool, check_finite: bool, backend: Backend | None = None,
) -> tuple[dict[tuple[int, int], Any], list[int]]:
    """Propagate the seeds in ``grads`` back through the plan, summing in place.

    Returns each edge's contribution ``{(consumer, position): array}`` (when
    ``record``) and the nodes whose rules ran, in the order they ran.
    """
    contributions: dict[tuple[int, int], Any] = {}
    done: list[int] = []
    slow = record or check_finite
    for step in plan.backward_steps:
        node, fetch, params, edges, _ = step
        g = grads[node]
        if g is None:
            continue
        done.append(node)
        args = fetch(values)
        out = values[node]
        for k, vjp, j in edges:
            try:
                contribution = vjp(g, out, *args, **params)
            except MemoryError:
                raise
            except Exception as error:
                raise _vjp_error(plan, step, k, out, args, error) from error
            if contribution is None:
                continue
            if type(contribution) is not np.ndarray or contribution.shape != shapes[j]:
                contribution = _fit(plan, step, k, contribution, shapes[j])
            if slow:
                if check_finite:
                    _check(plan, node, contribution, f"gradient for operand {k}", backend)
                if record:
                    contributions[(node, k)] = contribution
            previous = grads[j]
            grads[j] = contribution if previous is None else previous + contribution
    return contributions, done


def _normalize(out: Any, args: tuple[Any, ...], context: str, backend: Backend | None) -> Any:
    """Op results: weak floats from weak floats, arrays otherwise (integers only from
    integer constants: ``expand_dims(labels)``)."""
    if backend is not None:
        return backend.normalize(out, args, context)
    if isinstance(out, (float, int, np.generic)) and all(type(a) is float for a in args):
        return float(out)
    array = np.asarray(out)
    if array.dtype.kind not in "fciu":
        raise OpError(f"{context}: forward returned {array.dtype} values, not numbers")
    return array


def _forward_error(
    plan: Plan, step: ForwardStep, args: tuple[Any, ...], error: Exception
) -> BngraphError:
    context = plan.ir.describe(step.node)
    if isinstance(error, ShapeError):
        return ShapeError(f"{context}: {error}")
    op = plan.ir.op(step.node)
    shapes = [np.shape(a) for a in args]
    if op is not None and op.shape is not None:
        try:
            op.shape(*shapes, **step.params)
        except ShapeError as shape_error:
            return ShapeError(f"{context}: {shape_error}")
        except Exception:  # noqa: BLE001 - the op's own error below says more
            pass
    listed = ", ".join(format_shape(s) for s in shapes)
    return OpError(
        f"{context}: forward failed on operands of shapes {listed}: "
        f"{type(error).__name__}: {error}"
    )


def _vjp_error(
    plan: Plan, step: BackwardStep, k: int, out: Any, args: tuple[Any, ...], error: Exception
) -> OpError:
    released = " (it read a value its op does not declare in saves)" if any(
        isinstance(a, Released) for a in (out, *args)) else ""
    return OpError(
        f"{plan.ir.describe(step.node)}: vector-Jacobian rule for operand {k} failed"
        f"{released}: {type(error).__name__}: {error}"
    )


def _fit(plan: Plan, step: BackwardStep, k: int, contribution: Any,
         shape: tuple[int, ...]) -> Any:
    """Sum a gradient back to its operand's shape, or say which rule got it wrong."""
    reduced = unbroadcast(contribution, shape)
    if np.shape(reduced) != shape:
        raise ShapeError(
            f"{plan.ir.describe(step.node)}: the gradient for operand {k} has shape "
            f"{format_shape(np.shape(contribution))}, which does not reduce to the "
            f"operand's shape {format_shape(shape)}"
        )
    return reduced


def _check(plan: Plan, node: int, value: Any, what: str, backend: Backend | None) -> None:
    """``check_finite``: stop at the first node that produced a NaN or an infinity (a
    lazy backend records one reduction per value, computed with the results)."""
    if backend is not None:
        backend.check(plan, node, value, what)
    elif not np.all(np.isfinite(value)):
        raise nonfinite_error(plan, node, value, what)


def all_finite(value: Any) -> bool:
    """Whether ``value`` holds no NaN or infinity (large arrays: a sum, then exactly
    only if the sum is not finite, so that a clean array costs one pass and no memory).

    >>> all_finite(np.ones(3)), all_finite(float("nan")), all_finite(np.array([1e308, 1e308]))
    (True, False, True)
    """
    if type(value) is float:
        return math.isfinite(value)
    array = np.asarray(value)
    if array.size > 4096:
        with np.errstate(over="ignore", invalid="ignore"):  # (a sum that overflows: exactly)
            if math.isfinite(array.sum()):
                return True
    return bool(np.isfinite(array).all())


def nonfinite_error(plan: Plan, index: int, value: Any, what: str) -> NonFiniteError:
    """The error for a NaN or infinity that node ``index`` produced, with where it is."""
    bad = np.argwhere(~np.isfinite(np.asarray(value)))
    where = tuple(int(k) for k in bad[0]) if bad.size else ()
    element = np.asarray(value)[where] if bad.size else value
    return NonFiniteError(
        f"{plan.ir.describe(index)} produced a non-finite {what}: {element} at index {where}"
    )
