"""What a row pass (``bngraph.compile.rows``) makes of a step: its ops, if it takes it.

``describe(p, step, slots)`` gives ``(shape, dtype, ops, instr)`` for a step a pass can
take: elementwise ``+ - * /``, negation and square root, sums over axis 0 by
``np.add.reduce``, the einsums of sums of products and the tiled kernels of ``.fusion``,
over a 2-d shape ``(n, d)`` large enough, or over one row (shape ``(ROWS, d)``), each
operand of that shape or a row or a number broadcast along it, all of one float dtype.
An op is ``(op, destination, operands)``: an operand is ``("slot", s)`` or ``("temp",
t)`` (a kernel's scratch value), a destination one of those or ``("acc", s, shape)``, a
sum over the rows into slot ``s``.

>>> import numpy as np
>>> from bngraph.compile.program import Program
>>> p = Program(); f64 = np.dtype(np.float64)
>>> x = p.register((64, 32), f64)
>>> y = p.emit(np.negative, (x,), (64, 32), f64, node=1, out_at=1)
>>> describe(p, (np.negative, None, 1, 0), {x: 0, y: 1})[:3]
((64, 32), dtype('float64'), [(4, ('slot', 1), (('slot', 0),))])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .buffers import Step
from .fusion import REDUCE, Einsum, Kernel
from .loops import ADD, DIV, MUL, NEG, SQRT, SUB
from .program import WEAK, Instr, Program, is_array

__all__ = ["describe", "large", "Op", "ACC", "ROWS", "MIN_BYTES", "MIN_WIDTH",
           "MIN_ELEMENTS", "MIN_ROW"]

MIN_BYTES = 1 << 20
"""Passes over at least this many bytes are large (compiled after ``rows.COMPILE_AFTER``
runs)."""

MIN_WIDTH = 256
"""Large passes have rows at least this wide (the loop's own cost per row would show)."""

MIN_ELEMENTS = 512
"""Smaller passes (compiled after ``rows.COMPILE_AFTER_SMALL`` runs) have at least this many
elements, in rows at least ``MIN_ROW`` wide: below, numpy's calls cost no more than
calling the loop."""

MIN_ROW = 8

ACC = -1  # the op of a sum over the rows (not an op of .loops: a statement)
ROWS = "rows"  # the shape (ROWS, d) of a step over one row, in a pass over (n, d)

CODES: dict[Any, tuple[int, int]] = {  # ufunc: its code, how many operands
    np.add: (ADD, 2), np.subtract: (SUB, 2), np.multiply: (MUL, 2), np.true_divide: (DIV, 2),
    np.negative: (NEG, 1), np.sqrt: (SQRT, 1),
}
EINSUMS = {"ab,ab->b", "ab,b->b", "b,ab->b"}

Op = tuple[int, tuple[Any, ...], tuple[tuple[str, int], ...]]
"""An op of a step (see the module); in a pass, its values are numbered, each written
once, and an operand is then ``("val", v)`` or ``("ext", k)``."""


def describe(p: Program, step: Step, slots: dict[int, int]) -> Any:
    """``(shape, dtype, ops, instr)`` of a row-fusable step (ops as in ``Op``), else
    ``None``."""
    ins: Instr = p.instrs[step[3]]
    found = _ops_of(p, ins, step[2], slots)
    return None if found is None else (*found, ins)


def _ops_of(p: Program, ins: Instr, dst: int, slots: dict[int, int]) -> Any:
    if ins.view or ins.out_at is None:
        return None
    fn = ins.fn
    kind = p.kinds[ins.result]
    if fn in CODES:
        code, arity = CODES[fn]
        if len(ins.args) != arity or ins.out_at != arity:
            return None
        return _checked(p, p.shapes[ins.result], kind, ins.args,
                        [(code, ("slot", dst), tuple(("slot", slots[a]) for a in ins.args))])
    if fn == REDUCE:
        x, axis = ins.args[0], p.consts.get(ins.args[1])
        if axis not in (0, (0,)) or len(p.shapes[x]) != 2:
            return None
        return _checked(p, p.shapes[x], kind, (x,),
                        [(ACC, ("acc", dst, p.shapes[ins.result]), (("slot", slots[x]),))])
    if isinstance(fn, Einsum) and fn.subscripts in EINSUMS:
        a, b = ins.args
        shape = p.shapes[a] if len(p.shapes[a]) == 2 else p.shapes[b]
        ops = [(MUL, ("temp", 0), (("slot", slots[a]), ("slot", slots[b]))),
               (ACC, ("acc", dst, p.shapes[ins.result]), (("temp", 0),))]
        return _checked(p, shape, kind, ins.args, ops)
    if isinstance(fn, Kernel):
        return _kernel_ops(p, ins, fn, dst, slots)
    return None


def _kernel_ops(p: Program, ins: Instr, kernel: Kernel, dst: int,
                slots: dict[int, int]) -> Any:
    if len(kernel.shape) != 2 or kernel.axes not in (None, (0,)):
        return None
    leaves = len(ins.args)

    def operand(k: int) -> tuple[str, int]:
        return ("slot", slots[ins.args[k]]) if k < leaves else ("temp", k - leaves)

    ops: list[Op] = []
    for fn, operands, destination in kernel.ops:
        code, arity = CODES.get(fn, (-1, -1))
        if len(operands) != arity:
            return None
        target: tuple[Any, ...] = ("slot", dst) if destination == -1 else (
            "temp", destination - leaves)
        ops.append((code, target, tuple(operand(o) for o in operands)))
    if kernel.axes is not None:
        ops.append((ACC, ("acc", dst, p.shapes[ins.result]), (operand(kernel.summed),)))
    return _checked(p, kernel.shape, kernel.dtype, ins.args, ops)


def _checked(p: Program, shape: tuple[int, ...], kind: Any, args: Sequence[int],
             ops: list[Op]) -> Any:
    """The description, if every operand is of the full shape or a row (or a number)
    broadcast along it, all of one float dtype, over a shape large enough; a step over
    one row ((d,) or (1, d)) is described over ``(ROWS, d)``."""
    if not is_array(kind) or kind not in (np.float32, np.float64):
        return None
    if len(shape) == 1 or (len(shape) == 2 and shape[0] == 1):
        if shape[-1] < MIN_ROW:
            return None
        full: tuple[Any, ...] = (ROWS, shape[-1])
        allowed = {(), (1,), (1, 1), (shape[-1],), (1, shape[-1])}
    elif len(shape) == 2:
        if not large(shape, kind) and (shape[0] * shape[1] < MIN_ELEMENTS
                                        or shape[1] < MIN_ROW):
            return None
        full = tuple(shape)
        allowed = {full, (), (shape[1],), (1, shape[1]), (1, 1), (1,)}
    else:
        return None
    for a in args:
        a_kind = p.kinds[a]
        if (a_kind != kind and a_kind != WEAK) or p.shapes[a] not in allowed:
            return None
    return full, kind, ops


def large(shape: tuple[int, ...], dtype: np.dtype[Any]) -> bool:
    return int(np.prod(shape)) * dtype.itemsize >= MIN_BYTES and shape[1] >= MIN_WIDTH
