"""Lowering the backward pass for one seed signature: every rule as typed calls.

The rules of the built-in ops are written here once more as calls that can write
into buffers, in the very order of operations of the op's own rule, and the sum of
a gradient back to its operand's shape is planned here (which axes, whether a
reshape follows), so that nothing is decided per edge at run time. Rules of other
ops are called as they are and checked; the gradients of Python floats follow the
interpreter exactly (whatever type its rules give). Where a value feeds several
consumers, the gradients are summed in the order the interpreter sums them.

>>> import numpy as np, bngraph as bg
>>> from bngraph.compile.forward import lower_forward
>>> from bngraph.compile.signature import signature_of
>>> g = bg.library.get("batchnorm")
>>> fwd = lower_forward(g.plan, signature_of([np.ones((5, 4))] + [1.0] * 3))
>>> bwd = lower_backward(g.plan, fwd, (ONES,), (None,) * 4)
>>> [g.names[i] for i in bwd.order][:3]
['out', 'gammax', 'xhat']
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..execute import Released
from ..ops import Op, unbroadcast
from ..ops.broadcasting import broadcast_view
from ..ops.reduce import normalize_axes
from ..schedule import Plan
from .forward import BUILTINS, POWERS, Lowered, reduce_sum, ufunc
from .program import (
    DYNAMIC,
    WEAK,
    Deopt,
    Kind,
    Program,
    RuleSurprise,
    float_promotion,
    is_array,
)
from .signature import typed

__all__ = ["ONES", "LoweredBackward", "lower_backward", "static_unbroadcast"]

ONES = "ones"
"""The seed of ``backward()`` with no arguments: ones for every output."""


@dataclass
class LoweredBackward:
    """A lowered backward pass: the program (the forward's, extended), where it starts,
    the seed registers, each input's gradient register, and the nodes whose rules run."""

    program: Program
    start: int
    seeds: list[tuple[int, int]]  # (output node, register) filled from the seeds given
    grads: list[int | None]
    order: list[int]


def lower_backward(plan: Plan, fwd: Lowered, seeds: tuple[Any, ...],
                   given: tuple[tuple[int, ...] | None, ...],
                   hints: Mapping[tuple[int, int], Kind] | None = None) -> LoweredBackward:
    """Lower the backward pass for seeds of these kinds, one per output: ``ONES``,
    ``None`` (not seeded), or a signature entry. An input given in a smaller shape
    than it was computed with (``given``) gets its gradient summed back to it. What a
    foreign rule gives is assumed (``float_promotion``), or known from ``hints`` by
    ``(node, operand)`` (what an earlier run saw)."""
    ir = plan.ir
    hints = hints or {}
    p = fwd.program.fork()
    start = len(p.instrs)
    grads: list[int | None] = [None] * len(ir)
    seed_regs: list[tuple[int, int]] = []
    for node, seed in zip(plan.outputs, seeds, strict=True):
        if seed is None:
            continue
        value = fwd.values[node]
        if seed == ONES:
            grads[node] = _ones(p, value)
        else:
            reg = grads[node] = p.register(*typed(seed))
            seed_regs.append((node, reg))
    kept = {fwd.values[i] for i in (*plan.inputs, *plan.outputs, *plan.saved_values)}
    order = []
    for step in plan.backward_steps:
        g = grads[step.node]
        if g is None:
            continue
        order.append(step.node)
        op = ir.op(step.node)
        assert op is not None
        args = tuple(fwd.values[o] if isinstance(o, int) else p.const(o)
                     for o in ir.operands[step.node])
        out = fwd.values[step.node]
        for k, vjp, j in _edge_order(p, step.edges, g, args):
            c = _contribution(p, op, k, vjp, g, out, args, dict(step.params), step.node, kept,
                              hints.get((step.node, k)))
            previous = grads[j]
            grads[j] = c if previous is None else _accumulate(p, previous, c, step.node, k)
    for node, shape in zip(plan.inputs, given, strict=True):
        g = grads[node]
        if shape is not None and g is not None:
            if is_array(p.kinds[g]):
                grads[node] = static_unbroadcast(p, g, shape, node, 0)
            else:
                grads[node] = p.emit(lambda v, s=shape: unbroadcast(v, s), (g,), shape, DYNAMIC,
                                     node=node, aliases=(g,))
    return LoweredBackward(p, start, seed_regs, grads, order)


def _edge_order(p: Program, edges: Any, g: int, args: tuple[int, ...]) -> Any:
    """The edges of one node, those whose gradient is summed to a smaller operand first:
    their sums read ``g``, after which the others may work in ``g``'s buffer. (Only when
    the edges reach distinct operands: the sums into one operand keep their order.)"""
    if len(edges) < 2 or len({j for _, _, j in edges}) < len(edges):
        return edges
    size = int(np.prod(p.shapes[g], dtype=np.int64))
    return sorted(edges, key=lambda e: int(np.prod(p.shapes[args[e[0]]], dtype=np.int64)) >= size)


def _ones(p: Program, value: int) -> int:
    """The seed of ``backward()``: ones like the output, in its layout (which the
    layouts of the gradients computed from it follow)."""
    kind = p.kinds[value]
    if kind == WEAK:
        return p.const(1.0)
    if not p.ordered[value]:
        return p.emit(np.ones_like, (value,), p.shapes[value], kind, node=-1, ordered=False)
    ones = np.ones(p.shapes[value], kind)
    ones.flags.writeable = False
    return p.const(ones)


def _accumulate(p: Program, previous: int, c: int, node: int, k: int) -> int:
    """``previous + c``, as the interpreter sums; in place where ``previous`` dies."""
    if is_array(p.kinds[previous]) and is_array(p.kinds[c]):
        return ufunc(p, np.add, (previous, c), p.shapes[previous], node, edge=k)
    kind = WEAK if p.kinds[previous] == p.kinds[c] == WEAK else DYNAMIC
    return p.emit(operator.add, (previous, c), p.shapes[previous], kind, node=node, edge=k)


def _contribution(p: Program, op: Op, k: int, vjp: Callable[..., Any], g: int, out: int,
                  args: tuple[int, ...], params: dict[str, Any], node: int,
                  kept: set[int], hint: Kind | None = None) -> int:
    x = args[k]
    shape = p.shapes[x]
    # a rule called as it is gets what the interpreter gives it: a placeholder for a
    # value the plan released (so that reading it fails as it does there)
    operands = (g, *(a if a in kept or p.is_const(a) else _released(p, a) for a in (out, *args)))
    if _weak_rule(p, op, params, (g, out, *args)):
        # a built-in rule on Python floats gives a Python float: called as it is, or as
        # the operator it is (g * y for a product: no Python frame in between), or g
        # itself where the rule hands it back (a Python float is never written in place)
        if op.name == "add" or (op.name == "sub" and k == 0):
            return g
        if op.name in ("mul", "div") and (op.name == "mul" or k == 0):
            fn = operator.mul if op.name == "mul" else operator.truediv
            return p.emit(fn, (g, args[1 - k] if op.name == "mul" else args[1]), shape, WEAK,
                          node=node, edge=k)
        fn = vjp if not params else lambda *a: vjp(*a, **params)
        return p.emit(fn, operands, shape, WEAK, node=node, edge=k)
    if p.kinds[x] == WEAK and op.name in SUMMED_TO_A_NUMBER and BUILTINS.get(op.name) is op \
            and is_array(p.kinds[g]) and is_array(p.kinds[out]):
        # a Python float beside arrays (eps in var + eps): the rule's calls, then the sum
        # of all their elements that the interpreter makes (into a 0-d array, not a
        # numpy scalar: the same bits, and the same type once handed out)
        c = _builtin_rule(p, op.name, k, g, out, args, params, node)
        if c is not None and is_array(p.kinds[c]):
            return static_unbroadcast(p, c, shape, node, k)
    if not (is_array(p.kinds[x]) and is_array(p.kinds[g]) and is_array(p.kinds[out])):
        # the rule may hand back an operand itself (add's g): the result shares its memory
        shared = tuple(a for a in operands if p.kinds[a] != WEAK and not p.is_const(a))
        return p.emit(_fitted(vjp, params, shape), operands, shape, DYNAMIC, node=node, edge=k,
                      aliases=shared)
    if BUILTINS.get(op.name) is op:
        c = _builtin_rule(p, op.name, k, g, out, args, params, node)
        if c is not None:
            return static_unbroadcast(p, c, shape, node, k)
    kind = hint or float_promotion([p.kinds[a] for a in (g, out, *args)])
    # a foreign rule's result may come in any layout: what is computed from it lets
    # numpy allocate, as the interpreter does
    arrays = tuple(a for a in operands if is_array(p.kinds[a]))
    return p.emit(_checked(vjp, params, shape, kind, (node, k)), operands, shape, kind,
                  node=node, edge=k,
                  aliases=arrays, ordered=False)


SUMMED_TO_A_NUMBER = {"add", "sub", "mul", "div"}
"""Binary ops whose rule for a Python-float operand beside arrays is lowered to calls."""

WEAK_RULES = {"add", "sub", "mul", "div", "neg", "square", "sqrt", "reciprocal", "exp", "log",
              "tanh", "relu", "pow"}


def _weak_rule(p: Program, op: Op, params: dict[str, Any], operands: tuple[int, ...]) -> bool:
    """Whether this built-in rule, on these Python floats, gives a Python float (a power
    of a negative number to a fractional exponent would give a complex one)."""
    if op.name not in WEAK_RULES or BUILTINS.get(op.name) is not op:
        return False
    if op.name == "pow" and not float(params["exponent"]).is_integer():
        return False
    return all(p.kinds[a] == WEAK for a in operands)


def _released(p: Program, reg: int) -> int:
    kind = p.kinds[reg]
    return p.const(Released(p.shapes[reg], kind if is_array(kind) else np.dtype(np.float64)))


def _builtin_rule(p: Program, name: str, k: int, g: int, out: int, args: tuple[int, ...],
                  params: dict[str, Any], node: int) -> int | None:
    """The built-in op's rule for operand ``k`` as calls, in the rule's order of operations."""
    x = args[k]

    def call(fn: Callable[..., Any], *operands: int) -> int:
        shape = np.broadcast_shapes(*(p.shapes[a] for a in operands))
        return ufunc(p, fn, operands, shape, node, edge=k)

    def const(value: float, like: int) -> int:
        return p.typed_const(value, p.kinds[like])

    if name in ("add", "broadcast_to", "broadcast_like"):
        return g
    if name == "sub":
        return g if k == 0 else call(np.negative, static_unbroadcast(p, g, p.shapes[x], node, k))
    if name == "mul":
        return call(np.multiply, g, args[1 - k])
    if name == "div":
        if k == 0:
            return call(np.true_divide, g, args[1])
        return call(np.true_divide, call(np.multiply, call(np.negative, g), out), args[1])
    if name == "neg":
        return call(np.negative, g)
    if name in ("pow", "square"):
        exponent = float(params.get("exponent", 2.0))
        if exponent == 2.0:
            return call(np.multiply, g, call(np.multiply, const(2.0, x), x))
        power = exponent - 1
        raised = call(POWERS[power], x) if power in POWERS else call(np.power, x, const(power, x))
        return call(np.multiply, g, call(np.multiply, const(exponent, x), raised))
    if name == "sqrt":
        return call(np.true_divide, g, call(np.multiply, const(2.0, out), out))
    if name == "reciprocal":
        return call(np.multiply, call(np.negative, g), call(np.multiply, out, out))
    if name == "exp":
        return call(np.multiply, g, out)
    if name == "log":
        return call(np.true_divide, g, x)
    if name == "tanh":
        return call(np.multiply, g, call(np.subtract, const(1.0, out), call(np.multiply, out, out)))
    if name == "relu":
        return call(np.multiply, g, call(np.greater, out, const(0.0, out)))
    if name in ("sum", "mean"):
        return _spread(p, g, x, params, name == "mean", node, k)
    if name in ("reshape", "split_axis", "reshape_like"):
        target = p.shapes[x]
        return p.emit(lambda v: np.reshape(v, target), (g,), target, p.kinds[g], node=node,
                      edge=k, aliases=(g,), view=True)
    if name == "transpose":
        return _transpose_back(p, g, x, params["axes"], node, k)
    return None


def _spread(p: Program, g: int, x: int, params: dict[str, Any], mean: bool, node: int,
            k: int) -> int:
    shape = p.shapes[x]
    axes = normalize_axes(params["axis"], len(shape))
    count = int(np.prod([shape[a] for a in axes], dtype=np.int64))
    kept = tuple(1 if a in axes else d for a, d in enumerate(shape))
    if mean and count:
        g = ufunc(p, np.multiply, (g, p.typed_const(1.0 / count, p.kinds[g])), p.shapes[g],
                  node, edge=k)

    def spread(v: Any) -> Any:
        return broadcast_view(v.reshape(kept), shape)

    return p.emit(spread, (g,), shape, p.kinds[g], node=node, edge=k, aliases=(g,), view=True)


def _transpose_back(p: Program, g: int, x: int, axes: Any, node: int, k: int) -> int:
    ndim = len(p.shapes[x])
    back = None if axes is None else tuple(int(a) for a in np.argsort([a % ndim for a in axes]))
    return p.emit(lambda v: np.transpose(v, back), (g,), p.shapes[x], p.kinds[g], node=node,
                  edge=k, aliases=(g,), ordered=p.ordered[g] and ndim <= 1, view=True)


def static_unbroadcast(p: Program, c: int, shape: tuple[int, ...], node: int, k: int) -> int:
    """``unbroadcast(c, shape)`` with its axes chosen now: the same reductions, planned."""
    have = p.shapes[c]
    if have == shape:
        return c
    lead = len(have) - len(shape)
    if lead > 0 and have[lead:] == shape:
        axis: Any = tuple(range(lead)) if lead > 1 else 0
        return reduce_sum(p, c, axis, False, shape, node, edge=k)
    stretched = tuple(
        a + lead for a, dim in enumerate(shape) if dim == 1 and have[a + lead] != 1
    ) if lead >= 0 else ()
    if lead < 0 or not stretched:
        raise ValueError(f"a gradient of shape {have} does not reduce to {shape}")
    axes = tuple(range(lead)) + stretched
    kept = tuple(1 if a in axes else d for a, d in enumerate(have))
    reduced = reduce_sum(p, c, axes, True, kept, node, edge=k)
    return p.emit(lambda v: v.reshape(shape), (reduced,), shape, p.kinds[c], node=node, edge=k,
                  aliases=(reduced,), view=True)


def _fitted(vjp: Callable[..., Any], params: dict[str, Any],
            shape: tuple[int, ...]) -> Callable[..., Any]:
    """An interpreter rule as the interpreter calls it, its result summed to ``shape``."""

    def call(*operands: Any) -> Any:
        c = vjp(*operands, **params)
        if type(c) is float and not shape:  # the common case of Python floats, at once
            return c
        if c is None:
            raise Deopt
        if type(c) is not np.ndarray or c.shape != shape:
            c = unbroadcast(c, shape)
            if np.shape(c) != shape:
                raise Deopt
        return c

    return call


def _checked(vjp: Callable[..., Any], params: dict[str, Any], shape: tuple[int, ...],
             kind: Kind, edge: tuple[int, int]) -> Callable[..., Any]:
    """An op's own rule, checked to give an array of the kind this plan assumed (another
    float dtype is a ``RuleSurprise``: the next run's plan assumes that one)."""
    fitted = _fitted(vjp, params, shape)

    def call(*operands: Any) -> Any:
        c = fitted(*operands)
        if type(c) is not np.ndarray:
            c = np.asarray(c)
        if c.dtype != kind:
            if c.dtype.kind == "f":
                raise RuleSurprise(edge, c.dtype)
            raise Deopt
        return c

    return call
