"""Row passes: runs of large elementwise calls and sums over the first axis, in one loop.

After the buffers are placed, ``fuse_rows`` turns each run of consecutive steps over one
large 2-d shape ``(n, d)`` (elementwise ``+ - * /``, negation and square root, sums over
axis 0 by ``np.add.reduce``, the einsums of sums of products and the tiled kernels of
``.fusion``) into one ``RowPass`` step: a loop over the elements (``.loops``, compiled by
numba) that keeps the values of the run in registers, writes back only those read after
it (kept for the backward pass, handed out, read by a later step or through a view), and
adds the sums row after row into zeros, as numpy does. A run stops before a step that
reads a sum made in it or a view of a value made in it, or that writes a buffer an earlier
step of it read (the loop computes a value where it is needed, maybe after that write).
Every value is the same IEEE operation on the same operands as numpy's, so results are
the interpreter's bit for bit.

A pass makes its numpy calls one by one until its loop is compiled (after
``COMPILE_AFTER`` runs, on the worker thread of ``.loops``), without numba, and for a run
whose arrays the loop does not take: an operand of the full shape must be in C order or
spread down the first axis (a row, or a number), and none may share memory with an array
the pass writes.

>>> import numpy as np, bngraph as bg
>>> from bngraph.compile.cache import compiled_for
>>> g = bg.library.get("batchnorm")
>>> x = np.ones((1024, 512), np.float32)
>>> c = compiled_for(g.plan, {"x": x, "gamma": np.ones(512, np.float32), "beta": x[0]})
>>> [repr(s[0]) for s in c.steps if isinstance(s[0], RowPass)] in ([], [
...     "<row pass of 2 calls over (1024, 512)>", "<row pass of 2 calls over (1024, 512)>"])
True
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..schedule import fetcher
from . import loops
from .buffers import Step, run_steps
from .fusion import REDUCE, Einsum, Kernel
from .loops import ADD, DIV, FULL, MUL, NEG, ONE, OUT, ROW, SQRT, SUB, SUM, submit
from .program import WEAK, Instr, Program, is_array

__all__ = ["RowPass", "fuse_rows", "MIN_BYTES", "MIN_WIDTH", "MIN_ELEMENTS", "MIN_ROW",
           "COMPILE_AFTER", "COMPILE_AFTER_SMALL"]

MIN_BYTES = 1 << 20
"""Passes over at least this many bytes are large: compiled after ``COMPILE_AFTER`` runs."""

MIN_WIDTH = 256
"""Large passes have rows at least this wide (the loop's own cost per row would show)."""

MIN_ELEMENTS = 512
"""Smaller passes (compiled after ``COMPILE_AFTER_SMALL`` runs) have at least this many
elements, in rows at least ``MIN_ROW`` wide: below, numpy's calls cost no more than
calling the loop."""

MIN_ROW = 8

ACC = -1  # the op of a sum over the rows (not an op of .loops: a statement)

CODES: dict[Any, tuple[int, int]] = {  # ufunc: its code, how many operands
    np.add: (ADD, 2), np.subtract: (SUB, 2), np.multiply: (MUL, 2), np.true_divide: (DIV, 2),
    np.negative: (NEG, 1), np.sqrt: (SQRT, 1),
}
EINSUMS = {"ab,ab->b", "ab,b->b", "b,ab->b"}

COMPILE_AFTER = 1
"""Runs of a large pass with numpy's calls before its loop is compiled: a graph run once
never waits for numba (about half a second per pass)."""

COMPILE_AFTER_SMALL = 100
"""Runs of a smaller pass before its loop is compiled: at 100 us a run, numba's half a
second pays only for a graph run many times."""

COMPILING: Any = object()  # (a pass's loop, while numba makes it)
FAILED: Any = object()  # (numba refused it: the pass keeps numpy's calls)
_LOCK = threading.Lock()

# the ops of one pass, as described: (op, destination, operands); an operand is
# ("slot", s) or ("temp", t) (a kernel's scratch value), a destination one of those or
# ("acc", s, shape), a sum over the rows into slot s. In a pass they are numbered as
# values, each written once: an operand is then ("val", v) or ("ext", s), read from
# the frame.
Op = tuple[int, tuple[Any, ...], tuple[tuple[str, int], ...]]


class RowPass:
    """Steps run as one pass over the rows (see the module); until its loop is compiled,
    and for a run whose arrays it does not take, the steps run one by one.

    ``ops`` are numbered values (see ``Op``) reading ``("ext", k)``, the ``k``-th of the
    frame's ``slots`` (each of a role of ``.loops``, in ``roles``, of the shape in
    ``shapes``); ``stores`` maps the values written back to the place of their slot in
    ``slots``. The loop's operands after those are the sums in ``scratch``, ``(slot,
    shape)``: new arrays, put in their slots after the loop."""

    def __init__(self, steps: Sequence[Step], ops: list[Op], shape: tuple[int, int],
                 dtype: np.dtype[Any], slots: list[int], roles: list[int],
                 shapes: list[tuple[int, ...]], stores: dict[int, int],
                 scratch: list[tuple[int, tuple[int, ...]]]) -> None:
        self.steps = tuple(steps)
        self.ops, self.shape, self.dtype = ops, shape, dtype
        self.slots, self.stores, self.scratch = tuple(slots), stores, scratch
        self.roles = (*roles, *[SUM] * len(scratch))
        self.shapes = shapes
        self.n, self.d = shape
        # the arrays a run may hand out, made here when it is their first call
        self.fresh = [(slot, shapes[k]) for k, slot in enumerate(slots)
                      if roles[k] in (OUT, SUM)]
        self.gather: Callable[[list[Any]], tuple[Any, ...]] = fetcher(self.slots)
        self.dst = steps[-1][2]
        self.large = _large(shape, dtype)
        self.loop: Any = None  # COMPILING, FAILED, or a loop of .loops
        self.runs = 0

    def __repr__(self) -> str:
        return f"<row pass of {len(self.steps)} calls over {self.shape}>"

    def __call__(self, frame: list[Any]) -> Any:
        loop = self.loop
        if loop is None or loop is COMPILING or loop is FAILED:
            return self._waiting(frame)
        for slot, shape in self.fresh:
            if frame[slot] is None:
                frame[slot] = np.empty(shape, self.dtype)
        operands = self.gather(frame)
        if self.scratch:
            operands += tuple(np.empty(shape, self.dtype) for _, shape in self.scratch)
        try:
            failed = loop(operands, self.n, self.d)
        except TypeError:  # an operand of another type than the loop's
            failed = 1
        if failed:
            return self._one_by_one(frame)
        for (slot, _), made in zip(self.scratch, operands[len(self.slots):], strict=True):
            if frame[slot] is None:
                frame[slot] = made
            else:
                frame[slot][...] = made
        return frame[self.dst]

    def _waiting(self, frame: list[Any]) -> Any:
        """The steps one by one, while the loop is not ready; it is compiled once the pass
        has run often enough."""
        if self.loop is None:
            self.runs += 1
            if self.runs > (COMPILE_AFTER if self.large else COMPILE_AFTER_SMALL):
                self._compile(frame)
        return self._one_by_one(frame)

    def _one_by_one(self, frame: list[Any]) -> Any:
        run_steps(self.steps, frame)
        return frame[self.dst]

    def _compile(self, frame: list[Any]) -> None:
        with _LOCK:
            if self.loop is not None:
                return
            self.loop = COMPILING
        operands = [np.empty(shape, self.dtype) if frame[slot] is None else frame[slot]
                    for slot, shape in zip(self.slots, self.shapes, strict=True)]
        operands += [np.empty(shape, self.dtype) for _, shape in self.scratch]
        if loops.COMPILE_IN_BACKGROUND:
            submit(lambda: self._ready(tuple(operands)))
        else:
            self._ready(tuple(operands))

    def _ready(self, operands: tuple[Any, ...]) -> None:
        """Compile the loop for the types of one run's operands (numba's compiling is
        about half a second a pass; passes of the same ops and types share a loop)."""
        try:
            self.loop = loops.compiled(self.ops, self.stores, self.roles, operands, self.dtype)
        except Exception:  # noqa: BLE001 - numba refused it: numpy's calls it is
            self.loop = FAILED


def fuse_rows(p: Program, steps: Sequence[Step], slots: dict[int, int],
              live: set[int]) -> tuple[Step, ...]:
    """The steps with runs of two or more row-fusable ones (or one tiled kernel or sum
    of products) as one ``RowPass`` each. ``slots`` places registers; ``live`` are the
    slots read after these steps (kept, handed out, read by a later segment)."""
    described = [_describe(p, step, slots) for step in steps]
    if not any(described) or not loops.available():
        return tuple(steps)
    defined = {ins.result: ins for ins in p.instrs}
    # a slot read after these steps through a view (one made with the arena) is live too
    live = live | {slots[b] for r, s in slots.items() if s in live
                   for b in _bases(r, defined) if b in slots}
    out: list[Step] = []
    k = 0
    while k < len(steps):
        group = _group(described, k, defined, slots)
        if group is None:
            out.append(steps[k])
            k += 1
            continue
        end, shape, dtype = group
        out.append(_pass(p, steps, described, k, end, shape, dtype, slots, live, defined))
        k = end
    return tuple(out)


def _through(ins: Instr, defined: dict[int, Instr], slots: dict[int, int]) -> set[int]:
    """The slots whose buffers ``ins`` reads through a view (of its operands' bases)."""
    return {slots[b] for a in ins.args for b in _bases(a, defined) - {a} if b in slots}


def _bases(reg: int, defined: dict[int, Instr]) -> set[int]:
    """``reg`` and every register whose memory it may share (what it is a view of)."""
    seen = {reg}
    todo = [reg]
    while todo:
        ins = defined.get(todo.pop())
        for a in ins.aliases if ins is not None else ():
            if a not in seen:
                seen.add(a)
                todo.append(a)
    return seen


def _describe(p: Program, step: Step, slots: dict[int, int]) -> Any:
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
    broadcast along it, all of one float dtype, over a shape large enough."""
    if len(shape) != 2 or not is_array(kind) or kind not in (np.float32, np.float64):
        return None
    if not _large(shape, kind) and (int(np.prod(shape)) < MIN_ELEMENTS or shape[1] < MIN_ROW):
        return None
    for a in args:
        a_shape, a_kind = p.shapes[a], p.kinds[a]
        if a_kind != kind and a_kind != WEAK:
            return None
        if a_shape not in (shape, (), (shape[1],), (1, shape[1]), (1, 1), (1,)):
            return None
    return tuple(shape), kind, ops


def _large(shape: tuple[int, ...], dtype: np.dtype[Any]) -> bool:
    return int(np.prod(shape)) * dtype.itemsize >= MIN_BYTES and shape[1] >= MIN_WIDTH


def _group(described: list[Any], start: int, defined: dict[int, Instr],
           slots: dict[int, int]) -> tuple[int, Any, Any] | None:
    """The end of the run of fusable steps from ``start``, with its shape and dtype;
    ``None`` for no run. A run has one shape and dtype, and stops before a step that
    reads a sum made in it or a view of a value made in it, or that writes a buffer an
    earlier step of it read from before the run: the loop computes a value when a later
    statement needs it, which may be after that write. It also stops before a step that
    writes a buffer the run reads through a view (the loop writes each element as it
    goes)."""
    first = described[start]
    if first is None:
        return None
    shape, dtype = first[0], first[1]
    summed: set[int] = set()
    made: set[int] = set()
    written: set[int] = set()
    read_before: set[int] = set()  # slots read from the frame by the run's steps so far
    seen_through: set[int] = set()  # slots the run's steps read through a view
    end = start
    while end < len(described):
        d = described[end]
        if d is None or d[0] != shape or d[1] != dtype:
            break
        reads = {o[1] for _, _, operands in d[2] for o in operands if o[0] == "slot"}
        writes = {dst[1] for _, dst, _ in d[2] if dst[0] == "slot"}
        seen_through |= _through(d[3], defined, slots)
        if reads & summed or writes & read_before or writes & seen_through \
                or any((_bases(a, defined) - {a}) & made for a in d[3].args):
            break
        summed |= {dst[1] for _, dst, _ in d[2] if dst[0] == "acc"}
        read_before |= reads - written
        written |= writes
        made.add(d[3].result)
        end += 1
    if end - start < 2 and len(first[2]) < 2:
        return None
    return end, shape, dtype


def _pass(p: Program, steps: Sequence[Step], described: list[Any], start: int, end: int,
          shape: tuple[int, int], dtype: np.dtype[Any], slots: dict[int, int],
          live: set[int], defined: dict[int, Instr]) -> Step:
    """One ``RowPass`` step for ``steps[start:end]``: its ops as values written once."""
    shape_of = {s: p.shapes[r] for r, s in slots.items()}  # (constants too: a seed of ones)
    # the value each name holds now: a slot's, or a step's scratch value ("temp", step, t)
    version: dict[tuple[Any, ...], int] = {}
    ops: list[Op] = []
    place: dict[int, int] = {}  # slot: its place among the loop's operands
    roles: list[int] = []
    shapes: list[tuple[int, ...]] = []

    def operand(slot: int, role: int, shape_: tuple[int, ...]) -> int:
        if slot not in place:
            place[slot] = len(roles)
            roles.append(role)
            shapes.append(shape_)
        return place[slot]

    # a sum into a buffer the pass reads or writes otherwise (or sums into twice) adds
    # into scratch, copied into the buffer after the loop; the others into the buffer
    touched: set[int] = set()
    sums: list[int] = []
    for d in described[start:end]:
        touched |= {o[1] for _, dst, operands in d[2] for o in (dst, *operands)
                    if o[0] == "slot"} | _through(d[3], defined, slots)
        sums += [dst[1] for _, dst, _ in d[2] if dst[0] == "acc"]
    scratch: list[tuple[int, tuple[int, ...]]] = []  # (slot, shape), after the operands
    finals: dict[int, tuple[int, int]] = {}  # slot: its last value, and its register
    for number, d in enumerate(described[start:end]):
        for op, dst, operands in d[2]:
            read = []
            for kind, k in operands:
                name = (kind, k) if kind == "slot" else ("temp", number, k)
                if name in version:
                    read.append(("val", version[name]))
                    continue
                read.append(("ext", operand(k, _role(shape_of[k], shape), shape_of[k])))
            if dst[0] == "acc" and (dst[1] in touched or sums.count(dst[1]) > 1):
                ops.append((op, ("scratch", len(scratch)), tuple(read)))
                scratch.append((dst[1], dst[2]))
                continue
            if dst[0] == "acc":
                ops.append((op, ("acc", operand(dst[1], SUM, dst[2])), tuple(read)))
                continue
            value = len(ops)
            name = dst if dst[0] == "slot" else ("temp", number, dst[1])
            version[name] = value
            if dst[0] == "slot":
                finals[dst[1]] = (value, d[3].result)
            ops.append((op, ("val", value), tuple(read)))
    later = _read_later(p, steps[end:], defined)
    stores = {}
    for slot, (value, reg) in finals.items():
        if slot in live or reg in later:
            stores[value] = operand(slot, OUT, shape)
            roles[place[slot]] = OUT  # (read before it is written, by the same step)
    ops = [(op, ("acc", len(place) + dst[1]) if dst[0] == "scratch" else dst, operands)
           for op, dst, operands in ops]
    return (RowPass(steps[start:end], ops, shape, dtype, list(place), roles, shapes, stores,
                    scratch), _whole_frame, steps[end - 1][2], steps[end - 1][3])


def _role(shape: tuple[int, ...], full: tuple[int, int]) -> int:
    """How the loop reads an operand of this shape (see ``.loops``)."""
    if shape == full:
        return FULL
    return ROW if shape in ((full[1],), (1, full[1])) else ONE


def _whole_frame(frame: list[Any]) -> tuple[list[Any]]:
    return (frame,)


def _read_later(p: Program, steps: Sequence[Step], defined: dict[int, Instr]) -> set[int]:
    """The registers that the steps after a pass read, directly or through a view."""
    read: set[int] = set()
    for step in steps:
        for a in p.instrs[step[3]].args:
            read |= _bases(a, defined)
    return read
