"""Buffers by liveness: where every register of a compiled program lives.

A run keeps its registers in a frame (a list) of slots. Each call that can write
into a buffer gets one: the buffer of an operand that dies at that call (the call
then works in place), or an arena buffer of the same shape and dtype that no live
register holds any more, or a new one. An arena is a set of buffers made once and
reused by every run that checks it out. What is handed to the caller (outputs,
gradients, and whatever they are views of) is never in an arena: it is allocated
afresh by every run, by the first call that writes it. A register that is a view
of another (or that a foreign op may have returned as one) keeps its base alive.

>>> import numpy as np
>>> from bngraph.compile.program import Program
>>> p = Program(); f64 = np.dtype(np.float64)
>>> x = p.register((4,), f64)
>>> a = p.emit(np.exp, (x,), (4,), f64, node=1, out_at=1, inplace=(x,))
>>> b = p.emit(np.negative, (a,), (4,), f64, node=2, out_at=1, inplace=(a,))
>>> layout = assign(p, 0, inputs=[x], pinned={b}, handout=set())
>>> layout.slots[a] == layout.slots[b], len(layout.buffers)      # b overwrites a in place
(True, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..schedule import fetcher
from .program import Program

__all__ = ["Layout", "Step", "assign", "run_steps"]

Step = tuple[Callable[..., Any], Callable[[list[Any]], tuple[Any, ...]], int, int]
"""``(fn, fetch, dst, instr)``: ``frame[dst] = fn(*fetch(frame))``."""


def run_steps(steps: Sequence[Step], frame: list[Any]) -> None:
    """Run ``steps`` on ``frame``, in order (the compiled plans' inner loop)."""
    for fn, fetch, dst, _ in steps:
        frame[dst] = fn(*fetch(frame))

FOREVER = 1 << 62


@dataclass
class Layout:
    """The frame of one segment (the forward pass, or a backward pass after it).

    ``slots`` maps registers to frame slots; ``consts`` holds the slots filled the
    same for every run; ``buffers`` the arena buffers this segment adds, as
    ``(slot, shape, dtype)``; ``free`` the arena buffers no live register holds at
    the end; ``fresh`` the registers allocated afresh by each run.
    """

    slots: dict[int, int]
    consts: dict[int, Any]
    buffers: list[tuple[int, tuple[int, ...], np.dtype[Any]]]
    size: int
    steps: list[Step]
    free: dict[tuple[Any, ...], list[int]]
    fresh: set[int] = field(default_factory=set)
    arena_slots: set[int] = field(default_factory=set)
    arena_steps: list[Step] = field(default_factory=list)
    fixed: set[int] = field(default_factory=set)
    peak_fresh_bytes: int = 0


def assign(
    p: Program,
    start: int,
    *,
    inputs: list[int],
    pinned: set[int],
    handout: set[int],
    base: Layout | None = None,
) -> Layout:
    """Place the registers of ``p.instrs[start:]`` and make the steps that run them.

    ``inputs`` are filled at the start of the segment, ``pinned`` registers must
    survive it (saved values, outputs), ``handout`` registers go to the caller as
    they are. ``base`` is the layout of the segment before (whose registers are
    read-only here, and whose free arena buffers may be reused).
    """
    instrs = p.instrs[start:]
    slots: dict[int, int] = dict(base.slots) if base else {}
    consts: dict[int, Any] = {}
    size = base.size if base else 0

    def new_slot() -> int:
        nonlocal size
        size += 1
        return size - 1

    for reg in inputs:
        slots[reg] = new_slot()
    defined = {ins.result: i for i, ins in enumerate(instrs)}
    last = _lifetimes(instrs, pinned, defined)
    group, members = _groups(p, instrs, defined, last, pinned)
    visible = _visible(instrs, defined, group, handout)
    group_last = {g: max(last[m] for m in ms) for g, ms in members.items()}
    dying: dict[int, list[int]] = {}
    for g, end in group_last.items():
        if end < FOREVER:
            dying.setdefault(end, []).append(g)
    free = {key: list(v) for key, v in base.free.items()} if base else {}
    layout = Layout(slots, consts, [], 0, [], free)
    if base:
        layout.arena_slots = set(base.arena_slots)
        layout.fixed = set(base.fixed)
    fixed = layout.fixed  # slots that hold the same object for every run of one arena

    def const_slot(value: Any) -> int:
        reg = p.const(value)
        if reg not in slots:
            slots[reg] = new_slot()
            consts[slots[reg]] = p.consts[reg]
            fixed.add(slots[reg])
        return slots[reg]

    group_slot: dict[int, int] = {}
    fresh_live = 0
    for i, ins in enumerate(instrs):
        for a in ins.args:
            if a not in slots and p.is_const(a):
                slots[a] = new_slot()
                consts[slots[a]] = p.consts[a]
                fixed.add(slots[a])
        arg_slots = [slots[a] for a in ins.args]
        r = ins.result
        if ins.view and all(s in fixed for s in arg_slots):
            # a view of arena buffers: made once, when the arena is
            slots[r] = dst = new_slot()
            fixed.add(dst)
            layout.arena_steps.append((ins.fn, fetcher(tuple(arg_slots)), dst, start + i))
        elif ins.out_at is None or ins.fresh:
            slots[r] = dst = new_slot()
            if ins.out_at is not None:
                arg_slots.insert(ins.out_at, const_slot(None))
            layout.steps.append((ins.fn, fetcher(tuple(arg_slots)), dst, start + i))
        else:
            g = group[r]
            first = g == r
            if first:
                key = (p.shapes[r], p.kinds[r])
                if g in visible:
                    group_slot[g] = new_slot()
                    layout.fresh.add(g)
                    fresh_live += p.nbytes(r)
                    layout.peak_fresh_bytes = max(layout.peak_fresh_bytes, fresh_live)
                elif free.get(key):
                    group_slot[g] = free[key].pop()
                else:
                    group_slot[g] = new_slot()
                    layout.buffers.append((group_slot[g], *key))
                    layout.arena_slots.add(group_slot[g])
                    fixed.add(group_slot[g])
            slots[r] = dst = group_slot[g]
            if first and g in visible:
                if len(p.shapes[r]) == 0:  # numpy returns a scalar, not an array, without out
                    shape_dtype = (const_slot(p.shapes[r]), const_slot(p.kinds[r]))
                    layout.steps.append((np.empty, fetcher(shape_dtype), dst, start + i))
                    arg_slots.insert(ins.out_at, dst)
                else:  # empty but for a spare array that nobody holds (see .spares)
                    arg_slots.insert(ins.out_at, dst)
            else:
                arg_slots.insert(ins.out_at, dst)
            layout.steps.append((ins.fn, fetcher(tuple(arg_slots)), dst, start + i))
        for g in dying.get(i, ()):
            if g in visible:
                continue
            key = (p.shapes[g], p.kinds[g])
            free.setdefault(key, []).append(group_slot[g])
    layout.size = size
    return layout


def _lifetimes(instrs: list[Any], pinned: set[int], defined: Mapping[int, int]) -> dict[int, int]:
    """The index of the last instruction that reads each register, or any view of it;
    ``FOREVER`` for pinned registers."""
    last: dict[int, int] = {}
    for i, ins in enumerate(instrs):
        last.setdefault(ins.result, i)
        for a in ins.args:
            last[a] = i
    for reg in pinned:
        last[reg] = FOREVER
    for ins in reversed(instrs):
        end = last[ins.result]
        for a in ins.aliases:
            if last.get(a, -1) < end:
                last[a] = end
    return last


def _groups(
    p: Program, instrs: list[Any], defined: Mapping[int, int], last: dict[int, int],
    pinned: set[int],
) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Registers that share one buffer: a result takes over the buffer of an operand that
    dies at its instruction (same shape and dtype, written by an earlier call here)."""
    group: dict[int, int] = {}
    members: dict[int, list[int]] = {}
    for i, ins in enumerate(instrs):
        if ins.out_at is None or ins.fresh:
            continue
        target = ins.result
        for a in ins.inplace:
            if a in group and last.get(a) == i and a not in pinned:
                target = group[a]
                break
        group[ins.result] = target
        members.setdefault(target, []).append(ins.result)
    return group, members


def _visible(
    instrs: list[Any], defined: Mapping[int, int], group: dict[int, int], handout: set[int]
) -> set[int]:
    """The groups the caller may end up holding: handed out, or behind a view handed out."""
    visible: set[int] = set()
    todo = [r for r in handout if r in defined]
    seen: set[int] = set()
    while todo:
        reg = todo.pop()
        if reg in seen:
            continue
        seen.add(reg)
        if reg in group:
            visible.add(group[reg])
        ins = instrs[defined[reg]]
        todo.extend(a for a in ins.aliases if a in defined)
    return visible
