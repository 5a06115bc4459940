"""The scheduler's plan: a deterministic topological order and its liveness facts.

A plan is computed once per graph from its IR (``make_plan(ir)``, or ``graph.plan``).
It fixes the order in which nodes run (ties broken by definition order, no recursion
anywhere), which forward values the backward pass reads, and after which step every
other value can be released. A plan is immutable; runs keep their state apart.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> g.order[:4]
('x', 'gamma', 'beta', 'eps')
>>> [g.names[i] for i in g.plan.saved_values]
['gamma', 'xmu', 'sqrtvar', 'ivar', 'xhat']
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, NamedTuple, Protocol

import networkx as nx

from .errors import CycleError
from .ir import IR
from .ops import Op

__all__ = [
    "Plan", "Planned", "ForwardStep", "BackwardStep", "make_plan", "topological_order",
]


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

    Literal operands, and operands whose op gives them no rule, have no edge.
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
    return itemgetter(*slots)


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything about running a graph that does not depend on the inputs.

    ``uses[i]`` lists ``(consumer, position)`` for every use of node ``i``, in
    schedule order; ``saved[i]`` says whether a rule reads its forward value;
    ``step_numbers[i]`` is its 1-based forward step (0 for inputs); ``constant[i]``
    whether it is a constant input or computed from constants alone (no gradient
    is sent to it).
    """

    ir: IR
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
    step_numbers: tuple[int, ...]
    constant: tuple[bool, ...] = ()

    @property
    def plan(self) -> Plan:
        """The plan itself, so that a plan is accepted wherever a graph is run."""
        return self

    @property
    def name(self) -> str:
        return self.ir.name

    @property
    def blank_values(self) -> list[Any]:
        """A run's value list before it starts: a slot per node, then the literals."""
        return [None] * len(self.uses) + list(self.literals)

    @property
    def saved_values(self) -> tuple[int, ...]:
        """The nodes whose forward values the backward pass reads, in schedule order."""
        return tuple(i for i in self.order if self.saved[i])

    @property
    def names_in_order(self) -> tuple[str, ...]:
        """Node names in the scheduler's topological order."""
        names = self.ir.names
        return tuple(names[i] for i in self.order)

    def consumers(self, name: str) -> tuple[str, ...]:
        """The nodes that use ``name`` as an operand (once per use), in schedule order."""
        names = self.ir.names
        return tuple(names[c] for c, _ in self.uses[self.ir.lookup(name)])


class Planned(Protocol):
    """Anything that can be run: a graph (its plan is computed once) or a plan."""

    @property
    def plan(self) -> Plan: ...


def topological_order(ir: IR) -> list[int]:
    """Kahn's algorithm, ties broken by definition order; raises ``CycleError``.

    >>> from bngraph.ir import IR, NodeSpec
    >>> ir = IR.from_specs("g", [NodeSpec("a", "neg", ("b",)), NodeSpec("b", "neg", ("a",))],
    ...                    ["a"])
    >>> topological_order(ir)
    Traceback (most recent call last):
    ...
    bngraph.errors.CycleError: graph 'g' has a cycle: b -> a -> b
    """
    count = len(ir.names)
    indegree = [0] * count
    users: list[list[int]] = [[] for _ in range(count)]
    for index, operands in enumerate(ir.operands):
        for o in {o for o in operands if isinstance(o, int)}:
            indegree[index] += 1
            users[o].append(index)
    ready = [i for i in range(count) if indegree[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for user in users[index]:
            indegree[user] -= 1
            if indegree[user] == 0:
                heapq.heappush(ready, user)
    if len(order) < count:
        raise CycleError(f"graph {ir.name!r} has a cycle: {_describe_cycle(ir, order)}")
    return order


def _describe_cycle(ir: IR, done: list[int]) -> str:
    finished = set(done)
    rest: nx.DiGraph[str] = nx.DiGraph()
    for index, operands in enumerate(ir.operands):
        if index in finished:
            continue
        for o in operands:
            if isinstance(o, int) and o not in finished:
                rest.add_edge(ir.names[o], ir.names[index])
    edges = nx.find_cycle(rest)
    names = [u for u, _ in edges] + [edges[0][0]]
    return " -> ".join(names)


def make_plan(ir: IR) -> Plan:
    """Schedule ``ir`` (raising ``CycleError`` for a cycle) and compute its liveness."""
    order = topological_order(ir)
    ops = [ir.op(i) for i in range(len(ir))]
    uses = _uses(ir, order)
    saved = _saved(ops, uses)
    literals, slots = _slots(ir)
    constant = _constant(ir, order)
    release = _release_points(ops, saved, uses, order, set(ir.output_indices))
    forward_steps = tuple(
        ForwardStep(
            i, op.forward, fetcher(slots[i]), op.full_params(ir.params[i]),
            tuple(release.get(i, ())), slots[i],
        )
        for i in order if (op := ops[i]) is not None
    )
    backward_steps = tuple(
        BackwardStep(
            i, fetcher(slots[i]), op.full_params(ir.params[i]),
            tuple(
                (k, vjp, slots[i][k])
                for k, o in enumerate(ir.operands[i])
                if isinstance(o, int) and not constant[o] and (vjp := op.vjp(k)) is not None
            ),
            slots[i],
        )
        for i in reversed(order) if (op := ops[i]) is not None
    )
    step_numbers = [0] * len(ir)
    for number, step in enumerate(forward_steps, start=1):
        step_numbers[step.node] = number
    inputs = ir.input_indices
    return Plan(
        ir, tuple(order), forward_steps, backward_steps, uses, tuple(saved), literals,
        inputs, frozenset(ir.names[i] for i in inputs), ir.output_indices, ir.outputs,
        tuple(step_numbers), tuple(constant),
    )


def _constant(ir: IR, order: list[int]) -> list[bool]:
    """Constant inputs, and the nodes computed from constants and numbers alone:
    no gradient is sent to them."""
    constant = [False] * len(ir)
    for index in order:
        if ir.op(index) is None:
            constant[index] = ir.params[index].get("grad") is False
        else:
            constant[index] = all(not isinstance(o, int) or constant[o] for o in ir.operands[index])
    return constant


def _uses(ir: IR, order: list[int]) -> tuple[tuple[tuple[int, int], ...], ...]:
    uses: list[list[tuple[int, int]]] = [[] for _ in ir.names]
    for consumer in order:
        for position, operand in enumerate(ir.operands[consumer]):
            if isinstance(operand, int):
                uses[operand].append((consumer, position))
    return tuple(tuple(u) for u in uses)


def _saved(ops: list[Op | None], uses: tuple[tuple[tuple[int, int], ...], ...]) -> list[bool]:
    """Which forward values some vector-Jacobian rule reads."""
    saved = [op is not None and "out" in op.saves for op in ops]
    for index, node_uses in enumerate(uses):
        for consumer, position in node_uses:
            op = ops[consumer]
            if op is not None and op.reads(position):
                saved[index] = True
    return saved


def _slots(ir: IR) -> tuple[tuple[float, ...], list[tuple[int, ...]]]:
    """Operand slots into the run's value list; literals live after the nodes."""
    count = len(ir)
    literals: list[float] = []
    slots = []
    for operands in ir.operands:
        row = []
        for operand in operands:
            if isinstance(operand, int):
                row.append(operand)
            else:
                row.append(count + len(literals))
                literals.append(operand)
        slots.append(tuple(row))
    return tuple(literals), slots


def _release_points(
    ops: list[Op | None],
    saved: list[bool],
    uses: tuple[tuple[tuple[int, int], ...], ...],
    order: list[int],
    keep: set[int],
) -> dict[int, list[int]]:
    """After which node each forward value can go: its last consumer, or itself when
    nothing reads it. Inputs, saved values and outputs are kept."""
    position = {node: k for k, node in enumerate(order)}
    release: dict[int, list[int]] = {}
    for index in order:
        if ops[index] is None or saved[index] or index in keep:
            continue
        last = max((c for c, _ in uses[index]), key=position.__getitem__, default=index)
        release.setdefault(last, []).append(index)
    return release
