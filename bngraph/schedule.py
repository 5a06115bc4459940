"""The scheduler's plan: a deterministic topological order and its liveness facts.

A plan is computed once per graph (``graph.plan``). It fixes the order in which
nodes run (ties broken by definition order, no recursion anywhere), which
forward values the backward pass reads, and after which step every other value
can be released.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> g.order[:4]
('x', 'gamma', 'beta', 'eps')
>>> [g.names[i] for i in g.plan.saved_values]
['gamma', 'xmu', 'sqrtvar', 'ivar', 'xhat']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import networkx as nx

from .ops import Op, get_op

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Plan", "ForwardStep", "BackwardStep", "make_plan"]


class ForwardStep(NamedTuple):
    """Compute ``node`` as ``forward(*fetch(values), **params)``, then release ``release``.

    A tuple, so that the scheduler's inner loop unpacks it in one go.
    """

    node: int
    forward: Callable[..., Any]
    fetch: Callable[[list[Any]], tuple[Any, ...]]
    params: Mapping[str, Any]
    release: tuple[int, ...]
    slots: tuple[int, ...]


class BackwardStep(NamedTuple):
    """Send ``node``'s gradient through each ``(position, rule, slot)`` of ``edges``.

    Literal operands get no gradient, so they have no edge.
    """

    node: int
    fetch: Callable[[list[Any]], tuple[Any, ...]]
    params: Mapping[str, Any]
    edges: tuple[tuple[int, Callable[..., Any], int], ...]
    slots: tuple[int, ...]


def fetcher(slots: tuple[int, ...]) -> Callable[[list[Any]], tuple[Any, ...]]:
    """A fast ``lambda values: tuple(values[j] for j in slots)`` (the scheduler's inner loop).

    >>> fetcher((2,))(["a", "b", "c"]), fetcher((0, 2))(["a", "b", "c"])
    (('c',), ('a', 'c'))
    """
    if len(slots) == 1:
        (only,) = slots
        return lambda values: (values[only],)
    return itemgetter(*slots)  # type: ignore[return-value]


@dataclass(frozen=True)
class Plan:
    """Everything about running a graph that does not depend on the inputs."""

    order: tuple[int, ...]
    forward_steps: tuple[ForwardStep, ...]
    backward_steps: tuple[BackwardStep, ...]
    uses: tuple[tuple[tuple[int, int], ...], ...]
    saved: tuple[bool, ...]
    literals: tuple[float, ...]
    inputs: tuple[int, ...]
    input_names: frozenset[str]
    outputs: tuple[int, ...]
    output_names: tuple[str, ...]
    ir: nx.MultiDiGraph
    dims_cache: dict[tuple, dict[str, int]] = field(default_factory=dict, compare=False)
    constant: tuple[bool, ...] = ()
    """Per node: a constant input, or computed from constants alone (no gradient)."""

    @property
    def blank_values(self) -> list[Any]:
        """A run's value list before it starts: a slot per node, then the literals."""
        return [None] * len(self.uses) + list(self.literals)

    @property
    def saved_values(self) -> tuple[int, ...]:
        """The nodes whose forward values the backward pass reads, in schedule order."""
        return tuple(i for i in self.order if self.saved[i])

    def forward_step(self, node: int) -> int:
        """The 1-based forward step number of ``node``."""
        return self.order.index(node) + 1


def make_plan(graph: Graph) -> Plan:
    """Validate ``graph`` and compute its plan (called once, by ``graph.freeze()``)."""
    from .graph import INPUT, topological_order

    order = topological_order(graph)
    count = len(graph._names)
    ops: list[Op | None] = [None if op == INPUT else get_op(op) for op in graph._ops]
    uses = _uses(graph, order)
    outputs = tuple(graph._outputs)
    saved = _saved(graph, ops, uses)
    literals, slots = _slots(graph, count)
    constant = _constant(graph, order)
    last_use = _last_use(uses, order)
    keep = set(outputs)
    release: dict[int, list[int]] = {}
    for index in order:
        if ops[index] is None or saved[index] or index in keep:
            continue
        release.setdefault(last_use.get(index, index), []).append(index)
    forward_steps = tuple(
        ForwardStep(
            i, op.forward, fetcher(slots[i]), op.full_params(graph._params[i]),
            tuple(release.get(i, ())),
            slots[i],
        )
        for i in order if (op := ops[i]) is not None
    )
    backward_steps = tuple(
        BackwardStep(
            i, fetcher(slots[i]), op.full_params(graph._params[i]),
            tuple(
                (k, vjp, slots[i][k])
                for k, o in enumerate(graph._operands[i])
                if isinstance(o, int) and not constant[o] and (vjp := op.vjp(k)) is not None
            ),
            slots[i],
        )
        for i in reversed(order) if (op := ops[i]) is not None
    )
    inputs = tuple(i for i in range(count) if ops[i] is None)
    return Plan(
        tuple(order), forward_steps, backward_steps, uses, tuple(saved), literals,
        inputs, frozenset(graph._names[i] for i in inputs), outputs,
        tuple(graph._names[i] for i in outputs), _ir(graph), constant=tuple(constant),
    )


def _constant(graph: Graph, order: list[int]) -> list[bool]:
    """Constant inputs, and the nodes computed from constants and numbers alone:
    no gradient is sent to them."""
    from .graph import INPUT

    constant = [False] * len(graph._names)
    for index in order:
        if graph._ops[index] == INPUT:
            constant[index] = graph._params[index].get("grad") is False
        else:
            constant[index] = all(
                not isinstance(o, int) or constant[o] for o in graph._operands[index])
    return constant


def _uses(graph: Graph, order: list[int]) -> tuple[tuple[tuple[int, int], ...], ...]:
    uses: list[list[tuple[int, int]]] = [[] for _ in graph._names]
    for consumer in order:
        for position, operand in enumerate(graph._operands[consumer]):
            if isinstance(operand, int):
                uses[operand].append((consumer, position))
    return tuple(tuple(u) for u in uses)


def _saved(graph: Graph, ops: list[Op | None], uses: tuple) -> list[bool]:
    """Which forward values some vector-Jacobian rule reads."""
    saved = [op is not None and "out" in op.saves for op in ops]
    for index, node_uses in enumerate(uses):
        if any(ops[consumer].reads(position) for consumer, position in node_uses):  # type: ignore[union-attr]
            saved[index] = True
    return saved


def _slots(graph: Graph, count: int) -> tuple[tuple[float, ...], list[tuple[int, ...]]]:
    """Operand slots into the run's value list; literals live after the nodes."""
    literals: list[float] = []
    slots = []
    for operands in graph._operands:
        row = []
        for operand in operands:
            if isinstance(operand, int):
                row.append(operand)
            else:
                row.append(count + len(literals))
                literals.append(operand)
        slots.append(tuple(row))
    return tuple(literals), slots


def _last_use(uses: tuple, order: list[int]) -> dict[int, int]:
    position = {node: k for k, node in enumerate(order)}
    return {
        index: max((c for c, _ in node_uses), key=position.__getitem__)
        for index, node_uses in enumerate(uses) if node_uses
    }


def _ir(graph: Graph) -> nx.MultiDiGraph:
    ir = nx.MultiDiGraph(name=graph.name, outputs=tuple(graph._names[i] for i in graph._outputs))
    for index, name in enumerate(graph._names):
        ir.add_node(
            name, op=graph._ops[index], params=dict(graph._params[index]),
            stage=graph._stages[index], index=index,
        )
    for index, operands in enumerate(graph._operands):
        for position, operand in enumerate(operands):
            if isinstance(operand, int):
                ir.add_edge(graph._names[operand], graph._names[index], key=position)
            else:
                ir.nodes[graph._names[index]].setdefault("literals", {})[position] = operand
    return ir
