"""Compiled plans: one per graph and input signature, run as flat lists of calls.

``compiled_for(plan, values)`` finds (or makes, once) the compiled plan for the
signature of a run's input values: shapes and dtypes of the arrays, which inputs
are Python floats. It holds the forward steps and, made on first use, the backward
steps of each seed signature, with the layout of their frame and a pool of arenas
(the buffers of one run at a time, reused by the next). Plans are cached per graph
plan, a few signatures each, and shared by every thread: each run checks an arena
out of the pool and gives it back when it is dropped.

>>> import numpy as np, bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> compiled = compiled_for(g.plan, [np.ones((8, 3)), np.ones(3), np.ones(3), 1e-5])
>>> compiled.forward_calls, compiled.arena_bytes
(10, 624)
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..schedule import Plan
from .buffers import Layout, Step, assign
from .forward import Lowered, Signature, lower_forward, signature_of
from .gradients import LoweredBackward, lower_backward

__all__ = ["CompiledPlan", "CompiledBackward", "Arena", "compiled_for", "SIGNATURES_PER_PLAN"]

SIGNATURES_PER_PLAN = 8
"""Compiled plans kept per graph (the most recently used input signatures)."""

IDLE_ARENAS = 2
"""Arenas a compiled plan keeps for the next runs once their runs are dropped."""


class Arena:
    """The buffers of one run: its frame with every arena buffer in its slot."""

    __slots__ = ("frame", "backward")

    def __init__(self, template: list[Any], buffers: Sequence[tuple[int, Any, Any]]) -> None:
        self.frame = _filled(template, buffers)
        self.backward: dict[int, list[Any]] = {}


def _filled(template: list[Any], buffers: Sequence[tuple[int, Any, Any]]) -> list[Any]:
    frame = list(template)
    for slot, shape, dtype in buffers:
        frame[slot] = np.empty(shape, dtype)
    return frame


class CompiledPlan:
    """The forward pass of a plan compiled for one input signature."""

    def __init__(self, plan: Plan, signature: Signature) -> None:
        self.plan = plan
        self.signature = signature
        self.lowered: Lowered = lower_forward(plan, signature)
        p = self.lowered.program
        values = self.lowered.values
        outputs = [values[i] for i in plan.outputs]
        pinned = {values[i] for i in plan.saved_values} | set(outputs)
        inputs = [reg for _, reg in self.lowered.inputs]
        self.layout: Layout = assign(p, 0, inputs=inputs, pinned=pinned, handout=set(outputs))
        layout = self.layout
        self.steps: tuple[Step, ...] = tuple(layout.steps)
        self.input_slots = tuple((layout.slots[reg], node) for node, reg in self.lowered.inputs)
        names = plan.ir.names
        self.output_slots = tuple((names[i], layout.slots[values[i]]) for i in plan.outputs)
        kept = (*plan.inputs, *plan.outputs, *plan.saved_values)
        self.kept = {i: layout.slots[values[i]] for i in kept}
        self.shapes = [p.shapes[reg] for reg in values]
        self.template = [None] * layout.size
        for slot, value in layout.consts.items():
            self.template[slot] = value
        self.arena_bytes = sum(int(np.prod(s, dtype=np.int64)) * d.itemsize
                               for _, s, d in layout.buffers)
        self.fresh_bytes = layout.peak_fresh_bytes
        self.dead = False
        self._pool: list[Arena] = []
        self._backward: dict[Any, CompiledBackward | None] = {}
        self._lock = threading.Lock()

    @property
    def forward_calls(self) -> int:
        """How many calls the forward pass makes."""
        return len(self.steps)

    def checkout(self) -> Arena:
        """An arena for one run: an idle one, or a new one."""
        try:
            return self._pool.pop()
        except IndexError:
            return Arena(self.template, self.layout.buffers)

    def checkin(self, arena: Arena) -> None:
        """Give an arena back once its run is dropped."""
        if len(self._pool) < IDLE_ARENAS:
            self._pool.append(arena)

    def run_forward(self, values: Sequence[Any], arena: Arena) -> list[Any]:
        """Run the forward steps on the inputs in ``values`` (indexed like the IR)."""
        frame = arena.frame.copy()
        for slot, node in self.input_slots:
            frame[slot] = values[node]
        for fn, fetch, dst, _ in self.steps:
            frame[dst] = fn(*fetch(frame))
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


class CompiledBackward:
    """The backward pass of a compiled plan for one seed signature."""

    _ids = iter(range(1 << 62))

    def __init__(self, forward: CompiledPlan, seeds: tuple[Any, ...]) -> None:
        plan = forward.plan
        self.id = next(self._ids)
        self.lowered: LoweredBackward = lower_backward(plan, forward.lowered, seeds)
        lowered = self.lowered
        p = lowered.program
        defined = {ins.result: ins for ins in p.instrs[lowered.start:]}
        _check_reads(p, lowered.start, forward.layout, set(forward.kept.values()))
        handout: set[int] = set()
        modes = []
        names = plan.ir.names
        for node in plan.inputs:
            reg = lowered.grads[node]
            if reg is None:
                modes.append((names[node], "zeros", node))
            elif reg in defined and defined[reg].out_at is not None and reg not in handout:
                handout.add(reg)
                modes.append((names[node], "direct", reg))
            else:
                modes.append((names[node], "copy", reg))
        seed_regs = [reg for _, reg in lowered.seeds]
        self.layout = assign(p, lowered.start, inputs=seed_regs, pinned=set(), handout=handout,
                             base=forward.layout)
        layout = self.layout
        self.base_size = forward.layout.size
        self.steps: tuple[Step, ...] = tuple(layout.steps)
        self.seed_slots = tuple((layout.slots[reg], node) for node, reg in lowered.seeds)
        self.handout = tuple(
            (name, mode, layout.slots[x] if mode != "zeros" else x) for name, mode, x in modes
        )
        self.order = tuple(lowered.order)
        self.template = [None] * (layout.size - self.base_size)
        for slot, value in layout.consts.items():
            self.template[slot - self.base_size] = value
        self.buffers = [(slot - self.base_size, s, d) for slot, s, d in layout.buffers]
        self.arena_bytes = sum(int(np.prod(s, dtype=np.int64)) * d.itemsize
                               for _, s, d in layout.buffers)

    def run(self, frame: list[Any], arena: Arena, seeds: dict[int, Any],
            zeros: Any) -> dict[str, Any]:
        """Run the backward steps after the forward ``frame``; the input gradients by name."""
        extension = arena.backward.get(self.id)
        if extension is None:
            extension = arena.backward[self.id] = _filled(self.template, self.buffers)
        frame = frame + extension
        for slot, node in self.seed_slots:
            frame[slot] = seeds[node]
        for fn, fetch, dst, _ in self.steps:
            frame[dst] = fn(*fetch(frame))
        grads = {}
        for name, mode, slot in self.handout:
            if mode == "direct":
                grads[name] = frame[slot]
            elif mode == "copy":
                grads[name] = np.array(frame[slot])
            else:
                grads[name] = zeros(slot)
        return grads


def _check_reads(p: Any, start: int, forward: Layout, kept_slots: set[int]) -> None:
    """A backward step may read only the forward values that the run keeps."""
    for ins in p.instrs[start:]:
        for a in ins.args:
            slot = forward.slots.get(a)
            if slot is not None and not p.is_const(a) and slot not in kept_slots:
                raise ValueError("a backward step reads a forward value the run does not keep")


_CACHES: weakref.WeakKeyDictionary[Plan, _Cache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


class _Cache:
    """The compiled plans of one graph plan, by input signature (least recently used out)."""

    def __init__(self) -> None:
        self.plans: OrderedDict[Signature, CompiledPlan | None] = OrderedDict()
        self.lock = threading.Lock()


def compiled_for(plan: Plan, values: Sequence[Any]) -> CompiledPlan | None:
    """The compiled plan for these input values (indexed like the IR), made on first use;
    ``None`` when the interpreter runs them (other array types, or a graph this
    compiler does not handle for them)."""
    inputs = [values[i] for i in plan.inputs]
    signature = signature_of(plan, inputs)
    if signature is None:
        return None
    cache = _CACHES.get(plan)
    if cache is None:
        with _CACHES_LOCK:
            cache = _CACHES.setdefault(plan, _Cache())
    try:
        found = cache.plans[signature]
        cache.plans.move_to_end(signature)
    except KeyError:
        with cache.lock:
            if signature not in cache.plans:
                try:
                    made: CompiledPlan | None = CompiledPlan(plan, signature)
                except Exception:  # noqa: BLE001 - the interpreter runs it, and reports errors
                    made = None
                cache.plans[signature] = made
                while len(cache.plans) > SIGNATURES_PER_PLAN:
                    cache.plans.popitem(last=False)
            found = cache.plans[signature]
    if found is None or found.dead:
        return None
    return found

