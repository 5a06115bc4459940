"""Row passes: runs of elementwise calls and sums over the first axis, in one loop.

After the buffers are placed, ``fuse_rows`` turns each run of consecutive steps over one
2-d shape ``(n, d)`` that ``.row_ops`` describes (elementwise ``+ - * /``, negation and
square root, sums over axis 0, the einsums of sums of products and the tiled kernels of
``.fusion``), with the elementwise steps over one row ``(d,)`` among them, into one
``RowPass`` step: a loop (``.loops``, compiled by numba) in phases, each a sweep over the
elements of the rows or a line over those of one row. A new sweep begins at a step that
reads a sum of the sweep. A phase keeps its values in registers and writes back only
those read after it (in a later phase, after the pass, or through a view) or read after a
store overwrote memory they were computed from; its sums add row after row into zeros,
as numpy adds them. A run stops before a step that reads a view of a value made in its
phase, or writes a buffer its phase reads through a view. Every value is the same IEEE
operation on the same operands as numpy's, so results are the interpreter's bit for bit.

A pass makes its numpy calls one by one until its loop is compiled (on the worker thread
of ``.loops``, after ``COMPILE_AFTER`` runs of a large pass and ``COMPILE_AFTER_SMALL``
runs of a smaller one), without numba, and for a run whose arrays the loop does not take:
one of the full shape in neither C order nor spread down the first axis, or one written
in place that is not in C order.

>>> import numpy as np, bngraph as bg
>>> from bngraph.compile.cache import compiled_for
>>> g = bg.library.get("batchnorm")
>>> x = np.ones((32, 64))
>>> c = compiled_for(g.plan, {"x": x, "gamma": x[0], "beta": x[0]})
>>> (step,) = [step[0] for step in c.steps]  # forward: one loop (numba installed)
>>> step, ["sweep" if kind == SWEEP else "line" for kind, _, _ in step.phases]
(<row pass of 11 calls over (32, 64)>, ['sweep', 'line', 'sweep', 'line', 'sweep'])
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..schedule import fetcher
from . import loops
from .buffers import Step, run_steps
from .loops import FULL, LINE, ONE, OUT, OUT_ROW, ROW, SWEEP, submit
from .program import Instr, Program
from .row_ops import ROWS, Op, describe, large

__all__ = ["RowPass", "fuse_rows", "COMPILE_AFTER", "COMPILE_AFTER_SMALL"]

COMPILE_AFTER = 1
"""Runs of a large pass with numpy's calls before its loop is compiled: a graph run once
never waits for numba (about half a second per pass)."""

COMPILE_AFTER_SMALL = 100
"""Runs of a smaller pass before its loop is compiled: at 100 us a run, numba's half a
second pays only for a graph run many times."""

COMPILING: Any = object()  # (a pass's loop, while numba makes it)
FAILED: Any = object()  # (numba refused it: the pass keeps numpy's calls)
_LOCK = threading.Lock()

class RowPass:
    """Steps run as one pass over the rows (see the module); until its loop is compiled,
    and for a run whose arrays it does not take, the steps run one by one.

    ``phases`` are those of ``.loops``, their ops numbered values (see ``Op``) reading
    ``("ext", k)``, the ``k``-th of the loop's ``operands``: frame slots (each in a role
    of ``.loops``), then scratch arrays for sums; ``stores`` maps the values written
    back to the place of their slot among the operands."""

    def __init__(self, steps: Sequence[Step], phases: list[Any], shape: tuple[int, int],
                 dtype: np.dtype[Any], operands: _Operands, stores: dict[int, int]) -> None:
        self.steps = tuple(steps)
        self.phases, self.shape, self.dtype = phases, shape, dtype
        self.slots, self.shapes = tuple(operands.slots), operands.shapes
        self.scratch = operands.scratch
        self.roles = (*operands.roles, *[OUT_ROW] * len(self.scratch))
        self.stores = stores
        self.n, self.d = shape
        # the arrays a run may hand out, made here when it is their first call
        self.fresh = [(slot, self.shapes[k]) for k, slot in enumerate(self.slots)
                      if self.roles[k] in (OUT, OUT_ROW)]
        self.gather: Callable[[list[Any]], tuple[Any, ...]] = fetcher(self.slots)
        self.dst = steps[-1][2]
        self.large = large(shape, dtype)
        self.loop: Any = None  # COMPILING, FAILED, or a loop of .loops
        self.runs = 0
        self.spread = 0  # rows of the loop's R (see .loops.spread), once it is compiled
        self.no_rows = np.empty((0, self.d), dtype)

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
            operands += tuple(np.empty(shape, self.dtype) for shape in self.scratch)
        operands += (self.no_rows if self.spread == 0
                     else np.empty((self.spread, self.d), self.dtype),)
        try:
            failed = loop(operands, self.n, self.d)
        except TypeError:  # an operand of another type than the loop's
            failed = 1
        if failed:
            return self._one_by_one(frame)
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
        operands += [np.empty(shape, self.dtype) for shape in self.scratch]
        if loops.COMPILE_IN_BACKGROUND:
            submit(lambda: self._ready(tuple(operands)))
        else:
            self._ready(tuple(operands))

    def _ready(self, operands: tuple[Any, ...]) -> None:
        """Compile the loop for the types of one run's operands (numba's compiling is
        about half a second a pass; passes of the same ops and types share a loop)."""
        try:
            self.spread = len(loops.spread(self.roles, operands))
            self.loop = loops.compiled(self.phases, self.stores, self.roles, operands,
                                       self.dtype)
        except Exception:  # noqa: BLE001 - numba refused it: numpy's calls it is
            self.loop = FAILED


def fuse_rows(p: Program, steps: Sequence[Step], slots: dict[int, int],
              live: set[int]) -> tuple[Step, ...]:
    """The steps with runs of two or more row-fusable ones (or one tiled kernel or sum
    of products) as one ``RowPass`` each. ``slots`` places registers; ``live`` are the
    slots read after these steps (kept, handed out, read by a later segment)."""
    described = [describe(p, step, slots) for step in steps]
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
        end, shape, dtype, phases = group
        made = _pass(p, steps, described, k, end, shape, dtype, phases, slots, live, defined)
        out.extend(steps[k:end] if made is None else [made])
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


def _group(described: list[Any], start: int, defined: dict[int, Instr],
           slots: dict[int, int]) -> tuple[int, Any, Any, list[int]] | None:
    """The end of the run of fusable steps from ``start``, with its shape, dtype and the
    phase of each step (see ``.loops``); ``None`` for no run.

    A run has one shape ``(n, d)`` and dtype; its steps over one row make lines, the
    others sweeps, and a step over the rows that reads a sum of its sweep starts a new
    one. The run stops before a step that writes a buffer its phase reads through a
    view (the loop writes each element as it goes, and a view may read another), or
    that reads a view of a value made in its phase (which the loop may not have
    stored). A buffer written after its phase read it directly is ``_pass``'s concern."""
    first = described[start]
    if first is None or first[0][0] == ROWS:
        return None
    shape, dtype = first[0], first[1]
    phases: list[int] = []
    kind = 0
    made: set[int] = set()  # registers made in the phase
    summed: set[int] = set()  # slots of the sums of the phase
    seen_through: set[int] = set()  # slots the phase's steps read through a view
    end = start
    while end < len(described):
        d = described[end]
        if d is None or d[1] != dtype or d[0] not in (shape, (ROWS, shape[1])):
            break
        step_kind = LINE if d[0][0] == ROWS else SWEEP
        reads = {o[1] for _, _, operands in d[2] for o in operands if o[0] == "slot"}
        writes = {dst[1] for _, dst, _ in d[2] if dst[0] == "slot"}
        if step_kind != kind or reads & summed:
            kind = step_kind
            phases.append(end)
            made, summed, seen_through = set(), set(), set()
        seen_through |= _through(d[3], defined, slots)
        if writes & seen_through or any((_bases(a, defined) - {a}) & made for a in d[3].args):
            break
        summed |= {dst[1] for _, dst, _ in d[2] if dst[0] == "acc"}
        made.add(d[3].result)
        end += 1
    while phases and phases[-1] >= end:
        phases.pop()
    if end - start < 2 and len(first[2]) < 2:
        return None
    return end, shape, dtype, phases


def _pass(p: Program, steps: Sequence[Step], described: list[Any], start: int, end: int,
          shape: tuple[int, int], dtype: np.dtype[Any], phases: list[int],
          slots: dict[int, int], live: set[int], defined: dict[int, Instr]) -> Step | None:
    """One ``RowPass`` step for ``steps[start:end]``, in ``phases`` (the steps where each
    begins): its ops as values written once, each phase's own. A value is stored where
    it is read after it, or read after its phase, or read later in its phase after a
    store into memory it was computed from (the loop computes a value that is not
    stored where it is read); ``None`` if that is a kernel's scratch value."""
    shape_of = {s: p.shapes[r] for r, s in slots.items()}  # (constants too: a seed of ones)
    operands = _Operands()
    phase_of = [sum(1 for b in phases if b <= k) - 1 for k in range(start, end)]
    scratch = _scratch(described[start:end], phase_of, defined, slots)
    # the value each name holds now: a slot's, or a step's scratch value ("temp", step, t)
    version: dict[tuple[Any, ...], int] = {}
    where: dict[int, tuple[int, int, bool]] = {}  # value: its phase, slot, and if a sum
    of_register: dict[int, int] = {}  # the value of each register made in the pass
    stores: dict[int, int] = {}
    ops: list[list[Op]] = [[] for _ in phases]
    copies: list[list[tuple[Any, int]]] = [[] for _ in phases]
    count = 0  # values so far (numbered across the phases)

    def stored(v: int) -> int:
        """The place in the loop's operands that holds value ``v`` after its phase."""
        phase, slot, is_sum = where[v]
        k = operands.place(slot, OUT if shape_of[slot] == shape else OUT_ROW, shape_of[slot])
        if not is_sum:
            stores[v] = k
        return k

    for number, d in enumerate(described[start:end]):
        phase = phase_of[number]
        for b in (b for a in d[3].args for b in _bases(a, defined) - {a} if b in of_register):
            stored(of_register[b])  # read through a view: in memory (an earlier phase's)
        for op, dst, reads in d[2]:
            read: list[tuple[str, Any]] = []
            for kind, k in reads:
                name = (kind, k) if kind == "slot" else ("temp", number, k)
                v = version.get(name)
                if v is None:
                    read.append(("ext", operands.place(k, _role(shape_of[k], shape),
                                                       shape_of[k])))
                elif where[v][0] == phase:
                    read.append(("val", v))
                else:  # made in an earlier phase: read from memory
                    read.append(("ext", stored(v)))
            value, count = count, count + 1
            if dst[0] == "acc":
                slot = dst[1]
                target = operands.place(slot, OUT_ROW, dst[2])
                if (phase, slot) in scratch:
                    copies[phase].append((("scratch", len(operands.scratch)), target))
                    target = ("scratch", len(operands.scratch))  # type: ignore[assignment]
                    operands.scratch.append(dst[2])
                ops[phase].append((op, ("acc", target), tuple(read)))
                version[("slot", slot)] = value
                where[value] = (phase, slot, True)
                continue
            name = dst if dst[0] == "slot" else ("temp", number, dst[1])
            version[name] = value
            where[value] = (phase, dst[1] if dst[0] == "slot" else -1, False)
            ops[phase].append((op, ("val", value), tuple(read)))
        step_dst = steps[start + number][2]
        if ("slot", step_dst) in version:
            of_register[d[3].result] = version[("slot", step_dst)]
    later = _read_later(p, steps[end:], defined)
    for reg, v in of_register.items():
        slot = where[v][1]
        if version.get(("slot", slot)) == v and (slot in live or reg in later):
            stored(v)
    while (clobbered := _clobbered(ops, stores)) is not None:
        if where[clobbered][1] < 0:
            return None  # (a kernel's scratch value: the steps stay numpy's calls)
        stored(clobbered)
    size = len(operands.slots)
    ops = [[(op, ("acc", size + dst[1][1]) if dst[0] == "acc" and isinstance(dst[1], tuple)
             else dst, reads) for op, dst, reads in phase_ops] for phase_ops in ops]
    loop_phases = [
        (LINE if described[b][0][0] == ROWS else SWEEP, ops[k],
         [(size + source[1], target) for source, target in copies[k]])
        for k, b in enumerate(phases)]
    return (RowPass(steps[start:end], loop_phases, shape, dtype, operands, stores),
            _whole_frame, steps[end - 1][2], steps[end - 1][3])


def _clobbered(ops: list[list[Op]], stores: dict[int, int]) -> int | None:
    """A value not stored, computed from memory that a store of its phase overwrites
    before a later statement reads the value; ``None`` if there is none."""
    for phase_ops in ops:
        reads: dict[int, set[int]] = {}  # value: the places read in memory to get it
        for index, (_, dst, operands) in enumerate(phase_ops):
            if dst[0] == "acc":
                continue
            v = dst[1]
            if v in stores:
                reads[v] = {stores[v]}
                for u, places in reads.items():
                    if u not in stores and stores[v] in places and any(
                            ("val", u) in later for _, _, later in phase_ops[index + 1:]):
                        return u
            else:
                reads[v] = set().union(*[{k} if kind == "ext" else reads[k]
                                         for kind, k in operands])
    return None


class _Operands:
    """The operands of a pass's loop: frame slots, each once, in a role; then the
    scratch arrays of sums (their shapes), copied into their slots when their phase ends."""

    def __init__(self) -> None:
        self.slots: list[int] = []
        self.roles: list[int] = []
        self.shapes: list[tuple[int, ...]] = []
        self.scratch: list[tuple[int, ...]] = []
        self._place: dict[int, int] = {}

    def place(self, slot: int, role: int, shape: tuple[int, ...]) -> int:
        """Where ``slot`` is among the operands; one read (FULL, ROW, ONE) that is also
        written takes the role written (OUT, OUT_ROW)."""
        k = self._place.get(slot)
        if k is None:
            k = self._place[slot] = len(self.slots)
            self.slots.append(slot)
            self.roles.append(role)
            self.shapes.append(shape)
        elif role in (OUT, OUT_ROW):
            self.roles[k] = role
        return k


def _scratch(group: list[Any], phase_of: list[int], defined: dict[int, Instr],
             slots: dict[int, int]) -> set[tuple[int, int]]:
    """The ``(phase, slot)`` of the sums added into scratch: into a buffer that their
    phase also reads or writes otherwise (or sums into twice), as the loop adds into it
    from the first row on."""
    touched: dict[int, set[int]] = {}
    sums: dict[int, list[int]] = {}
    for d, phase in zip(group, phase_of, strict=True):
        touched.setdefault(phase, set()).update(
            {o[1] for _, dst, operands in d[2] for o in (dst, *operands) if o[0] == "slot"}
            | _through(d[3], defined, slots))
        sums.setdefault(phase, []).extend(dst[1] for _, dst, _ in d[2] if dst[0] == "acc")
    return {(phase, slot) for phase, found in sums.items() for slot in found
            if slot in touched[phase] or found.count(slot) > 1}


def _role(shape: tuple[int, ...], full: tuple[int, int]) -> int:
    """How the loop reads an operand of this shape, read only (see ``.loops``)."""
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
