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
from collections.abc import Sequence
from typing import Any

import numpy as np

from . import loops
from .buffers import Step, run_steps
from .fusion import REDUCE, Einsum, Kernel
from .loops import ADD, DIV, LOAD, MUL, NEG, SQRT, SUB, VEC, compose, submit
from .program import WEAK, Instr, Program, is_array

__all__ = ["RowPass", "fuse_rows", "MIN_BYTES", "MIN_WIDTH", "COMPILE_AFTER"]

MIN_BYTES = 1 << 20
"""Arrays smaller than this are left to numpy's calls (they fit in the cache anyway)."""

MIN_WIDTH = 256
"""Rows narrower than this are left to numpy (the loop's own cost per row would show)."""

ACC = -1  # the op of a sum over the rows (not an op of .loops: a statement)

CODES: dict[Any, tuple[int, int]] = {  # ufunc: its code, how many operands
    np.add: (ADD, 2), np.subtract: (SUB, 2), np.multiply: (MUL, 2), np.true_divide: (DIV, 2),
    np.negative: (NEG, 1), np.sqrt: (SQRT, 1),
}
EINSUMS = {"ab,ab->b", "ab,b->b", "b,ab->b"}

COMPILE_AFTER = 1
"""Runs of a pass with numpy's calls before its loop is compiled: a graph run once never
waits for numba (about half a second per pass)."""

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

    ``ops`` are numbered values (see ``Op``), ``full`` and ``small`` the slots read from
    the frame (of the full shape, or broadcast along it), ``stores`` the values written
    back, as ``{value: slot}``."""

    def __init__(self, steps: Sequence[Step], ops: list[Op], shape: tuple[int, int],
                 dtype: np.dtype[Any], full: list[int], small: list[int],
                 stores: dict[int, int]) -> None:
        self.steps = tuple(steps)
        self.ops, self.shape, self.dtype = ops, shape, dtype
        self.full, self.small, self.stores = full, small, stores
        self.store_slots = sorted(set(stores.values()))
        self.sums = [(dst[1], dst[2]) for _, dst, _ in ops if dst[0] == "acc"]
        self.dst = steps[-1][2]
        self.loops: dict[tuple[int, ...], Any] = {}  # by where the full operands are read
        self.runs = 0

    def __repr__(self) -> str:
        return f"<row pass of {len(self.steps)} calls over {self.shape}>"

    def __call__(self, frame: list[Any]) -> Any:
        loads, spread, places = [], [], []
        for slot in self.full:
            a = frame[slot]
            if type(a) is not np.ndarray or a.dtype != self.dtype or a.shape != self.shape:
                return self._one_by_one(frame)
            if a.flags.c_contiguous:
                places.append(LOAD)
                loads.append(a)
            elif a.strides[0] == 0:  # a row spread down (or a number spread everywhere)
                places.append(VEC)
                spread.append(a[0])
            else:
                return self._one_by_one(frame)
        key = tuple(places)
        loop = self.loops.get(key)
        if loop is None:
            self.runs += 1
            if self.runs > COMPILE_AFTER:
                self._compile(key)
                loop = self.loops.get(key)
        if loop is None or loop is COMPILING or loop is FAILED:
            return self._one_by_one(frame)
        stores = []
        for slot in self.store_slots:
            out = frame[slot]
            if out is None:
                out = frame[slot] = np.empty(self.shape, self.dtype)
            elif not (type(out) is np.ndarray and out.flags.c_contiguous
                      and out.shape == self.shape and out.dtype == self.dtype):
                return self._one_by_one(frame)
            stores.append(out)
        if any(a is not out and np.may_share_memory(a, out) for a in loads for out in stores):
            return self._one_by_one(frame)
        vecs = np.empty((len(spread) + len(self.small), self.shape[1]), self.dtype)
        for k, a in enumerate(spread):
            vecs[k] = a
        for k, slot in enumerate(self.small, start=len(spread)):
            vecs[k] = np.ravel(frame[slot])  # (d,), (1, d), (1, 1), () or a Python float
        accs = np.zeros((len(self.sums), self.shape[1]), self.dtype)
        loop(tuple(loads), vecs, tuple(stores), accs, *self.shape)
        for k, (slot, shape) in enumerate(self.sums):
            out = frame[slot]
            if out is None:
                out = frame[slot] = np.empty(shape, self.dtype)
            out[...] = accs[k].reshape(shape)
        return frame[self.dst]

    def _one_by_one(self, frame: list[Any]) -> Any:
        run_steps(self.steps, frame)
        return frame[self.dst]

    def _compile(self, key: tuple[int, ...]) -> None:
        with _LOCK:
            if key in self.loops:
                return
            self.loops[key] = COMPILING
        if loops.COMPILE_IN_BACKGROUND:
            submit(lambda: self._ready(key))
        else:
            self._ready(key)

    def _ready(self, key: tuple[int, ...]) -> None:
        try:
            self.loops[key] = self._made(key)
        except Exception:  # noqa: BLE001 - numba refused it: numpy's calls it is
            self.loops[key] = FAILED

    def _made(self, key: tuple[int, ...]) -> Any:
        """The loop for full operands read from these places, compiled for this pass's
        arrays (numba compiles on the first call: made here, on one row of zeros)."""
        loop = compose(self.ops, self.stores, self.store_slots, self._leaves(key))
        width = self.shape[1]
        loads = tuple(np.zeros((1, width), self.dtype) for p in key if p == LOAD)
        vecs = np.zeros((len(key) - len(loads) + len(self.small), width), self.dtype)
        stores = tuple(np.zeros((1, width), self.dtype) for _ in self.store_slots)
        loop(loads, vecs, stores, np.zeros((len(self.sums), width), self.dtype), 1, width)
        return loop

    def _leaves(self, places: tuple[int, ...]) -> dict[int, tuple[int, int]]:
        """Where each slot read from the frame is found: full operands in C order are
        read row by row, spread ones (and the small ones) from the rows broadcast."""
        leaves: dict[int, tuple[int, int]] = {}
        counts = {LOAD: 0, VEC: 0}
        for slot, place in zip(self.full, places, strict=True):
            leaves[slot] = (place, counts[place])
            counts[place] += 1
        for k, slot in enumerate(self.small, start=counts[VEC]):
            leaves[slot] = (VEC, k)
        return leaves


def fuse_rows(p: Program, steps: Sequence[Step], slots: dict[int, int],
              live: set[int]) -> tuple[Step, ...]:
    """The steps with runs of two or more row-fusable ones (or one tiled kernel or sum
    of products) as one ``RowPass`` each. ``slots`` places registers; ``live`` are the
    slots read after these steps (kept, handed out, read by a later segment)."""
    described = [_describe(p, step, slots) for step in steps]
    if not any(described) or not loops.available():
        return tuple(steps)
    defined = {ins.result: ins for ins in p.instrs}
    out: list[Step] = []
    k = 0
    while k < len(steps):
        group = _group(p, described, k, defined)
        if group is None:
            out.append(steps[k])
            k += 1
            continue
        end, shape, dtype = group
        out.append(_pass(p, steps, described, k, end, shape, dtype, slots, live, defined))
        k = end
    return tuple(out)


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
    if shape[1] < MIN_WIDTH or int(np.prod(shape)) * kind.itemsize < MIN_BYTES:
        return None
    for a in args:
        a_shape, a_kind = p.shapes[a], p.kinds[a]
        if a_kind != kind and a_kind != WEAK:
            return None
        if a_shape not in (shape, (), (shape[1],), (1, shape[1]), (1, 1), (1,)):
            return None
    return tuple(shape), kind, ops


def _group(p: Program, described: list[Any], start: int,
           defined: dict[int, Instr]) -> tuple[int, Any, Any] | None:
    """The end of the run of fusable steps from ``start``, with its shape and dtype;
    ``None`` for no run. A run has one shape and dtype, and stops before a step that
    reads a sum made in it or a view of a value made in it, or that writes a buffer an
    earlier step of it read from before the run: the loop computes a value when a later
    statement needs it, which may be after that write."""
    first = described[start]
    if first is None:
        return None
    shape, dtype = first[0], first[1]
    summed: set[int] = set()
    made: set[int] = set()
    written: set[int] = set()
    read_before: set[int] = set()  # slots read from the frame by the run's steps so far
    end = start
    while end < len(described):
        d = described[end]
        if d is None or d[0] != shape or d[1] != dtype:
            break
        reads = {o[1] for _, _, operands in d[2] for o in operands if o[0] == "slot"}
        writes = {dst[1] for _, dst, _ in d[2] if dst[0] == "slot"}
        if reads & summed or writes & read_before \
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
    full: list[int] = []
    small: list[int] = []
    finals: dict[int, tuple[int, int]] = {}  # slot: its last value, and its register
    for number, d in enumerate(described[start:end]):
        for op, dst, operands in d[2]:
            read = []
            for kind, k in operands:
                name = (kind, k) if kind == "slot" else ("temp", number, k)
                if name in version:
                    read.append(("val", version[name]))
                    continue
                if k not in full and k not in small:
                    (full if shape_of.get(k) == shape else small).append(k)
                read.append(("ext", k))
            if dst[0] == "acc":
                ops.append((op, dst, tuple(read)))
                continue
            value = len(ops)
            name = dst if dst[0] == "slot" else ("temp", number, dst[1])
            version[name] = value
            if dst[0] == "slot":
                finals[dst[1]] = (value, d[3].result)
            ops.append((op, ("val", value), tuple(read)))
    later = _read_later(p, steps[end:], defined)
    stores = {value: slot for slot, (value, reg) in finals.items()
              if slot in live or reg in later}
    return (RowPass(steps[start:end], ops, shape, dtype, full, small, stores),
            _whole_frame, steps[end - 1][2], steps[end - 1][3])


def _whole_frame(frame: list[Any]) -> tuple[list[Any]]:
    return (frame,)


def _read_later(p: Program, steps: Sequence[Step], defined: dict[int, Instr]) -> set[int]:
    """The registers that the steps after a pass read, directly or through a view."""
    read: set[int] = set()
    for step in steps:
        for a in p.instrs[step[3]].args:
            read |= _bases(a, defined)
    return read
