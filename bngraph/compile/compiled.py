"""Compiled plans: one per graph and input signature, run as flat lists of calls.

A ``CompiledPlan`` holds the forward steps of a plan lowered for one input
signature and, made on first use, a ``CompiledBackward`` for each seed signature,
with the layout of their frame and a pool of arenas (the buffers of one run at a
time, reused by the next). A run checks an arena out of the pool and gives it back
when it is dropped; the plans themselves are shared by every thread. Where they are
kept, and how a run finds its own, is ``bngraph.compile.cache``.

>>> import numpy as np, bngraph as bg
>>> from bngraph.compile.cache import compiled_for
>>> g = bg.library.get("batchnorm")
>>> compiled = compiled_for(g.plan, {"x": np.ones((8, 3)), "gamma": np.ones(3), "beta": np.ones(3)})
>>> compiled.forward_calls, compiled.arena_bytes
(11, 432)
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..schedule import Plan
from .buffers import Layout, Step, assign, run_steps
from .forward import Lowered, lower_forward, run_dtype
from .fusion import fuse
from .gradients import LoweredBackward, lower_backward
from .program import Hint
from .rows import fuse_rows
from .signature import Signature
from .spares import Spares

__all__ = ["CompiledPlan", "CompiledBackward", "Arena", "IDLE_ARENAS", "alive"]

IDLE_ARENAS = 2
"""Arenas a compiled plan keeps for the next runs once their runs are dropped."""


class Arena:
    """The buffers of one run: its frame with every arena buffer (and every view of
    one) in its slot, and the same for each backward pass it has run."""

    __slots__ = ("frame", "backward")

    def __init__(self, frame: list[Any]) -> None:
        self.frame = frame
        self.backward: dict[int, list[Any]] = {}


def alive(ref: weakref.ref[Plan]) -> Plan:
    """The plan behind a weak reference, which whoever asks keeps alive."""
    plan = ref()
    if plan is None:
        raise RuntimeError("a compiled plan outlived its plan")
    return plan


def _filled(template: list[Any], layout: Layout, base: list[Any] | None = None) -> list[Any]:
    """A frame (or, after ``base``, its extension) with new buffers and their views."""
    offset = len(base) if base is not None else 0
    extension = list(template)
    for slot, shape, dtype in layout.buffers:
        extension[slot - offset] = np.empty(shape, dtype)
    if not layout.arena_steps:
        return extension
    frame = base + extension if base is not None else extension
    run_steps(layout.arena_steps, frame)
    return frame[offset:]


class CompiledPlan:
    """The forward pass of a plan compiled for one input signature (of the values as
    bound: see ``Preparation``), and the shapes the inputs were given in (``None`` where
    that is the shape bound; the gradient is summed back to it)."""

    def __init__(self, plan: Plan, signature: Signature,
                 given: tuple[tuple[int, ...] | None, ...],
                 hints: Mapping[int, Hint] | None = None) -> None:
        self._plan = weakref.ref(plan)  # weakly: the plan's cache holds this
        self.signature = signature
        self.given = given
        self.hints = dict(hints or {})
        self.float_dtype = run_dtype(signature)
        self.lowered: Lowered = lower_forward(plan, signature, self.hints)
        p = self.lowered.program
        values = self.lowered.values
        outputs = [values[i] for i in plan.outputs]
        pinned = {values[i] for i in plan.saved_values} | set(outputs)
        inputs = [reg for _, reg in self.lowered.inputs]
        fuse(p, 0, pinned)
        self.layout: Layout = assign(p, 0, inputs=inputs, pinned=pinned, handout=set(outputs))
        layout = self.layout
        kept = (*plan.inputs, *plan.outputs, *plan.saved_values)
        self.kept = {i: layout.slots[values[i]] for i in kept}
        self.steps: tuple[Step, ...] = fuse_rows(p, layout.steps, layout.slots,
                                                 set(self.kept.values()))
        self.input_slots = tuple(layout.slots[reg] for _, reg in self.lowered.inputs)
        self.dims: dict[str, int] = {}
        names = plan.ir.names
        self.output_slots = tuple((names[i], layout.slots[values[i]]) for i in plan.outputs)
        self.shapes = [p.shapes[reg] for reg in values]
        self.template = [None] * layout.size
        for slot, value in layout.consts.items():
            self.template[slot] = value
        self.arena_bytes = sum(int(np.prod(s, dtype=np.int64)) * d.itemsize
                               for _, s, d in layout.buffers)
        self.fresh_bytes = layout.peak_fresh_bytes
        self.spares = _spares(p, layout)
        self.dead = False
        self._pool: list[Arena] = []
        self._backward: dict[Any, CompiledBackward | None] = {}
        self._lock = threading.Lock()

    @property
    def plan(self) -> Plan:
        """The plan (alive while anyone asks: a run or a graph holds it)."""
        return alive(self._plan)

    @property
    def forward_calls(self) -> int:
        """How many calls the forward pass makes."""
        return len(self.steps)

    def checkout(self) -> Arena:
        """An arena for one run: an idle one, or a new one."""
        try:
            return self._pool.pop()
        except IndexError:
            return Arena(_filled(self.template, self.layout))

    def checkin(self, arena: Arena) -> None:
        """Give an arena back once its run is dropped."""
        if len(self._pool) < IDLE_ARENAS:
            self._pool.append(arena)

    def release(self) -> int:
        """Drop the idle arenas and the spares of every pass (see ``Graph.release_buffers``);
        the bytes freed. Runs alive keep their arenas, and give them back when dropped."""
        pool, self._pool = self._pool, []
        backward = [b for b in list(self._backward.values()) if b is not None]
        freed = 0
        for arena in pool:  # its forward buffers, and those of each backward pass it ran
            freed += self.arena_bytes + sum(b.arena_bytes for b in backward
                                            if b.id in arena.backward)
        for spares in (self.spares, *(b.spares for b in backward)):
            if spares is not None:
                freed += spares.release()
        return freed

    def run_forward(self, inputs: Sequence[Any], arena: Arena) -> list[Any]:
        """Run the forward steps on ``inputs`` (in the plan's input order)."""
        frame = arena.frame.copy()
        for slot, value in zip(self.input_slots, inputs, strict=True):
            frame[slot] = value
        _execute(self.steps, frame, self.spares)
        return frame

    def backward_for(self, seeds: tuple[Any, ...]) -> CompiledBackward | None:
        """The backward pass for seeds of these kinds (``None`` when it cannot be compiled)."""
        try:
            return self._backward[seeds]
        except KeyError:
            pass
        with self._lock:
            if seeds not in self._backward:
                try:
                    made: CompiledBackward | None = CompiledBackward(self, seeds)
                except Exception:  # noqa: BLE001 - anything unusual stays with the interpreter
                    made = None
                self._backward[seeds] = made
            return self._backward[seeds]

    def forget_backward(self, seeds: tuple[Any, ...]) -> None:
        """Send these seeds to the interpreter from now on (a step's value surprised it)."""
        self._backward[seeds] = None

    def relax_backward(self, seeds: tuple[Any, ...], edge: tuple[int, int], seen: Any) -> None:
        """Make the backward pass for these seeds again, knowing the dtype that the rule
        of ``edge`` gives (or send them to the interpreter, for a rule that changes it)."""
        with self._lock:
            old = self._backward.get(seeds)
            made: CompiledBackward | None = None
            if old is not None and edge not in old.hints and len(old.hints) < 64:
                try:
                    made = CompiledBackward(self, seeds, {**old.hints, edge: seen})
                except Exception:  # noqa: BLE001 - the interpreter runs them from now on
                    made = None
            self._backward[seeds] = made


class CompiledBackward:
    """The backward pass of a compiled plan for one seed signature."""

    _ids = iter(range(1 << 62))

    def __init__(self, forward: CompiledPlan, seeds: tuple[Any, ...],
                 hints: Mapping[tuple[int, int], Any] | None = None) -> None:
        plan = forward.plan
        self.id = next(self._ids)
        self.hints = dict(hints or {})
        self.lowered: LoweredBackward = lower_backward(plan, forward.lowered, seeds, forward.given,
                                                       self.hints)
        lowered = self.lowered
        p = lowered.program
        defined = {ins.result: ins for ins in p.instrs[lowered.start:]}
        handed = {lowered.grads[i] for i in plan.inputs}
        fuse(p, lowered.start, {g for g in handed if g is not None})
        _check_reads(p, lowered.start, forward.layout, set(forward.kept.values()))
        handout: set[int] = set()
        modes = []
        names = plan.ir.names
        for position, node in enumerate(plan.inputs):
            if plan.constant[node]:
                continue
            reg = lowered.grads[node]
            if reg is None:
                modes.append((names[node], "zeros", position))
            elif reg in defined and defined[reg].out_at is not None and reg not in handout:
                handout.add(reg)
                modes.append((names[node], "direct", reg))
            else:
                modes.append((names[node], "copy", reg))
        seed_regs = [reg for _, reg in lowered.seeds]
        # every gradient handed out, or copied out, is read after the last call: no later
        # call may take its buffer (nor the buffer it is a view of)
        read_at_the_end = {x for _, mode, x in modes if mode != "zeros"}
        self.layout = assign(p, lowered.start, inputs=seed_regs, pinned=read_at_the_end,
                             handout=handout, base=forward.layout)
        layout = self.layout
        self.base_size = forward.layout.size
        self.steps: tuple[Step, ...] = fuse_rows(
            p, layout.steps, layout.slots,
            {layout.slots[r] for r in read_at_the_end if r in layout.slots})
        self.seed_slots = tuple((layout.slots[reg], node) for node, reg in lowered.seeds)
        self.handout = tuple(
            (name, mode, x) if mode == "zeros"
            else (name, mode, layout.slots[x]) if x in layout.slots
            # a constant no call reads: the seed of backward() itself (x + e, x 0-d)
            else (name, "constant", p.consts[x])
            for name, mode, x in modes
        )
        self.order = tuple(lowered.order)
        self.step_numbers = {node: n for n, node in enumerate(self.order, start=1)}
        self.template = [None] * (layout.size - self.base_size)
        for slot, value in layout.consts.items():
            self.template[slot - self.base_size] = value
        self.arena_bytes = sum(int(np.prod(s, dtype=np.int64)) * d.itemsize
                               for _, s, d in layout.buffers)
        self.spares = _spares(p, layout)

    def run(self, frame: list[Any], arena: Arena, seeds: dict[int, Any],
            zeros: Any) -> dict[str, Any]:
        """Run the backward steps after the forward ``frame``; the input gradients by name."""
        extension = arena.backward.get(self.id)
        if extension is None:
            extension = arena.backward[self.id] = _filled(self.template, self.layout, arena.frame)
        frame = frame + extension
        for slot, node in self.seed_slots:
            frame[slot] = seeds[node]
        _execute(self.steps, frame, self.spares)
        grads = {}
        for name, mode, slot in self.handout:
            if mode == "direct":
                grads[name] = frame[slot]
            elif mode == "copy":
                grads[name] = np.array(frame[slot])
            elif mode == "constant":
                grads[name] = np.array(slot)
            else:
                grads[name] = zeros(slot)
        return grads


def _execute(steps: tuple[Step, ...], frame: list[Any], spares: Spares | None) -> None:
    """Run ``steps`` on ``frame``, writing what they hand out into spares nobody holds."""
    if spares is not None:
        spares.fill(frame)
    run_steps(steps, frame)
    if spares is not None:
        spares.keep(frame)


def _spares(p: Any, layout: Layout) -> Spares | None:
    """The spares of the slots whose arrays a run hands out (see ``.spares``); ``None``
    when no such array is large enough to keep."""
    spares = Spares({layout.slots[g]: p.nbytes(g) for g in layout.fresh if p.shapes[g]})
    return spares if spares else None


def _check_reads(p: Any, start: int, forward: Layout, kept_slots: set[int]) -> None:
    """A backward step may read only the forward values that the run keeps."""
    for ins in p.instrs[start:]:
        for a in ins.args:
            slot = forward.slots.get(a)
            if slot is not None and not p.is_const(a) and slot not in kept_slots:
                raise ValueError("a backward step reads a forward value the run does not keep")
