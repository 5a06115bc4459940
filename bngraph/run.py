"""One execution of a graph: its values, its gradients and its figures.

``forward(graph, inputs)`` (what ``graph.forward(...)`` calls) runs the forward
pass of the graph's plan and returns a ``Run``; ``run.backward(...)`` walks the plan
in reverse, summing gradients where a value feeds several consumers. A run owns
all of its state, so several threads may run one graph at once.

>>> import numpy as np, bngraph as bg
>>> g = bg.Graph("fan"); a = g.input("a")
>>> g.output((a * a + a).named("y"))
>>> run = g.forward(a=np.array([1.0, 2.0]))
>>> run.backward()["a"]           # d(a² + a)/da = 2a + 1
array([3., 5.])
>>> run.value("y"), run.step("y")
(array([2., 6.]), (2, 1))
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .backends import Backend, Computed, compute, itemsize, persist
from .binding import Bound, as_value, bind_inputs
from .errors import (
    InputError,
    NonFiniteError,
    NonFiniteWarning,
    RunStateError,
    ShapeError,
    UnknownInputError,
    closest,
    warn,
)
from .execute import Released, all_finite, backward_pass, forward_pass
from .named import Gradients, Outputs, read_only
from .ops import format_shape, unbroadcast
from .schedule import Plan, Planned

__all__ = ["Run", "RunStats", "Released", "forward"]


@dataclass(frozen=True)
class RunStats:
    """Figures of one run: seconds spent, and bytes of forward values held at the
    peak of the forward pass and after it (the values kept for the backward pass);
    ``compiled`` says whether a compiled plan ran it (see ``bngraph.compile``)."""

    forward_seconds: float
    backward_seconds: float | None
    peak_bytes: int
    retained_bytes: int
    compiled: bool = False


def forward(
    graph: Planned,
    inputs: Mapping[str, Any],
    *,
    keep_values: bool = False,
    check_finite: bool = False,
) -> Run:
    """Run the forward pass of ``graph`` (a graph or a plan) on ``inputs`` by name.

    >>> import bngraph as bg
    >>> forward(bg.library.get("batchnorm"), bg.library.example("batchnorm")).dims
    {'N': 5, 'D': 4}
    """
    compiled = _COMPILED_FORWARD or _compiled_forward()
    run = compiled(graph, inputs, keep_values=keep_values, check_finite=check_finite)
    if run is not None:
        return run
    plan = graph.plan
    bound = bind_inputs(plan, inputs)
    backend = bound.backend
    start = time.perf_counter()
    forward_pass(plan, bound.values, bound.shapes, release=not keep_values,
                 check_finite=check_finite, float_dtype=bound.float_dtype, backend=backend)
    seconds = time.perf_counter() - start
    run = Run(graph, bound, keep_values=keep_values, forward_seconds=seconds)
    if backend is None or not backend.lazy:  # lazy runs warn when they are computed
        run.warn_nonfinite("output", run.outputs)
    return run


_COMPILED_FORWARD: Callable[..., Run | None] | None = None


def _compiled_forward() -> Callable[..., Run | None]:
    """``compile.runs.compiled_forward``, imported on the first run (that module imports
    this one) and kept: an import statement costs a microsecond on every run."""
    global _COMPILED_FORWARD
    from .compile.runs import compiled_forward

    _COMPILED_FORWARD = compiled_forward
    return compiled_forward


class Run:
    """Everything about one execution of a graph (made by ``forward``)."""

    backend: Backend | None = None
    """The run's array library other than numpy (``bngraph.backends``); None: numpy."""

    def __init__(
        self, graph: Planned, bound: Bound, *, keep_values: bool, forward_seconds: float
    ) -> None:
        self.graph = graph
        self.plan: Plan = graph.plan
        self.keep_values = keep_values
        self.backend = bound.backend
        self.dims = dict(bound.dims)
        self._bound = bound
        self._values = values = bound.values
        self._shapes = bound.shapes
        self._seeds_given: dict[int, Any] = {}
        self._seconds: list[float | None] = [forward_seconds, None]
        self._grads: list[Any] | None = None
        self._contributions: dict[tuple[int, int], Any] = {}
        self._backward_steps: dict[int, int] = {}
        self.grads: dict[str, np.ndarray] = Gradients({})
        names = self.plan.ir.names
        self.outputs: dict[str, Any] = Outputs(
            {names[i]: self._hand_out(values[i]) for i in self.plan.outputs})

    # ------------------------------------------------------------------ backward

    def backward(
        self,
        seed: Any = None,
        /,
        *,
        check_finite: bool = False,
        **seeds: Any,
    ) -> dict[str, np.ndarray]:
        """Reverse mode: return the gradient of every input, as ``{name: array}``.

        ``backward()`` seeds ones for every output; ``backward(dout)`` seeds the
        only output; ``backward(out=dout, ...)`` seeds outputs by name (an output
        given no seed then contributes nothing). Calling it again with other
        seeds starts afresh from the same forward values. Constant inputs
        (``grad=False``) get no gradient and are not in the result.
        """
        start = time.perf_counter()
        plan, backend = self.plan, self.backend
        grads: list[Any] = [None] * len(plan.uses)
        given_seeds = self._seeds(seed, seeds)
        for index, array in given_seeds.items():
            grads[index] = array
        if backend is not None:
            backend.forget_gradients()
        contributions, done = backward_pass(
            plan, self._values, self._shapes, grads,
            record=self.keep_values, check_finite=check_finite, backend=backend,
        )
        self._grads, self._contributions = grads, contributions
        self._backward_steps = {node: number for number, node in enumerate(done, start=1)}
        names, constant = plan.ir.names, plan.constant
        self.grads = Gradients({
            names[i]: self._input_grad(i, grads[i]) for i in plan.inputs if not constant[i]
        })
        caller = [*self._bound.caller, *given_seeds.values()]
        if backend is None:
            _separate(self.grads, caller)
        else:
            backend.separate(self.grads, caller)
        self._seconds[1] = time.perf_counter() - start
        self._seeds_given = given_seeds
        if backend is None or not backend.lazy:  # lazy runs warn when they are computed
            self.warn_nonfinite("gradient", self.grads)
        return Gradients(self.grads)

    def _seeds(self, seed: Any, seeds: dict[str, Any]) -> dict[int, Any]:
        plan = self.plan
        outputs = plan.output_names
        if seed is not None and seeds:
            raise InputError("give backward() one positional seed or seeds by name, not both")
        if type(seed) is not np.ndarray and isinstance(seed, Mapping):
            seeds, seed = dict(seed), None
        if seed is not None:
            if len(outputs) != 1:
                raise InputError(
                    f"backward(seed) needs exactly one output; graph {plan.name!r} has "
                    f"{', '.join(outputs)}: seed them by name, e.g. backward({outputs[0]}=...)"
                )
            seeds = {outputs[0]: seed}
        backend = self.backend
        if not seeds:
            if backend is not None:
                return {i: backend.ones_like(self._values[i]) for i in plan.outputs}
            return {i: _ones_like(self._values[i]) for i in plan.outputs}
        result: dict[int, Any] = {}
        for name, value in seeds.items():
            if name not in outputs:
                raise UnknownInputError(
                    f"graph {plan.name!r} has no output {name!r}{closest(name, outputs)}; "
                    f"outputs: {', '.join(outputs)}"
                )
            index = plan.ir.index[name]
            if backend is not None:
                array = backend.take_seed(name, value)
                result[index] = _fit_seed(name, array, self._shapes[index], backend)
            else:
                array = as_value(f"seed {name}", value)
                result[index] = _fit_seed(name, array, self._shapes[index])
        return result

    def _input_grad(self, index: int, g: Any) -> Any:
        """The gradient of an input, of the shape given (summed over a broadcast)."""
        backend = self.backend
        if g is None:  # no output depends on this input
            value = self._values[index]
            dtype = getattr(value, "dtype", None)
            g = (np.zeros(np.shape(value), dtype or np.float64) if backend is None
                 else backend.zeros(self._shapes[index], dtype))
        given = self._bound.given.get(index)
        if given is not None:
            g = unbroadcast(g, given)
        if backend is not None:
            return backend.weak(g) if type(g) is float else g
        return g if type(g) is np.ndarray else np.asarray(g)

    def warn_nonfinite(self, kind: str, arrays: Mapping[str, Any]) -> None:
        """Warn (``NonFiniteWarning``) if any of ``arrays`` holds a NaN or an infinity,
        naming the first node that produced one where the run still holds it."""
        check = (all_finite if self.backend is None or self.backend.lazy
                 else self.backend.all_finite)
        self.warn_computed(kind, {name: check(array) for name, array in arrays.items()})

    def warn_computed(self, kind: str, finite: Mapping[str, bool]) -> None:
        """``warn_nonfinite`` for arrays whose finiteness is known by name (a lazy run's
        reductions, computed with its results)."""
        bad = [name for name, ok in finite.items() if not ok]
        if not bad:
            return
        plural, verb = ("s", "hold") if len(bad) > 1 else ("", "holds")
        warn(
            f"graph {self.plan.name!r}: the {kind}{plural} {', '.join(bad)} {verb} NaN or "
            f"infinite values; {self._first_nonfinite(kind == 'gradient')}",
            NonFiniteWarning,
        )

    def _first_nonfinite(self, backward: bool) -> str:
        """Which node first produced a NaN or an infinity: the passes replayed from the
        inputs with ``check_finite`` (only ever done once something is not finite)."""
        plan, bound = self.plan, self._bound
        replay = None if self.backend is None else self.backend.fresh()
        values = plan.blank_values
        for index in plan.inputs:
            values[index] = self._values[index]
        shapes = list(self._shapes)
        try:
            with np.errstate(all="ignore"):
                forward_pass(plan, values, shapes, release=False, check_finite=True,
                             float_dtype=bound.float_dtype, backend=replay)
                if backward:
                    grads: list[Any] = [None] * len(plan.uses)
                    for index, seed in self._seeds_given.items():
                        grads[index] = seed
                    backward_pass(plan, values, shapes, grads, record=False, check_finite=True,
                                  backend=replay)
                if replay is not None:
                    replay.raise_pending()  # a lazy replay: its checks in one pass
        except NonFiniteError as error:
            return str(error)
        return "the seeds given hold them"

    # ------------------------------------------------------------------ reading

    def value(self, name: str) -> Any:
        """The forward value of any node that the run still holds."""
        value = self._values[self.plan.ir.lookup(name)]
        if isinstance(value, Released):
            raise RunStateError(
                f"the value of {name!r} was released after its last use; run with "
                "graph.forward(..., keep_values=True) to keep every value"
            )
        return self._hand_out(value)

    def _hand_out(self, value: Any) -> Any:
        """A value for the caller that editing in place cannot change a later backward."""
        if self.backend is None:
            return read_only(value)
        kept = [self._values[i] for i in self.plan.saved_values]
        return self.backend.hand_out(value, kept)

    def grad(self, name: str) -> Any:
        """The gradient of any node, from the last ``backward()`` call."""
        index = self.plan.ir.lookup(name)
        if self._grads is None:
            raise RunStateError(f"no gradient of {name!r} yet: call run.backward() first")
        if name in self.grads:
            return self.grads[name]
        g = self._grads[index]
        if g is None:
            shape = self._shapes[index]
            return np.zeros(shape) if self.backend is None else self.backend.zeros(shape)
        return g

    def contributions(self, name: str) -> list[tuple[str, int, Any]]:
        """The gradients each consumer sent to ``name``: ``(consumer, position, array)``.

        Their sum is ``grad(name)``. Recorded only for runs made with ``keep_values=True``.
        """
        index = self.plan.ir.lookup(name)
        if not self.keep_values:
            raise RunStateError(
                "per-edge gradients are recorded only for runs made with keep_values=True"
            )
        names = self.plan.ir.names
        return [
            (names[c], k, self._contributions[(c, k)])
            for c, k in self.plan.uses[index] if (c, k) in self._contributions
        ]

    def released(self) -> tuple[str, ...]:
        """The nodes whose forward values were released early, in schedule order."""
        names = self.plan.ir.names
        return tuple(
            names[i] for i in self.plan.order if isinstance(self._values[i], Released)
        )

    def step(self, name: str) -> tuple[int, int | None]:
        """``(forward step, backward step)`` of a node; steps count from 1.

        Inputs have forward step 0; the backward step is ``None`` for nodes
        whose rules did not run (inputs, or nodes no seeded output depends on).
        """
        index = self.plan.ir.lookup(name)
        return self.plan.step_numbers[index], self._backward_steps.get(index)

    def shape(self, name: str) -> tuple[int, ...]:
        """The concrete shape of a node's value in this run (known even once released)."""
        return self._shapes[self.plan.ir.lookup(name)]

    @property
    def stats(self) -> RunStats:
        """Seconds spent, and the bytes of forward values held at the peak and after."""
        plan, values = self.plan, self._values

        def size(index: int) -> int:
            dtype = getattr(values[index], "dtype", np.dtype(np.float64))
            return math.prod(self._shapes[index]) * itemsize(dtype)

        live = peak = sum(size(i) for i in plan.inputs)
        for step in plan.forward_steps:
            live += size(step.node)
            peak = max(peak, live)
            if not self.keep_values:
                live -= sum(size(j) for j in step.release)
        return RunStats(self._seconds[0] or 0.0, self._seconds[1], peak, live)

    # ------------------------------------------------------------------ lazy runs

    def compute(self, **options: Any) -> Computed:
        """The outputs and the gradients of the last ``backward`` as computed arrays,
        ``outputs, grads = run.compute()``: a run on dask arrays evaluates them in one
        pass of the current scheduler (``options`` go to ``dask.compute``); other runs
        are computed already and hand them back as they are."""
        return compute(self, **options)[0]

    def persist(self, **options: Any) -> Run:
        """A run on dask arrays: compute its outputs and gradients and keep them on the
        workers (``dask.persist``), in place of their task graphs; returns the run."""
        return persist(self, **options)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .viz import mimebundle

        return mimebundle(self.graph, self)

    def __repr__(self) -> str:
        state = "with gradients" if self._grads is not None else "forward only"
        return f"<Run of {self.plan.name!r}, {state}>"


def _ones_like(value: Any) -> Any:
    return 1.0 if type(value) is float else np.ones_like(value)


def _fit_seed(name: str, seed: Any, shape: tuple[int, ...], backend: Backend | None = None
              ) -> Any:
    if np.shape(seed) == shape:
        return seed
    try:
        return np.broadcast_to(seed, shape) if backend is None else backend.broadcast(seed, shape)
    except ValueError:
        raise ShapeError(
            f"the seed for output {name!r} has shape {format_shape(np.shape(seed))}, "
            f"but the output has shape {format_shape(shape)}"
        ) from None


def _separate(grads: dict[str, np.ndarray], caller: list[Any]) -> None:
    """Copy any gradient that is read-only or may share memory with the caller's
    arrays or with another gradient, so that every array handed out is the caller's own."""
    known = set(map(id, caller))
    seen: list[np.ndarray] = []
    for name, g in grads.items():
        fresh = g.base is None and id(g) not in known and g.flags.writeable
        if not fresh and (not g.flags.writeable or any(
            np.may_share_memory(g, other) for other in (*caller, *seen)
        )):
            g = grads[name] = np.array(g)
        known.add(id(g))
        seen.append(g)
