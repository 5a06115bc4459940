"""Where compiled plans are kept, and how a run finds its own at little cost.

Each graph plan has a ``Cache``: its compiled plans by input signature (the 8 used
last) and, for the fast way in, by the key read straight from the values a run is
given (shape, strides and dtype of each array, or that it is a Python number), with
the ``Preparation`` that binding does to such values (copies, conversions,
broadcasts), so that a run whose key was seen before skips binding altogether:
binding is deterministic in the key. Caches are dropped with their plans.

>>> import numpy as np, bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> compiled = compiled_for(g.plan, {"x": np.ones((8, 3)), "gamma": np.ones(3), "beta": np.ones(3)})
>>> compiled.signature[0], len(cache_of(g.plan).plans) >= 1
(((8, 3), (24, 8), dtype('float64')), True)
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
from .compiled import CompiledPlan, alive
from .program import Hint
from .signature import signature_of

__all__ = ["Cache", "Preparation", "cache_of", "compiled_for", "release_buffers",
           "SIGNATURES_PER_PLAN"]

SIGNATURES_PER_PLAN = 8
"""Compiled plans kept per graph (the most recently used input signatures)."""

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
        self._plan = weakref.ref(plan)
        self.inputs = tuple(
            (ir.names[i], ir.params[i].get("default", MISSING)) for i in plan.inputs
        )
        self.plans: OrderedDict[Any, CompiledPlan | None] = OrderedDict()
        self.by_key: dict[tuple[Any, ...], tuple[CompiledPlan, Preparation] | None] = {}
        self.lock = threading.Lock()

    @property
    def plan(self) -> Plan:
        """The plan (alive while anyone asks: a run or a graph holds it)."""
        return alive(self._plan)

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

    def release(self) -> int:
        """Free the buffers every compiled plan keeps between runs; the bytes freed."""
        return sum(compiled.release() for compiled in list(self.plans.values())
                   if compiled is not None)

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


_CACHES: weakref.WeakKeyDictionary[Plan, Cache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def cache_of(plan: Plan) -> Cache:
    """The cache of compiled plans of ``plan``, dropped with the plan: the caches and
    their compiled plans hold the plan weakly, or every plan run would stay alive."""
    try:
        return _CACHES[plan]
    except KeyError:
        pass
    with _CACHES_LOCK:
        return _CACHES.setdefault(plan, Cache(plan))


def release_buffers(plan: Plan | None = None) -> int:
    """Free what the compiled plans of ``plan`` (of every plan: ``None``) keep between
    runs; the bytes freed (see ``Graph.release_buffers``)."""
    if plan is not None:
        cache = _CACHES.get(plan)
        return 0 if cache is None else cache.release()
    return sum(cache.release() for cache in list(_CACHES.values()))


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
