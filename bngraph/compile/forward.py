"""Lowering the forward pass: each node of the plan becomes one or two typed calls.

Nodes of the built-in elementwise ops, reductions and shape ops over numpy arrays
become ufunc calls that can write into a buffer (``out=``), with their result's
shape and dtype worked out here, once per input signature. Nodes computed only
from Python floats call the op's own forward, as the interpreter does. Every
other node calls its op's forward too, and checks at run time that the result is
the array this plan assumed (``Deopt`` sends the run to the interpreter when it is
not). Ops declared with ``out=True`` write into a buffer as well.

>>> import numpy as np, bngraph as bg
>>> from bngraph.compile.signature import signature_of
>>> g = bg.library.get("batchnorm")
>>> lowered = lower_forward(g.plan, signature_of([np.ones((5, 4))] + [1.0] * 3))
>>> [i.fn.__name__ for i in lowered.program.instrs][:3]
['reduce', 'divide', 'subtract']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..ops import Op, get_op
from ..ops.reduce import normalize_axes
from ..schedule import Plan
from .program import (
    WEAK,
    Deopt,
    Hint,
    Kind,
    Program,
    Surprise,
    c_ordered,
    float_promotion,
    is_array,
    result_kind,
)
from .signature import Signature, typed

__all__ = [
    "Lowered", "lower_forward", "run_dtype", "weak_call", "foreign_call", "elementwise", "ufunc",
    "reduce_sum", "maximum", "BUILTINS", "POWERS",
]

ELEMENTWISE: dict[str, Callable[..., Any]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "neg": np.negative, "sqrt": np.sqrt, "exp": np.exp, "log": np.log, "tanh": np.tanh,
}
# numpy computes x ** e for these exponents with these ufuncs (its scalar fast path)
POWERS: dict[float, Callable[..., Any]] = {
    2.0: np.square, 0.5: np.sqrt, -1.0: np.reciprocal, 1.0: np.positive,
}
VIEWS = {"reshape", "transpose", "split_axis", "reshape_like", "broadcast_to", "broadcast_like"}
REDUCTIONS = {"sum", "mean"}
# the built-in op records this module knows how to lower (an op redefined under one of
# these names is another op: it is called as it is)
BUILTINS: dict[str, Op] = {
    name: get_op(name)
    for name in [*ELEMENTWISE, "square", "reciprocal", "relu", "pow", *REDUCTIONS, *VIEWS]
}
# ops whose forward returns a Python float for Python floats (operator functions)
WEAK_EXACT = {"add", "sub", "mul", "div", "neg", "square", "reciprocal"}


@dataclass
class Lowered:
    """A lowered forward pass: the program and the register of every node."""

    program: Program
    values: list[int]
    inputs: list[tuple[int, int]]  # (node, register) filled from the run's inputs


def lower_forward(plan: Plan, signature: Signature,
                  hints: Mapping[int, Hint] | None = None) -> Lowered:
    """Lower every node of ``plan`` for inputs of ``signature``; raises on anything
    the interpreter should report (a shape that does not fit, an axis out of range).
    What a foreign op gives is assumed (see ``_guess``), or known from ``hints``
    (what an earlier run saw)."""
    ir = plan.ir
    float_dtype = run_dtype(signature)
    p = Program()
    values = [-1] * len(ir)
    inputs = []
    for index, entry in zip(plan.inputs, signature, strict=True):
        values[index] = p.register(*typed(entry))
        inputs.append((index, values[index]))
    for step in plan.forward_steps:
        op = ir.op(step.node)
        assert op is not None
        args = tuple(
            values[o] if isinstance(o, int) else p.const(o) for o in ir.operands[step.node]
        )
        values[step.node] = _lower_node(p, op, step.node, args, dict(step.params), float_dtype,
                                        (hints or {}).get(step.node))
    return Lowered(p, values, inputs)


def run_dtype(signature: Signature) -> np.dtype[Any]:
    """The dtype that the run's float arrays meet in (float64 without any): what a
    value computed from Python floats alone becomes when it is an array.

    >>> run_dtype((((2,), (4,), np.dtype(np.float32)), float)), run_dtype((float,))
    (dtype('float32'), dtype('float64'))
    """
    dtypes = [entry[2] for entry in signature if entry is not float]
    return np.result_type(*dtypes) if dtypes else np.dtype(np.float64)


def _lower_node(p: Program, op: Op, node: int, args: tuple[int, ...],
                params: dict[str, Any], float_dtype: np.dtype[Any], hint: Hint | None) -> int:
    kinds = [p.kinds[a] for a in args]
    if all(k == WEAK for k in kinds):
        if op.name in VIEWS and BUILTINS.get(op.name) is op:
            # a shape op gives an array even of a Python float: of the run's dtype
            shape = _static_shape(op, [()] * len(args), params)
            return p.emit(_weak_array(op.forward, params, shape, float_dtype), args, shape,
                          float_dtype, node=node)
        builtin = BUILTINS.get(op.name) is op
        if builtin and op.name in WEAK_EXACT:
            fn = op.forward
        else:  # a built-in one-operand op calls its ufunc itself (the same call, fewer frames)
            fn = weak_call(getattr(op.forward, "ufunc", op.forward) if builtin else op.forward,
                           params)
        return p.emit(fn, args, (), WEAK, node=node)
    if all(is_array(k) or k == WEAK for k in kinds):
        lowered = _lower_static(p, op, node, args, params)
        if lowered is not None:
            return lowered
    arrays = tuple(a for a in args if is_array(p.kinds[a]))
    if hint is None:
        shape, kind = _guess(p, op, args, params)
        ordered = all(p.ordered[a] for a in arrays)
    else:
        shape, kind, ordered = hint
    if op.writes_out and is_array(kind):
        return p.emit(_declared_out(op.forward, params, shape, kind, ordered, node), args, shape,
                      kind, node=node, out_at=len(args), ordered=ordered)
    return p.emit(foreign_call(op.forward, params, shape, kind, ordered, node), args, shape, kind,
                  node=node, aliases=arrays, ordered=ordered)


def _lower_static(p: Program, op: Op, node: int, args: tuple[int, ...],
                  params: dict[str, Any]) -> int | None:
    name = op.name
    if BUILTINS.get(name) is not op:
        return None
    shapes = [p.shapes[a] for a in args]
    if name in ELEMENTWISE or name in ("square", "reciprocal", "relu", "pow"):
        shape = np.broadcast_shapes(*shapes)
        return elementwise(p, name, args, shape, node, params)
    if name in REDUCTIONS:
        return _reduction(p, name == "mean", args[0], params, node)
    if name in VIEWS and is_array(p.kinds[args[0]]):
        shape = _static_shape(op, shapes, params)
        fn = _with_params(op.forward, params)
        ordered = p.ordered[args[0]] and (
            name != "transpose" or _identity(params["axes"], shapes[0]))
        return p.emit(fn, args, shape, p.kinds[args[0]], node=node, aliases=args[:1],
                      ordered=ordered, view=True)
    return None


def elementwise(p: Program, name: str, args: tuple[int, ...], shape: tuple[int, ...],
                node: int, params: dict[str, Any] | None = None, edge: int | None = None) -> int:
    """An elementwise op as a ufunc call that can write into a buffer."""
    fn: Callable[..., Any]
    if name == "square":
        fn, args = np.multiply, (args[0], args[0])
    elif name == "relu":
        fn, args = maximum, (args[0], p.typed_const(0.0, p.kinds[args[0]]))
    elif name == "reciprocal":
        fn, args = np.true_divide, (p.typed_const(1.0, p.kinds[args[0]]), args[0])
    elif name == "pow":
        exponent = float((params or {})["exponent"])
        if exponent in POWERS:
            fn = POWERS[exponent]
        else:
            fn, args = np.power, (args[0], p.typed_const(exponent, p.kinds[args[0]]))
    else:
        fn = ELEMENTWISE[name]
    return ufunc(p, fn, args, shape, node, edge)


def maximum(x: Any, y: Any, out: Any = None) -> Any:
    """``np.maximum`` (which takes its ``out`` by keyword only)."""
    return np.maximum(x, y, out=out)


def ufunc(p: Program, fn: Callable[..., Any], args: tuple[int, ...], shape: tuple[int, ...],
          node: int, edge: int | None = None) -> int:
    """``fn(*args, out)``: a ufunc whose result may take over an operand's buffer.

    A literal number meeting an array is passed as a 0-d array of the result's dtype:
    numpy converts a weak scalar to that dtype first, so the result is the same, and
    the call is cheaper."""
    kind = result_kind(fn, tuple(p.kinds[a] for a in args))
    if is_array(kind):
        args = tuple(
            p.typed_const(p.consts[a], kind) if p.is_const(a) and p.kinds[a] == WEAK else a
            for a in args
        )
    return p.emit(fn, args, shape, kind, node=node, out_at=len(args), inplace=args, edge=edge)


def _reduction(p: Program, mean: bool, x: int, params: dict[str, Any], node: int) -> int:
    shape, kind = p.shapes[x], p.kinds[x]
    if not is_array(kind):
        raise TypeError("a reduction of a Python float stays with the interpreter")
    axis, keepdims = params["axis"], params["keepdims"]
    axes = normalize_axes(axis, len(shape))
    kept = tuple(1 if k in axes else d for k, d in enumerate(shape))
    out_shape = kept if keepdims else tuple(d for k, d in enumerate(shape) if k not in axes)
    total = reduce_sum(p, x, axis, keepdims, out_shape, node)
    if not mean:
        return total
    count = math.prod(shape[a] for a in axes)
    if count == 0:
        raise ValueError("a mean of no elements: the interpreter reports it")
    return ufunc(p, np.true_divide, (total, p.typed_const(float(count), kind)), out_shape, node)


def reduce_sum(p: Program, x: int, axis: Any, keepdims: bool, shape: tuple[int, ...],
               node: int, edge: int | None = None) -> int:
    """``np.add.reduce(x, axis, None, out, keepdims)``, exactly what ``np.sum`` calls."""
    args = (x, p.const(axis), p.const(None))
    return p.emit(np.add.reduce, args + (p.const(keepdims),), shape, p.kinds[x], node=node,
                  out_at=3, edge=edge)


def _identity(axes: Any, shape: tuple[int, ...]) -> bool:
    """Whether a transpose keeps the order of the axes that are not of size 1."""
    order = list(reversed(range(len(shape)))) if axes is None else [a % len(shape) for a in axes]
    moved = [a for a in order if shape[a] != 1] if len(shape) == len(order) else order
    return moved == sorted(moved)


def _static_shape(op: Op, shapes: list[tuple[int, ...]], params: dict[str, Any]) -> tuple[int, ...]:
    if op.shape is None:
        raise TypeError(f"op {op.name} has no shape rule")
    shape = op.shape(*shapes, **params)
    if not all(isinstance(d, int) for d in shape):
        raise TypeError(f"op {op.name}: no concrete shape")
    return tuple(shape)


def _guess(p: Program, op: Op, args: tuple[int, ...], params: dict[str, Any]) -> tuple[Any, Kind]:
    """What a foreign op most likely returns: its shape rule's answer (the operands'
    broadcast without one) and ``float_promotion`` of its operands; checked at run time."""
    shapes = [p.shapes[a] for a in args]
    try:
        shape = _static_shape(op, shapes, params)
    except (TypeError, ValueError):
        shape = np.broadcast_shapes(*shapes)
    return shape, float_promotion([p.kinds[a] for a in args])


def _with_params(fn: Callable[..., Any], params: dict[str, Any]) -> Callable[..., Any]:
    if not params:
        return fn
    return lambda *args: fn(*args, **params)


def weak_call(fn: Callable[..., Any], params: dict[str, Any]) -> Callable[..., Any]:
    """The op's forward on Python floats, normalised as the interpreter does: a Python
    float back, or ``Deopt`` for anything else (a complex power, say)."""

    if isinstance(fn, np.ufunc) and not params:
        if fn.nin == 1:  # the commonest (tanh, exp, ...): no tuple of arguments to pack
            def unary_call(a: Any) -> Any:  # np.tanh(0.5) is a numpy float: made a float
                out = fn(a)
                if type(out) is np.float64 or isinstance(out, (int, np.integer, np.floating)):
                    return float(out)
                raise Deopt

            return unary_call

        def ufunc_call(*args: Any) -> Any:
            out = fn(*args)
            if type(out) is np.float64 or isinstance(out, (int, np.integer, np.floating)):
                return float(out)
            raise Deopt

        return ufunc_call

    def call(*args: Any) -> Any:
        out = fn(*args, **params)
        if type(out) is float:
            return out
        if isinstance(out, (int, np.integer, np.floating)):
            return float(out)
        raise Deopt

    return call


def _weak_array(fn: Callable[..., Any], params: dict[str, Any], shape: tuple[int, ...],
                dtype: np.dtype[Any]) -> Callable[..., Any]:
    """An op's forward on Python floats that gives an array: of the run's dtype."""

    def call(*args: Any) -> Any:
        out = fn(*args, **params)
        if type(out) is not np.ndarray or out.shape != shape:
            raise Deopt
        return out if out.dtype is dtype else out.astype(dtype)

    return call


def foreign_call(fn: Callable[..., Any], params: dict[str, Any], shape: tuple[int, ...],
                 kind: Kind, ordered: bool = False, node: int = -1) -> Callable[..., Any]:
    """An op's own forward, checked to return the array this plan assumed (in C order
    when ``ordered``, as the buffers after it assume)."""
    check_order = ordered and len(shape) > 1

    def call(*args: Any) -> Any:
        out = fn(*args, **params)
        if type(out) is not np.ndarray:
            if not isinstance(out, (float, int, np.generic)):
                raise Deopt
            out = np.asarray(out)
        if out.shape != shape or out.dtype != kind or (check_order and not c_ordered(out)):
            if out.dtype.kind not in "fiu":
                raise Deopt
            raise Surprise(node, (out.shape, out.dtype, c_ordered(out)))
        return out

    return call


def _declared_out(fn: Callable[..., Any], params: dict[str, Any], shape: tuple[int, ...],
                  kind: Kind, ordered: bool, node: int) -> Callable[..., Any]:
    """A user op declared with ``out=True``: ``forward(*operands, out=buffer, **params)``
    must write into the buffer and return it; with ``out=None`` it allocates."""
    allocated = foreign_call(fn, params, shape, kind, ordered, node)

    def call(*args: Any) -> Any:
        *operands, out = args
        if out is None:
            return allocated(*operands)
        if fn(*operands, out=out, **params) is not out:
            raise Deopt  # it did not write into the buffer it was given
        return out

    return call
