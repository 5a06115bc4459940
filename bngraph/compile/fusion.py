"""Fusion: elementwise expressions over large arrays evaluated tile by tile.

A value computed elementwise and used once, by another elementwise call or by a
sum, need not exist in full: ``gamma * xhat + beta`` or ``sum(g * x, axis=0)`` can
run over tiles of rows that stay in the processor's cache, each tile of the
intermediate values in a small scratch array. ``fuse(program, start, keep)``
rewrites the calls of one segment so: every tree of such calls becomes one
``Kernel`` call, at the place of its root, reading the tree's leaves. It applies to
results of at least ``MIN_BYTES``; values in ``keep`` (kept for the backward pass,
handed out) are never folded away. Elementwise results are the same bit for bit, and
so are sums over the tiled axis but for a sum over the last axis too, whose tiles'
partial sums are added up (a few ulps apart: see ``Kernel``).

>>> import numpy as np
>>> from bngraph.compile.program import Program
>>> p = Program(); f64 = np.dtype(np.float64)
>>> a, b = p.register((4096, 64), f64), p.register((64,), f64)
>>> t = p.emit(np.multiply, (a, b), (4096, 64), f64, node=1, out_at=2, inplace=(a, b))
>>> u = p.emit(np.add, (t, b), (4096, 64), f64, node=2, out_at=2, inplace=(t, b))
>>> fuse(p, 0, keep={u})
>>> [type(i.fn).__name__ for i in p.instrs], p.instrs[0].args
(['Kernel'], (0, 1))
>>> out = p.instrs[0].fn(np.ones((4096, 64)), np.full(64, 2.0), None)
>>> float(out.sum()) == 4096 * 64 * 4.0
True
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any

import numpy as np

from .forward import maximum
from .program import Instr, Program, is_array

__all__ = ["Kernel", "Einsum", "fuse", "negations", "sums_of_products", "MIN_BYTES",
           "TILE_BYTES"]

MIN_BYTES = 1 << 20
"""Arrays smaller than this (they fit in the cache anyway) are not fused."""

TILE_BYTES = 1 << 18
"""About this many bytes per tile of a value (measured best here: 256 KiB, of 64 KiB-1 MiB)."""

REDUCE: Any = np.add.reduce  # (numpy's stubs know no positional out)

try:  # what np.einsum calls when not asked to optimize, without its Python layer
    from numpy._core.multiarray import c_einsum as EINSUM
except ImportError:  # pragma: no cover - a numpy that moved it
    EINSUM = np.einsum

ELEMENTWISE: set[Any] = {
    np.add, np.subtract, np.multiply, np.true_divide, np.negative, np.sqrt, np.exp, np.log,
    np.tanh, np.square, np.reciprocal, np.positive, np.power, maximum,
}


class Kernel:
    """``ops`` over tiles of rows: each op is ``(ufunc, operands, destination)``, with
    operands numbered among the leaves, then the scratch tiles, then the result's
    tile (the last op writes it). With ``axes``, the last op writes a scratch tile
    that is summed over them (kept as in ``np.add.reduce``): into the result's rows
    when axis 0 is not summed, else carried from tile to tile. When the last axis
    longer than 1 is kept (``carried``), numpy sums row after row, and so does the
    kernel: each tile's sum starts from the sum so far, put in a row of its own before
    the tile's first (the other summed axes' places in that row hold -0.0, which adds
    nothing, not even a sign): the order of one sum over the whole axis, bit for bit.
    Else (numpy sums along the last axis, pairwise) the tiles' partial sums are added
    up, a few ulps apart."""

    def __init__(self, ops: list[tuple[Callable[..., Any], tuple[int, ...], int]],
                 sliced: list[bool], scratch: int, shape: tuple[int, ...],
                 dtype: np.dtype[Any], result: tuple[int, ...],
                 axes: tuple[int, ...] | None = None, keepdims: bool = False) -> None:
        self.ops = ops  # (read by .rows, which compiles them into its loop)
        self.sliced = tuple(sliced)  # which leaves are cut into tiles (the others broadcast)
        if axes is not None:  # -1 and the like as the axes they name
            axes = tuple(sorted(a % len(shape) for a in axes))
        self.scratch = scratch
        self.shape, self.dtype, self.result = shape, dtype, result
        self.axes, self.keepdims = axes, keepdims
        self.summed = ops[-1][2] if axes is not None else -1
        wide = [k for k, n in enumerate(shape) if n > 1]  # numpy's innermost loop: the last
        self.carried = axes is not None and 0 in axes and bool(wide) and wide[-1] not in axes
        # where the sum so far goes in the row before a tile: 0 along the summed axes
        self.head = tuple(0 if k in (axes or ()) else slice(None)
                          for k in range(1, len(shape)))
        self.kept = tuple(n for k, n in enumerate(shape) if axes is None or k not in axes)
        self.padded = len(self.kept) < len(shape) - 1  # axes summed beside axis 0
        row = int(np.prod(shape[1:], dtype=np.int64)) * dtype.itemsize or 1
        self.rows = max(1, TILE_BYTES // row)
        self.calls = [(fn, itemgetter(*operands, destination)) for fn, operands, destination
                      in ops]

    def __repr__(self) -> str:
        return f"<Kernel of {len(self.calls)} calls over {self.shape}>"

    def __call__(self, *args: Any) -> Any:
        *leaves, out = args
        if out is None:
            out = np.empty(self.result, self.dtype)
        n, rows, axes, keepdims = self.shape[0], self.rows, self.axes, self.keepdims
        size = min(rows, n)
        scratch = [np.empty((size, *self.shape[1:]), self.dtype) for _ in range(self.scratch)]
        carry = None
        if self.carried:  # the summed tile, after a row for the sum so far
            carry = np.empty((size + 1, *self.shape[1:]), self.dtype)
            scratch[self.summed - len(leaves)] = carry[1:]
        partial = None
        for r0 in range(0, n, rows):
            r1 = min(n, r0 + rows)
            env = [leaf[r0:r1] if cut else leaf
                   for leaf, cut in zip(leaves, self.sliced, strict=True)]
            env += scratch if r1 - r0 == rows else [s[: r1 - r0] for s in scratch]
            env.append(out[r0:r1] if axes is None or 0 not in axes else out)
            for fn, fetch in self.calls:
                fn(*fetch(env))
            if axes is None:
                continue
            tile = env[self.summed]
            if 0 not in axes or r0 == 0:
                REDUCE(tile, axes, None, env[-1], keepdims)
            elif carry is not None:
                first = carry[0]
                if self.padded:
                    first.fill(-0.0)
                first[self.head] = out.reshape(self.kept)
                REDUCE(carry[: r1 - r0 + 1], axes, None, out, keepdims)
            else:
                if partial is None:
                    partial = np.empty_like(out)
                np.add(out, REDUCE(tile, axes, None, partial, keepdims), out)
        return out


class Einsum:
    """``np.einsum(subscripts, *operands, out=out)``, the result reshaped to keep the
    summed axis (``kept``) when the sum it stands for kept it."""

    def __init__(self, subscripts: str, kept: tuple[int, ...] | None) -> None:
        self.subscripts, self.kept = subscripts, kept

    def __repr__(self) -> str:
        return f"<einsum {self.subscripts}>"

    def __call__(self, *args: Any) -> Any:
        *operands, out = args
        if out is None:  # (c_einsum takes out=None for no buffer as a wrong type)
            result = EINSUM(self.subscripts, *operands)
            return result if self.kept is None else result.reshape(self.kept)
        if self.kept is None:
            return EINSUM(self.subscripts, *operands, out=out)
        EINSUM(self.subscripts, *operands, out=out.reshape(self.kept[1:]))
        return out


def _uses_and_definitions(instrs: list[Instr]) -> tuple[dict[int, int], dict[int, Instr]]:
    """How many calls read each register, and the call that defines each."""
    uses: dict[int, int] = {}
    for ins in instrs:
        for a in ins.args:
            uses[a] = uses.get(a, 0) + 1
    return uses, {ins.result: ins for ins in instrs}


def sums_of_products(p: Program, start: int, keep: set[int]) -> None:
    """``sum(a * b, axis=0)`` (and of ``a * a``) as one ``np.einsum``, without the
    product: it multiplies and adds row after row as the sum does, bit for bit (for
    arrays of more than one column, in C order)."""
    instrs = p.instrs[start:]
    uses, defined = _uses_and_definitions(instrs)
    dropped: set[int] = set()
    for k, ins in enumerate(instrs):
        product = defined.get(ins.args[0]) if ins.fn == REDUCE and not ins.fresh else None
        if product is None or product.fn not in (np.multiply, np.square) or product.fresh \
                or uses.get(product.result) != 1 or product.result in keep:
            continue
        shape = p.shapes[product.result]
        axis, keepdims = p.consts[ins.args[1]], p.consts[ins.args[3]]
        factors = product.args if product.fn is np.multiply else product.args * 2
        if axis not in (0, (0,)) or len(shape) < 2 or int(np.prod(shape[1:])) < 2 \
                or not all(p.ordered[f] for f in factors):
            continue
        letters = "abcdefghijklmnopqrstuvwxyz"[:len(shape)]
        spec = ",".join(letters[len(shape) - len(p.shapes[f]):] for f in factors)
        kernel = Einsum(f"{spec}->{letters[1:]}", (1, *shape[1:]) if keepdims else None)
        instrs[k] = Instr(kernel, tuple(factors), ins.result, ins.node, len(factors), (), (),
                          ins.edge)
        dropped.add(product.result)
    p.instrs[start:] = [ins for ins in instrs if ins.result not in dropped]


def negations(p: Program, start: int, keep: set[int]) -> None:
    """``(-a) * c`` and ``(-a) / c`` as ``a * (-c)`` and ``a / (-c)`` for a constant
    ``c``: one call less, and the same bits (a sign flip is exact)."""
    instrs = p.instrs[start:]
    uses, defined = _uses_and_definitions(instrs)
    dropped: set[int] = set()
    for k, ins in enumerate(instrs):
        if ins.fn not in (np.multiply, np.true_divide) or ins.out_at != 2 or ins.fresh:
            continue
        a, c = ins.args
        negative = defined.get(a)
        if negative is None or negative.fn is not np.negative or negative.fresh \
                or uses.get(a) != 1 or a in keep or not _scalar_const(p, c):
            continue
        flipped = p.const(_flip(p.consts[c]))
        (x,) = negative.args
        instrs[k] = Instr(ins.fn, (x, flipped), ins.result, ins.node, 2,
                          tuple(r for r in (x,) if p.shapes[r] == p.shapes[ins.result]
                                and p.kinds[r] == p.kinds[ins.result]), (), ins.edge)
        dropped.add(a)
    p.instrs[start:] = [ins for ins in instrs if ins.result not in dropped]


def _scalar_const(p: Program, reg: int) -> bool:
    value = p.consts.get(reg, None) if p.is_const(reg) else None
    return type(value) is float or (isinstance(value, np.ndarray) and value.ndim == 0
                                    and value.dtype.kind == "f")


def _flip(value: Any) -> Any:
    if type(value) is float:
        return -value
    flipped = np.array(np.negative(value), dtype=value.dtype)
    flipped.flags.writeable = False
    return flipped


def fuse(p: Program, start: int, keep: set[int]) -> None:
    """Fold negations into constants, sums of products into einsums, and the trees of
    elementwise calls of ``p.instrs[start:]`` over large arrays into kernels."""
    negations(p, start, keep)
    sums_of_products(p, start, keep)
    instrs = p.instrs[start:]
    uses, defined = _uses_and_definitions(instrs)

    def foldable(reg: int, shape: tuple[int, ...]) -> bool:
        ins = defined.get(reg)
        return (ins is not None and _elementwise(p, ins) and uses.get(reg) == 1
                and reg not in keep and p.shapes[reg] == shape)

    folded: set[int] = set()
    out: list[Instr] = []
    for ins in reversed(instrs):
        if ins.result in folded:
            continue
        kernel = _kernel(p, ins, defined, foldable, folded)
        out.append(kernel if kernel is not None else ins)
    p.instrs[start:] = list(reversed(out))


def _elementwise(p: Program, ins: Instr) -> bool:
    return (ins.fn in ELEMENTWISE and ins.out_at == len(ins.args) and not ins.fresh
            and is_array(p.kinds[ins.result]) and p.kinds[ins.result].kind == "f")


def _kernel(p: Program, root: Instr, defined: dict[int, Instr],
            foldable: Callable[[int, tuple[int, ...]], bool], folded: set[int]) -> Instr | None:
    """The kernel for the tree under ``root`` (an elementwise call, or a sum of one)."""
    if root.fn == REDUCE and not root.fresh:  # a bound method: equal, not identical
        top = root.args[0]
        shape = p.shapes[top]
        if not foldable(top, shape) or _small(p, top):
            return None
        axis, keepdims = p.consts[root.args[1]], p.consts[root.args[3]]
        axes: tuple[int, ...] | None = tuple(range(len(shape))) if axis is None else (
            (axis,) if isinstance(axis, int) else tuple(axis))
        top_ins = defined[top]
    elif _elementwise(p, root) and not _small(p, root.result):
        shape, top, axes, keepdims, top_ins = p.shapes[root.result], root.result, None, False, root
    else:
        return None
    leaves: list[int] = []
    ops: list[tuple[Any, list[int], int]] = []  # operands: leaf k >= 0, tree value -1 - reg

    def visit(reg: int, ins: Instr | None) -> int:
        if ins is None:
            if reg not in leaves:
                leaves.append(reg)
            return leaves.index(reg)
        operands = [visit(a, defined[a] if foldable(a, shape) else None) for a in ins.args]
        ops.append((ins.fn, operands, reg))
        return -1 - reg

    visit(top, top_ins)
    if len(ops) < 2 and axes is None:
        return None
    folded.update(reg for _, _, reg in ops if reg != root.result)
    numbered, scratch = _numbered(ops, len(leaves), axes is None)
    kernel = Kernel(numbered, [_sliced(p.shapes[leaf], shape) for leaf in leaves], scratch,
                    shape, p.kinds[root.result], p.shapes[root.result], axes, keepdims)
    inplace = tuple(leaf for leaf in leaves if p.shapes[leaf] == shape) if axes is None else ()
    return Instr(kernel, tuple(leaves), root.result, root.node, len(leaves), inplace, (),
                 root.edge)


def _numbered(ops: list[tuple[Any, list[int], int]], leaves: int,
              to_out: bool) -> tuple[list[tuple[Any, tuple[int, ...], int]], int]:
    """Number the tree's values among the kernel's tiles: a scratch tile each, reused
    once read; the last op writes the result's tile (``to_out``) or a scratch tile."""
    number: dict[int, int] = {}
    free: list[int] = []
    count = 0
    numbered = []
    for k, (fn, operands, reg) in enumerate(ops):
        args = []
        for o in operands:
            if o >= 0:
                args.append(o)
            else:
                tile = number[-1 - o]
                args.append(leaves + tile)
                free.append(tile)
        if k == len(ops) - 1 and to_out:
            destination = -1
        else:
            if free:
                number[reg] = free.pop()
            else:
                number[reg] = count
                count += 1
            destination = leaves + number[reg]
        numbered.append((fn, tuple(args), destination))
    return numbered, count


def _sliced(leaf: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """Whether a leaf is cut into the tiles' rows (else it broadcasts whole)."""
    return len(leaf) == len(shape) and leaf[0] == shape[0] != 1


def _small(p: Program, reg: int) -> bool:
    return p.nbytes(reg) < MIN_BYTES or len(p.shapes[reg]) == 0
