"""One execution of a graph: its values, its gradients and its figures.

``graph.forward(...)`` makes a ``Run``; ``run.backward(...)`` walks the plan in
reverse, summing gradients where a value feeds several consumers. A run owns all
of its state, so several threads may run one graph at once.

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
from functools import lru_cache
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import (
    BngraphError,
    InputError,
    MissingInputError,
    NonFiniteError,
    OpError,
    RunStateError,
    ShapeError,
    UnknownInputError,
    closest,
    node_context,
)
from .ops import format_shape, get_op, unbroadcast
from .shapes import bind_dims

if TYPE_CHECKING:
    from .graph import Graph
    from .schedule import BackwardStep, ForwardStep

__all__ = ["Run", "RunStats", "Released"]


class Released:
    """Stands in for a forward value released early: it keeps the shape and dtype only."""

    __slots__ = ("shape", "dtype")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype) -> None:
        self.shape = shape
        self.dtype = dtype

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __repr__(self) -> str:
        return f"<released {self.dtype} value of shape {format_shape(self.shape)}>"


_FLOAT64 = np.dtype(np.float64)
# placeholders are immutable, so runs share one per shape and dtype
_released = lru_cache(maxsize=4096)(Released)


@dataclass(frozen=True)
class RunStats:
    """Figures of one run: seconds spent, and bytes of forward values held at the
    peak of the forward pass and after it (the values kept for the backward pass)."""

    forward_seconds: float
    backward_seconds: float | None
    peak_bytes: int
    retained_bytes: int


class Run:
    """Everything about one execution of a graph (made by ``Graph.forward``)."""

    def __init__(
        self,
        graph: Graph,
        given: Mapping[str, Any],
        *,
        keep_values: bool = False,
        check_finite: bool = False,
    ) -> None:
        plan = graph.plan
        self.graph = graph
        self.keep_values = keep_values
        self._seconds: list[float | None] = [0.0, None]
        self._values: list[Any] = [*plan.blank_values]
        self._shapes: list[tuple[int, ...]] = [()] * len(plan.uses)
        self._caller: list[Any] = []
        self._grads: list[Any] | None = None
        self._contributions: dict[tuple[int, int], Any] = {}
        self._done: list[int] = []
        self.grads: dict[str, np.ndarray] = {}
        self.dims = self._bind(given)
        start = time.perf_counter()
        self._forward(check_finite)
        self._seconds[0] = time.perf_counter() - start
        self.outputs: dict[str, Any] = {graph._names[i]: self._values[i] for i in plan.outputs}

    # ------------------------------------------------------------------ forward

    def _bind(self, given: Mapping[str, Any]) -> dict[str, int]:
        graph, plan = self.graph, self.graph.plan
        if not plan.input_names.issuperset(given):
            unknown = next(k for k in given if k not in plan.input_names)
            raise UnknownInputError(
                f"graph {graph.name!r} has no input {unknown!r}"
                f"{closest(unknown, graph.inputs)}; valid inputs: {', '.join(graph.inputs)}"
            )
        declared = []
        missing = []
        for index in plan.inputs:
            name, params = graph._names[index], graph._params[index]
            if name in given:
                value = _as_value(name, given[name], params.get("grad") is False)
                if type(value) is not float:
                    self._caller.append(given[name])
            elif "default" in params:
                value = params["default"]
            else:
                missing.append(name)
                continue
            self._values[index] = value
            shape = self._shapes[index] = value.shape if type(value) is np.ndarray else ()
            if "shape" in params:
                declared.append((name, params["shape"], shape))
        if missing:
            raise MissingInputError(
                f"graph {graph.name!r}: missing input(s) {', '.join(map(repr, missing))}; "
                f"it expects {graph.signature()}"
            )
        # the same input shapes bind the same symbols: remember the last few bindings
        key = tuple(declared)
        dims = plan.dims_cache.get(key)
        if dims is None:
            dims = bind_dims(declared)
            if len(plan.dims_cache) < 64:
                plan.dims_cache[key] = dims
        return dict(dims)

    def _forward(self, check_finite: bool) -> None:
        values, shapes = self._values, self._shapes
        release = not self.keep_values
        for step in self.graph.plan.forward_steps:
            node, forward, fetch, params, freed, _ = step
            args = fetch(values)
            try:
                out = forward(*args, **params)
            except MemoryError:
                raise
            except Exception as error:
                raise self._forward_error(step, args, error) from error
            if type(out) is not np.ndarray:
                out = _normalize(out, args, self._describe(node))
            values[node] = out
            shapes[node] = out.shape if type(out) is np.ndarray else ()
            if check_finite and not np.all(np.isfinite(out)):
                raise self._nonfinite(node, out, "forward value")
            if release and freed:
                for j in freed:
                    values[j] = _released(shapes[j], getattr(values[j], "dtype", _FLOAT64))

    @property
    def stats(self) -> RunStats:
        """Seconds spent, and the bytes of forward values held at the peak and after."""
        plan, values = self.graph.plan, self._values

        def size(index: int) -> int:
            itemsize = getattr(values[index], "dtype", np.dtype(np.float64)).itemsize
            return math.prod(self._shapes[index]) * itemsize

        live = peak = sum(size(i) for i in plan.inputs)
        for step in plan.forward_steps:
            live += size(step.node)
            peak = max(peak, live)
            if not self.keep_values:
                live -= sum(size(j) for j in step.release)
        return RunStats(self._seconds[0] or 0.0, self._seconds[1], peak, live)

    def _describe(self, index: int) -> str:
        graph = self.graph
        return node_context(graph._names[index], graph._ops[index], graph._stages[index])

    def _forward_error(self, step: ForwardStep, args: tuple[Any, ...], error: Exception) -> BngraphError:
        context = self._describe(step.node)
        if isinstance(error, ShapeError):
            return ShapeError(f"{context}: {error}")
        op = get_op(self.graph._ops[step.node])
        shapes = [np.shape(a) for a in args]
        if op.shape is not None:
            try:
                op.shape(*shapes, **step.params)
            except ShapeError as shape_error:
                return ShapeError(f"{context}: {shape_error}")
            except Exception:  # noqa: BLE001 - the op's own error below says more
                pass
        listed = ", ".join(format_shape(s) for s in shapes)
        return OpError(
            f"{context}: forward failed on operands of shapes {listed}: "
            f"{type(error).__name__}: {error}"
        )

    def _nonfinite(self, index: int, value: Any, what: str) -> NonFiniteError:
        bad = np.argwhere(~np.isfinite(np.asarray(value)))
        where = tuple(int(k) for k in bad[0]) if bad.size else ()
        element = np.asarray(value)[where] if bad.size else value
        return NonFiniteError(
            f"{self._describe(index)} produced a non-finite {what}: {element} at index {where}"
        )

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
        graph, values = self.graph, self._values
        plan = graph.plan
        grads: list[Any] = [None] * len(plan.uses)
        given_seeds = self._seeds(seed, seeds)
        for index, array in given_seeds.items():
            grads[index] = array
        shapes = self._shapes
        contributions: dict[tuple[int, int], Any] = {}
        done: list[int] = []
        slow = check_finite or self.keep_values
        for step in plan.backward_steps:
            node, fetch, params, edges, _ = step
            g = grads[node]
            if g is None:
                continue
            done.append(node)
            args = fetch(values)
            out = values[node]
            for k, vjp, j in edges:
                try:
                    contribution = vjp(g, out, *args, **params)
                except MemoryError:
                    raise
                except Exception as error:
                    raise self._vjp_error(step, k, out, args, error) from error
                if contribution is None:
                    continue
                if type(contribution) is not np.ndarray or contribution.shape != shapes[j]:
                    contribution = self._fit(step, k, contribution)
                if slow:
                    if check_finite and not np.all(np.isfinite(contribution)):
                        raise self._nonfinite(node, contribution, f"gradient for operand {k}")
                    contributions[(node, k)] = contribution
                previous = grads[j]
                grads[j] = contribution if previous is None else previous + contribution
        self._grads, self._contributions = grads, contributions
        self._done = done
        names, constant = graph._names, plan.constant
        self.grads = {
            names[i]: grads[i] if type(grads[i]) is np.ndarray else self._input_grad(i, grads[i])
            for i in plan.inputs if not constant[i]
        }
        _separate(self.grads, [*self._caller, *given_seeds.values()])
        self._seconds[1] = time.perf_counter() - start
        return dict(self.grads)

    def _vjp_error(
        self, step: BackwardStep, k: int, out: Any, args: tuple[Any, ...], error: Exception
    ) -> OpError:
        released = " (it read a value its op does not declare in saves)" if any(
            isinstance(a, Released) for a in (out, *args)) else ""
        return OpError(
            f"{self._describe(step.node)}: vector-Jacobian rule for operand {k} failed"
            f"{released}: {type(error).__name__}: {error}"
        )

    def _fit(self, step: BackwardStep, k: int, contribution: Any) -> Any:
        """Sum a gradient back to its operand's shape, or say which rule got it wrong."""
        shape = self._shapes[step.slots[k]]
        reduced = unbroadcast(contribution, shape)
        if np.shape(reduced) != shape:
            raise ShapeError(
                f"{self._describe(step.node)}: the gradient for operand {k} has shape "
                f"{format_shape(np.shape(contribution))}, which does not reduce to the "
                f"operand's shape {format_shape(shape)}"
            )
        return reduced

    def _seeds(self, seed: Any, seeds: dict[str, Any]) -> dict[int, Any]:
        graph = self.graph
        outputs = graph.plan.output_names
        if seed is not None and seeds:
            raise InputError("give backward() one positional seed or seeds by name, not both")
        if type(seed) is not np.ndarray and isinstance(seed, Mapping):
            seeds, seed = dict(seed), None
        if seed is not None:
            if len(outputs) != 1:
                raise InputError(
                    f"backward(seed) needs exactly one output; graph {graph.name!r} has "
                    f"{', '.join(outputs)}: seed them by name, e.g. backward({outputs[0]}=...)"
                )
            seeds = {outputs[0]: seed}
        if not seeds:
            return {i: _ones_like(self._values[i]) for i in graph.plan.outputs}
        result: dict[int, Any] = {}
        for name, value in seeds.items():
            if name not in outputs:
                raise UnknownInputError(
                    f"graph {graph.name!r} has no output {name!r}{closest(name, outputs)}; "
                    f"outputs: {', '.join(outputs)}"
                )
            index = graph._index[name]
            array = _as_value(f"seed {name}", value)
            result[index] = _fit_seed(name, array, self._shapes[index])
        return result

    def _input_grad(self, index: int, g: Any) -> np.ndarray:
        if g is None:  # no output depends on this input
            value = self._values[index]
            return np.zeros(np.shape(value), getattr(value, "dtype", np.float64))
        return np.asarray(g)

    # ------------------------------------------------------------------ reading

    def value(self, name: str) -> Any:
        """The forward value of any node that the run still holds."""
        value = self._values[self.graph._lookup(name)]
        if isinstance(value, Released):
            raise RunStateError(
                f"the value of {name!r} was released after its last use; run with "
                "graph.forward(..., keep_values=True) to keep every value"
            )
        return value

    def grad(self, name: str) -> Any:
        """The gradient of any node, from the last ``backward()`` call."""
        index = self.graph._lookup(name)
        if self._grads is None:
            raise RunStateError(f"no gradient of {name!r} yet: call run.backward() first")
        if name in self.grads:
            return self.grads[name]
        g = self._grads[index]
        return np.zeros(self._shapes[index]) if g is None else g

    def contributions(self, name: str) -> list[tuple[str, int, Any]]:
        """The gradients each consumer sent to ``name``: ``(consumer, position, array)``.

        Their sum is ``grad(name)``. Recorded only for runs made with ``keep_values=True``.
        """
        index = self.graph._lookup(name)
        if not self.keep_values:
            raise RunStateError(
                "per-edge gradients are recorded only for runs made with keep_values=True"
            )
        return [
            (self.graph._names[c], k, self._contributions[(c, k)])
            for c, k in self.graph.plan.uses[index] if (c, k) in self._contributions
        ]

    def released(self) -> tuple[str, ...]:
        """The nodes whose forward values were released early, in schedule order."""
        return tuple(
            self.graph._names[i] for i in self.graph.plan.order
            if isinstance(self._values[i], Released)
        )

    def step(self, name: str) -> tuple[int, int | None]:
        """``(forward step, backward step)`` of a node; steps count from 1.

        Inputs have forward step 0; the backward step is ``None`` for nodes
        whose rules did not run (inputs, or nodes no seeded output depends on).
        """
        index = self.graph._lookup(name)
        plan = self.graph.plan
        forward = 0 if index in plan.inputs else 1 + next(
            k for k, s in enumerate(plan.forward_steps) if s.node == index
        )
        backward = self._done.index(index) + 1 if index in self._done else None
        return forward, backward

    def shape(self, name: str) -> tuple[int, ...]:
        """The concrete shape of a node's value in this run (known even once released)."""
        return self._shapes[self.graph._lookup(name)]

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .viz import mimebundle

        return mimebundle(self.graph, self)

    def __repr__(self) -> str:
        state = "with gradients" if self._grads is not None else "forward only"
        return f"<Run of {self.graph.name!r}, {state}>"


def _as_value(name: str, value: Any, constant: bool = False) -> Any:
    """Inputs and seeds: Python numbers stay weak floats; integer arrays become float64,
    except for a constant input (indices, labels), whose integers stay integers."""
    if type(value) in (int, float, bool):
        return float(value)
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise InputError(f"input {name!r} is not an array of numbers: {error}") from None
    if constant and array.dtype.kind in "iu":
        return array
    if array.dtype.kind in "biu":
        return array.astype(np.float64)
    if array.dtype.kind not in "fc":
        raise InputError(f"input {name!r} must hold numbers, not {array.dtype} values")
    return array


def _normalize(out: Any, args: tuple[Any, ...], context: str) -> Any:
    """Op results: weak floats from weak floats, arrays otherwise (integers only from
    integer constants: ``expand_dims(labels)``)."""
    if isinstance(out, (float, int, np.generic)) and all(type(a) is float for a in args):
        return float(out)
    array = np.asarray(out)
    if array.dtype.kind not in "fciu":
        raise OpError(f"{context}: forward returned {array.dtype} values, not numbers")
    return array


def _ones_like(value: Any) -> Any:
    return 1.0 if type(value) is float else np.ones_like(value)


def _fit_seed(name: str, seed: Any, shape: tuple[int, ...]) -> Any:
    if np.shape(seed) == shape:
        return seed
    try:
        return np.broadcast_to(seed, shape)
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
