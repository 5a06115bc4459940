"""What one drawing needs to know about a graph and a run, gathered once.

``gather`` reads the plan (order, uses, saved values, release points) and the
run (shapes, steps, released values, per-edge gradients) for the nodes that will
be drawn, and fixes the DOT id of every node and of the extra nodes (gradient
sums, seeds, legend), so that the statement builders only look things up.

>>> import bngraph as bg
>>> facts = gather(bg.library.get("batchnorm"), None, "backward")
>>> sorted(facts.fan_out), facts.uses["xmu"]
(['x', 'xmu'], (('sq', 0), ('xhat', 0)))
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import RunStateError, ShapeError
from ..ops import format_shape
from ..shapes import static_shapes
from .escape import quote_id
from .model import DrawnGraph, DrawnRun

__all__ = ["Frame", "Facts", "gather", "has_gradients"]


@dataclass(frozen=True)
class Frame:
    """One moment of a run: ``current`` is the node being computed; ``values`` and
    ``grads`` are the nodes whose value (gradient) is known at that moment; ``edges``
    are the backward edges ``(consumer, position)`` that have sent their gradient."""

    phase: str
    current: str | None
    values: frozenset[str]
    grads: frozenset[str] = frozenset()
    edges: frozenset[tuple[str, int]] = frozenset()


def has_gradients(run: DrawnRun) -> bool:
    """Whether ``run.backward()`` has been called on ``run``."""
    try:
        run.grad(run.graph.names[0])
    except RunStateError:
        return False
    return True


@dataclass(frozen=True)
class Facts:
    """Everything a drawing looks up: members drawn in full, greyed neighbours,
    shapes, schedule steps, saved and released values, uses and fan-out, ids."""

    graph: DrawnGraph
    run: DrawnRun | None
    view: str
    frame: Frame | None
    members: frozenset[str]
    boundary: frozenset[str]
    shapes: dict[str, str]
    saved: frozenset[str]
    released: frozenset[str]
    last_use: dict[str, int]
    steps: dict[str, tuple[int, int | None]]
    grads: bool
    contributions: dict[str, list[tuple[str, int, Any]]] | None
    uses: dict[str, tuple[tuple[str, int], ...]]
    fan_out: frozenset[str]
    ids: dict[str, str]
    extras: dict[tuple[str, str], str]

    @property
    def forward(self) -> bool:
        return self.view in ("forward", "both")

    @property
    def backward(self) -> bool:
        return self.view in ("backward", "both")

    def visible(self, name: str) -> bool:
        return name in self.members or name in self.boundary


def gather(
    graph: DrawnGraph,
    run: DrawnRun | None,
    view: str,
    members: Iterable[str] | None = None,
    frame: Frame | None = None,
) -> Facts:
    """The facts of one drawing of ``graph`` (``members`` in full, their neighbours greyed)."""
    names = graph.names
    plan = graph.plan
    member_set = frozenset(names if members is None else members)
    uses = _uses(graph)
    boundary = _boundary(graph, member_set, uses) if members is not None else frozenset()
    visible = [n for n in names if n in member_set or n in boundary]
    grads = run is not None and view != "forward" and has_gradients(run)
    outputs = set(graph.outputs)
    return Facts(
        graph=graph,
        run=run,
        view=view,
        frame=frame,
        members=member_set,
        boundary=boundary,
        shapes=_shapes(graph, run, visible),
        saved=frozenset(names[i] for i in plan.saved_values),
        released=frozenset(run.released()) if run is not None else frozenset(),
        last_use=_last_use(graph),
        steps=_steps(graph, run, visible),
        grads=grads,
        contributions=(
            {n: run.contributions(n) for n in visible}
            if grads and run is not None and run.keep_values
            else None
        ),
        uses={n: uses[n] for n in visible},
        fan_out=frozenset(n for n in visible if len(uses[n]) + (n in outputs) > 1),
        ids={name: quote_id(name) for name in names},
        extras=_extra_ids(graph, member_set),
    )


def _uses(graph: DrawnGraph) -> dict[str, tuple[tuple[str, int], ...]]:
    """Each node's uses ``(consumer, position)`` in schedule order, from the plan."""
    names = graph.names
    return {
        names[index]: tuple((names[c], k) for c, k in node_uses)
        for index, node_uses in enumerate(graph.plan.uses)
    }


def _boundary(
    graph: DrawnGraph, members: frozenset[str], uses: dict[str, tuple[tuple[str, int], ...]]
) -> frozenset[str]:
    """The operands and consumers of ``members`` that are not members themselves."""
    found: set[str] = set()
    for name in members:
        found.update(o for o in graph.spec(name).operands if isinstance(o, str))
        found.update(c for c, _ in uses[name])
    return frozenset(found - members)


def _shapes(graph: DrawnGraph, run: DrawnRun | None, visible: list[str]) -> dict[str, str]:
    if run is not None:
        return {n: format_shape(run.shape(n)) for n in visible}
    try:
        static = static_shapes(graph)  # type: ignore[arg-type]
    except ShapeError:  # draw it anyway: the picture is how one finds the culprit
        static = dict.fromkeys(graph.names)
    return {n: "?" if s is None else format_shape(s) for n, s in static.items()}


def _last_use(graph: DrawnGraph) -> dict[str, int]:
    """The forward step after which each released value goes."""
    names = graph.names
    return {
        names[index]: number
        for number, step in enumerate(graph.plan.forward_steps, start=1)
        for index in step.release
    }


def _steps(
    graph: DrawnGraph, run: DrawnRun | None, visible: list[str]
) -> dict[str, tuple[int, int | None]]:
    """``(forward step, backward step)`` of each node drawn (inputs: step 0)."""
    if run is not None:
        return {n: run.step(n) for n in visible}
    names = graph.names
    steps: dict[str, tuple[int, int | None]] = {
        names[s.node]: (k, None) for k, s in enumerate(graph.plan.forward_steps, start=1)
    }
    steps.update({n: (0, None) for n in graph.inputs})
    return steps


def _extra_ids(graph: DrawnGraph, members: frozenset[str]) -> dict[tuple[str, str], str]:
    """Ids for the extra nodes (gradient sums, seeds, legend) that no node name can take."""
    taken = set(graph.names)

    def fresh(base: str) -> str:
        candidate = base
        while candidate in taken:
            candidate += "'"
        taken.add(candidate)
        return quote_id(candidate)

    ids = {("sum", name): fresh(f"∑ {name}") for name in graph.names if name in members}
    ids.update({("seed", name): fresh(f"seed {name}") for name in graph.outputs})
    ids[("legend", "")] = fresh("legend")
    return ids
