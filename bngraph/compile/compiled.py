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
>>> compiled = compiled_for(g.plan, {"x": np.ones((8, 3)), "gamma": np.ones(3), "beta": np.ones(3)})
>>> compiled.forward_calls, compiled.arena_bytes
(11, 432)
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..binding import Bound, bind_inputs
from ..schedule import Plan
from .buffers import Layout, Step, assign
from .forward import Lowered, lower_forward, run_dtype
from .fusion import fuse
from .gradients import LoweredBackward, lower_backward
from .program import Hint
from .signature import Signature, signature_of

__all__ = [
    "CompiledPlan", "CompiledBackward", "Arena", "Cache", "cache_of", "compiled_for",
    "SIGNATURES_PER_PLAN",
]

SIGNATURES_PER_PLAN = 8
"""Compiled plans kept per graph (the most recently used input signatures)."""

IDLE_ARENAS = 2
"""Arenas a compiled plan keeps for the next runs once their runs are dropped."""


class Arena:
    """The buffers of one run: its frame with every arena buffer (and every view of
    one) in its slot, and the same for each backward pass it has run."""

    __slots__ = ("frame", "backward")

    def __init__(self, frame: list[Any]) -> None:
        self.frame = frame
        self.backward: dict[int, list[Any]] = {}


def _filled(template: list[Any], layout: Layout, base: list[Any] | None = None) -> list[Any]:
    """A frame (or, after ``base``, its extension) with new buffers and their views."""
    offset = len(base) if base is not None else 0
    extension = list(template)
    for slot, shape, dtype in layout.buffers:
        extension[slot - offset] = np.empty(shape, dtype)
    if not layout.arena_steps:
        return extension
    frame = base + extension if base is not None else extension
    for fn, fetch, dst, _ in layout.arena_steps:
        frame[dst] = fn(*fetch(frame))
    return frame[offset:]


class CompiledPlan:
    """The forward pass of a plan compiled for one input signature (of the values as
    bound: see ``Preparation``), and the shapes the inputs were given in (``None`` where
    that is the shape bound; the gradient is summed back to it)."""

    def __init__(self, plan: Plan, signature: Signature,
                 given: tuple[tuple[int, ...] | None, ...],
                 hints: Mapping[int, Hint] | None = None) -> None:
        self.plan = plan
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
        self.steps: tuple[Step, ...] = tuple(layout.steps)
        self.input_slots = tuple(layout.slots[reg] for _, reg in self.lowered.inputs)
        self.dims: dict[str, int] = {}
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
            return Arena(_filled(self.template, self.layout))

    def checkin(self, arena: Arena) -> None:
        """Give an arena back once its run is dropped."""
        if len(self._pool) < IDLE_ARENAS:
            self._pool.append(arena)

    def run_forward(self, inputs: Sequence[Any], arena: Arena) -> list[Any]:
        """Run the forward steps on ``inputs`` (in the plan's input order)."""
        frame = arena.frame.copy()
        for slot, value in zip(self.input_slots, inputs, strict=True):
            frame[slot] = value
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
        self.lowered: LoweredBackward = lower_backward(plan, forward.lowered, seeds, forward.given)
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
        self.step_numbers = {node: n for n, node in enumerate(self.order, start=1)}
        self.template = [None] * (layout.size - self.base_size)
        for slot, value in layout.consts.items():
            self.template[slot - self.base_size] = value
        self.arena_bytes = sum(int(np.prod(s, dtype=np.int64)) * d.itemsize
                               for _, s, d in layout.buffers)

    def run(self, frame: list[Any], arena: Arena, seeds: dict[int, Any],
            zeros: Any) -> dict[str, Any]:
        """Run the backward steps after the forward ``frame``; the input gradients by name."""
        extension = arena.backward.get(self.id)
        if extension is None:
            extension = arena.backward[self.id] = _filled(self.template, self.layout, arena.frame)
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


MISSING: Any = object()


class Preparation:
    """What binding does to the values of one key, done again without its checks:
    integer arrays become float64 (but for constant inputs), the arrays the backward
    pass reads are copied (so that editing them after ``forward`` changes nothing),
    and a value given in a smaller shape than declared is broadcast (a Python float
    then becomes an array of the run's dtype)."""

    def __init__(self, plan: Plan, given: Mapping[str, Any], bound: Bound) -> None:
        names = plan.ir.names
        raw: list[Any] = [given.get(names[index]) for index in plan.inputs]
        self.conversions = tuple(
            position for position, index in enumerate(plan.inputs)
            if type(raw[position]) is np.ndarray and raw[position].dtype.kind in "biu"
            and bound.values[index].dtype.kind == "f"
        )
        self.copies = tuple(
            position for position, index in enumerate(plan.inputs)
            if plan.saved[index] and type(raw[position]) is np.ndarray
            and position not in self.conversions
        )
        self.broadcasts = tuple(
            (position, bound.shapes[index], bound.float_dtype)
            for position, index in enumerate(plan.inputs) if index in bound.given
        )
        self.given = tuple(bound.given.get(index) for index in plan.inputs)

    def __call__(self, inputs: list[Any]) -> tuple[list[Any], list[Any]]:
        """The values bound, and the values as given (with the copies made)."""
        if not (self.conversions or self.copies or self.broadcasts):
            return inputs, inputs
        given = list(inputs)
        for position in self.conversions:
            given[position] = given[position].astype(np.float64)
        for position in self.copies:
            given[position] = given[position].copy()
        bound = list(given)
        for position, shape, dtype in self.broadcasts:
            value = given[position]
            if type(value) is float:
                value = np.asarray(value, dtype)
            bound[position] = np.broadcast_to(value, shape)
        return bound, given


class Cache:
    """The compiled plans of one graph plan, by input signature (least recently used
    out), and a fast way to them from the values a run is given."""

    def __init__(self, plan: Plan) -> None:
        ir = plan.ir
        self.plan = plan
        self.inputs = tuple(
            (ir.names[i], ir.params[i].get("default", MISSING)) for i in plan.inputs
        )
        self.plans: OrderedDict[Any, CompiledPlan | None] = OrderedDict()
        self.by_key: dict[tuple[Any, ...], tuple[CompiledPlan, Preparation] | None] = {}
        self.lock = threading.Lock()

    def read(self, given: Mapping[str, Any]) -> tuple[tuple[Any, ...] | None, list[Any]]:
        """The key of the values ``given`` by name (their signature, as cheaply as it is
        read) and the input values in order; no key when the interpreter should take
        them (other types, unknown or missing names: it reports those)."""
        key: list[Any] = []
        values: list[Any] = []
        found = 0
        for name, default in self.inputs:
            value = given.get(name, MISSING)
            kind = type(value)
            if kind is np.ndarray:
                key.append((value.shape, value.strides, value.dtype))
            elif kind is float:
                key.append(float)
            elif kind is int or kind is bool:
                key.append(float)
                value = float(value)
            elif isinstance(value, np.floating):  # a numpy scalar is a 0-d array here
                value = np.asarray(value)
                key.append((value.shape, value.strides, value.dtype))
            elif value is MISSING and default is not MISSING:
                key.append(None)
                values.append(default)
                continue
            else:
                return None, values
            found += 1
            values.append(value)
        if found != len(given):
            return None, values
        return tuple(key), values

    def lookup(self, values: Sequence[Any],
               given: tuple[tuple[int, ...] | None, ...]) -> CompiledPlan | None:
        """The compiled plan for input values already bound (in input order)."""
        signature = signature_of(values)
        if signature is None:
            return None
        key = (signature, given)
        try:
            found = self.plans[key]
            self.plans.move_to_end(key)
            return found
        except KeyError:
            pass
        with self.lock:
            if key not in self.plans:
                try:
                    made: CompiledPlan | None = CompiledPlan(self.plan, signature, given)
                except Exception:  # noqa: BLE001 - the interpreter runs it, and reports errors
                    made = None
                self.plans[key] = made
                while len(self.plans) > SIGNATURES_PER_PLAN:
                    self.plans.popitem(last=False)
            return self.plans[key]

    def relax(self, compiled: CompiledPlan, node: int, seen: Hint) -> None:
        """Make ``compiled`` again, knowing what ``node``'s foreign op gives, and put the
        new plan where the old one was."""
        with self.lock:
            try:
                hints = {**compiled.hints, node: seen}
                if node in compiled.hints or len(hints) > 64:
                    raise ValueError("an op that gives something else every time")
                made: CompiledPlan | None = CompiledPlan(
                    self.plan, compiled.signature, compiled.given, hints)
                made.dims = compiled.dims  # type: ignore[union-attr]
            except Exception:  # noqa: BLE001 - the interpreter runs it from now on
                made = None
            compiled.dead = True
            for key, value in list(self.plans.items()):
                if value is compiled:
                    self.plans[key] = made
            for key, found in list(self.by_key.items()):
                if found is not None and found[0] is compiled:
                    self.by_key[key] = None if made is None else (made, found[1])

    def bind(self, given: Mapping[str, Any], key: tuple[Any, ...]
             ) -> tuple[CompiledPlan, Preparation] | None:
        """The compiled plan for values of a key not seen before, found by binding them
        as the interpreter does (which raises for values it refuses)."""
        bound = bind_inputs(self.plan, given)
        preparation = Preparation(self.plan, given, bound)
        compiled = self.lookup([bound.values[i] for i in self.plan.inputs], preparation.given)
        found = None
        if compiled is not None:
            compiled.dims = dict(bound.dims)
            found = (compiled, preparation)
        if len(self.by_key) >= 4 * SIGNATURES_PER_PLAN:
            self.by_key.clear()
        self.by_key[key] = found
        return found


_CACHES: dict[int, Cache] = {}
_CACHES_LOCK = threading.Lock()


def cache_of(plan: Plan) -> Cache:
    """The cache of compiled plans of ``plan`` (dropped with the plan)."""
    try:
        return _CACHES[id(plan)]
    except KeyError:
        pass
    with _CACHES_LOCK:
        if id(plan) not in _CACHES:
            _CACHES[id(plan)] = Cache(plan)
            weakref.finalize(plan, _CACHES.pop, id(plan), None)
        return _CACHES[id(plan)]


def compiled_for(plan: Plan, given: Mapping[str, Any]) -> CompiledPlan | None:
    """The compiled plan for these input values (by name), made on first use;
    ``None`` when the interpreter runs them (other array types, or a graph this
    compiler does not handle for them)."""
    cache = cache_of(plan)
    key, _ = cache.read(given)
    if key is None:
        return None
    found = cache.by_key[key] if key in cache.by_key else cache.bind(given, key)
    return None if found is None or found[0].dead else found[0]
