"""Runs of compiled plans: the same ``Run`` to the caller, held in a frame of slots.

``compiled_forward(graph, inputs, ...)`` is the one place that decides which runs a
compiled plan takes: numpy arrays of real floats and Python numbers, when neither
every value (``keep_values``) nor a finiteness check is asked for. It returns
``None`` for everything else, and the interpreter runs it. A ``CompiledRun`` answers
like any run; what its frame does not hold (the gradient of an inner node, a value
after a step surprised the plan) it gets by running the interpreter once on the
same inputs. The run gives its arena back to the plan when it is dropped.

>>> import numpy as np, bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(x=np.arange(20.0).reshape(5, 4), gamma=2.0, beta=1.0, eps=0.1)
>>> type(run).__name__, run.stats.compiled
('CompiledRun', True)
>>> round(float(run.backward(run.outputs["out"])["gamma"]), 3)
39.875
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..binding import bind_inputs
from ..errors import RunStateError
from ..execute import all_finite, forward_pass
from ..named import Gradients, Outputs, read_only
from ..run import Run, RunStats
from ..schedule import Plan, Planned
from .cache import cache_of
from .compiled import CompiledPlan
from .gradients import ONES
from .program import Deopt, RuleSurprise, Surprise
from .signature import entry_of

__all__ = ["CompiledRun", "compiled_forward"]


def compiled_forward(graph: Planned, given: Mapping[str, Any], *, keep_values: bool,
                     check_finite: bool) -> Run | None:
    """Run the forward pass compiled, or return ``None`` for the interpreter to run it."""
    if keep_values or check_finite:
        return None
    plan = graph.plan
    cache = cache_of(plan)
    key, inputs = cache.read(given)
    if key is None:
        return None
    try:
        found = cache.by_key[key]
    except KeyError:
        found = cache.bind(given, key)  # the interpreter's checks, once per key
    if found is None or found[0].dead:
        return None
    compiled, prepare = found
    start = time.perf_counter()
    try:
        arena = compiled.checkout()  # a new arena makes its views: a reshape may fail there
        inputs, given_inputs = prepare(inputs)
        frame = compiled.run_forward(inputs, arena)
    except Surprise as surprise:
        cache.relax(compiled, surprise.node, surprise.seen)
        return None
    except Deopt:
        compiled.dead = True
        return None
    except Exception:  # noqa: BLE001 - the interpreter runs it again and names the node
        return None
    seconds = time.perf_counter() - start
    run = CompiledRun(graph, plan, compiled, frame, arena, inputs, given_inputs, seconds)
    if not _finite(run.outputs.values()):
        run.warn_nonfinite("output", run.outputs)
    return run


class CompiledRun(Run):
    """A run of a compiled plan (made by ``forward``; use it as any ``Run``)."""

    # the state of a run before its backward pass: class attributes, read until set
    keep_values = False
    _interpreted = False
    _grads: list[Any] | None = None
    _contributions: dict[tuple[int, int], Any] = {}  # noqa: RUF012 - never written
    _backward_steps: dict[int, int] = {}  # noqa: RUF012 - replaced, never written
    _backward_bytes = 0
    _seeds_given: dict[int, Any] = {}  # noqa: RUF012 - replaced, never written
    _last_seeds: tuple[Any, dict[str, Any]] = (None, {})

    def __init__(self, graph: Planned, plan: Plan, compiled: CompiledPlan, frame: list[Any],
                 arena: Any, inputs: list[Any], given: list[Any], seconds: float) -> None:
        self.graph = graph
        self.plan = plan
        self.dims = dict(compiled.dims)
        self._compiled = compiled
        self._arena = arena
        self._frame = frame
        self._inputs = inputs  # as bound
        self._given = given  # as given (arrays the backward pass reads: copies)
        self._seconds: list[float | None] = [seconds, None]
        self._shapes = compiled.shapes
        self.grads = Gradients({})
        # read only, as the interpreter's outputs are
        self.outputs = Outputs({name: read_only(frame[slot])
                                for name, slot in compiled.output_slots})

    def __del__(self) -> None:
        arena = self.__dict__.get("_arena")
        if arena is not None:
            self._compiled.checkin(arena)

    # ------------------------------------------------------------------ backward

    def backward(self, seed: Any = None, /, *, check_finite: bool = False,
                 **seeds: Any) -> dict[str, np.ndarray]:
        if self._interpreted or check_finite:
            return self._interpreted_backward(seed, seeds, check_finite)
        start = time.perf_counter()
        outputs = self.plan.outputs
        if seeds or type(seed) is not np.ndarray or len(outputs) != 1 \
                or seed.shape != self._shapes[outputs[0]] or seed.dtype.kind != "f":
            if seed is None and not seeds:
                given: dict[int, Any] = {}
                key: tuple[Any, ...] = (ONES,) * len(outputs)
            else:
                given = self._seeds(seed, seeds)
                key = tuple(_seed_kind(given.get(i)) for i in outputs)
        else:  # one array seed that fits the one output: what _seeds would check, cheaply
            given = {outputs[0]: seed}
            key = ((seed.shape, seed.strides, seed.dtype),)
        backward = self._compiled.backward_for(key)
        if backward is None:
            return self._interpreted_backward(seed, seeds, check_finite)
        try:
            grads = backward.run(self._frame, self._arena, given, self._zeros)
        except RuleSurprise as surprise:
            self._compiled.relax_backward(key, surprise.edge, surprise.seen)
            return self._interpreted_backward(seed, seeds, check_finite)
        except Deopt:
            self._compiled.forget_backward(key)
            return self._interpreted_backward(seed, seeds, check_finite)
        except Exception:  # noqa: BLE001 - the interpreter runs it again and names the node
            return self._interpreted_backward(seed, seeds, check_finite)
        self.grads = Gradients(grads)
        self._grads = []
        self._backward_steps = backward.step_numbers  # shared: read only
        self._backward_bytes = backward.arena_bytes
        self._last_seeds = (seed, seeds)
        self._seeds_given = given
        self._seconds[1] = time.perf_counter() - start
        if not _finite(grads.values()):
            self.warn_nonfinite("gradient", self.grads)
        return Gradients(grads)

    def _zeros(self, position: int) -> np.ndarray:
        value = self._inputs[position]
        shape = self._compiled.given[position]
        dtype = getattr(value, "dtype", np.dtype(np.float64))
        return np.zeros(np.shape(value) if shape is None else shape, dtype)

    def _interpret(self) -> None:
        """Run the forward pass again in the interpreter: from now on this run is an
        interpreted one (its outputs stay those already handed out)."""
        if self._interpreted:
            return
        plan = self.plan
        names = plan.ir.names
        bound = bind_inputs(plan, {
            names[i]: value for i, value in zip(plan.inputs, self._given, strict=True)
        })
        with np.errstate(all="ignore"):  # numpy has warned of this forward pass once already
            forward_pass(plan, bound.values, bound.shapes, release=True, check_finite=False,
                         float_dtype=bound.float_dtype)
        self._bound, self._values, self._shapes = bound, bound.values, bound.shapes
        self._interpreted = True

    def _interpreted_backward(self, seed: Any, seeds: dict[str, Any],
                              check_finite: bool) -> dict[str, np.ndarray]:
        self._interpret()
        self._last_seeds = (seed, seeds)
        return Run.backward(self, seed, check_finite=check_finite, **seeds)

    def warn_nonfinite(self, kind: str, arrays: Mapping[str, Any]) -> None:
        if all(all_finite(value) for value in arrays.values()):
            return  # the quick check's sum overflowed, every value being finite
        self._interpret()  # the interpreter replays the passes to name the first node
        if kind == "gradient" and not self._seeds_given:
            seed, seeds = self._last_seeds
            self._seeds_given = self._seeds(seed, seeds)  # backward(): ones
        Run.warn_nonfinite(self, kind, arrays)

    # ------------------------------------------------------------------ reading

    def grad(self, name: str) -> Any:
        index = self.plan.ir.lookup(name)
        if self._grads is None or name in self.grads or self._interpreted:
            return Run.grad(self, name)
        # the frame reuses the buffers of inner gradients: compute them in the interpreter
        grads, steps = self.grads, self._backward_steps
        seed, seeds = self._last_seeds
        self._interpreted_backward(seed, seeds, False)
        self.grads, self._backward_steps = grads, steps
        return Run.grad(self, self.plan.ir.names[index])

    def value(self, name: str) -> Any:
        if self._interpreted:
            return Run.value(self, name)
        index = self.plan.ir.lookup(name)
        slot = self._compiled.kept.get(index)
        if slot is None:
            raise RunStateError(
                f"the value of {name!r} was released after its last use; run with "
                "graph.forward(..., keep_values=True) to keep every value"
            )
        value = self._frame[slot]
        # a value in the arena is overwritten by a later run: hand out a copy
        return read_only(np.array(value) if slot in self._compiled.layout.arena_slots else value)

    def released(self) -> tuple[str, ...]:
        if self._interpreted:
            return Run.released(self)
        names, kept = self.plan.ir.names, self._compiled.kept
        return tuple(names[i] for i in self.plan.order if i not in kept)

    @property
    def stats(self) -> RunStats:
        """Seconds spent; bytes the run holds at its peak and after the forward pass:
        its inputs, its arena (kept until the run is dropped) and its outputs; once the
        interpreter ran it again (see ``CompiledRun``), the interpreter's figures."""
        if self._interpreted:
            return super().stats
        compiled = self._compiled
        inputs = sum(_nbytes(value) for value in self._inputs)
        held = inputs + compiled.arena_bytes + compiled.fresh_bytes
        return RunStats(self._seconds[0] or 0.0, self._seconds[1], held + self._backward_bytes,
                        held, compiled=True)

    def __repr__(self) -> str:
        state = "with gradients" if self._grads is not None else "forward only"
        return f"<Run of {self.plan.name!r}, {state}, compiled>"


def _finite(arrays: Any) -> bool:
    """Whether no array holds a NaN or an infinity, quickly: one sum each (a NaN or an
    infinity makes it one). Small float32 and float64 arrays take a BLAS dot product,
    the cheapest call; larger ones numpy's own sum, on this thread (BLAS would wake
    its threads, which then spin on the other cores). A sum that overflows, with
    every value finite, only sends the arrays to the exact check."""
    total = 0.0
    for array in arrays:
        if type(array) is not np.ndarray or array.ndim == 0:
            total += float(array)
        elif array.size <= BLAS_ONE_THREAD and array.dtype in BLAS_DTYPES:
            total += float(VDOT(array, array))
        else:
            with np.errstate(over="ignore", invalid="ignore"):  # the check's, not the run's
                total += float(ADD_REDUCE(array, None))
    return math.isfinite(total)


try:  # np.vdot without its dispatch layer (for arrays only: the same C function)
    from numpy._core._multiarray_umath import vdot as VDOT  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - a numpy that moved it
    VDOT = np.vdot
BLAS_DTYPES = frozenset({np.dtype(np.float64), np.dtype(np.float32)})
BLAS_ONE_THREAD = 8192
"""OpenBLAS computes a dot product of up to 10,000 elements on the calling thread."""
ADD_REDUCE: Any = np.add.reduce


def _seed_kind(value: Any) -> Any:
    if value is None:
        return None
    entry = entry_of(value)
    return "other" if entry is None else entry


def _nbytes(value: Any) -> int:
    if type(value) is np.ndarray:
        return int(value.nbytes)
    return 0 if value is None else math.prod(np.shape(value)) * 8
