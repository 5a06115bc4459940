"""What a drawing reads of a graph, its plan and a run, as protocols.

Drawings never import the builder: they read the frozen record of a graph
(names, ops, operands, params, stages, inputs, outputs), the plan's facts
(order, uses, saved values, release points) and, optionally, a run. Anything
with these attributes can be drawn.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> isinstance(g, DrawnGraph), isinstance(g.plan, DrawnPlan)
(True, True)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

__all__ = ["NodeRecord", "DrawnPlan", "DrawnGraph", "DrawnRun"]


class NodeRecord(Protocol):
    """One node: ``operands`` holds node names and literal numbers, in order."""

    @property
    def name(self) -> str: ...

    @property
    def op(self) -> str: ...

    @property
    def operands(self) -> tuple[str | float, ...]: ...

    @property
    def params(self) -> Mapping[str, Any]: ...

    @property
    def stage(self) -> str | None: ...


class _Step(Protocol):
    @property
    def node(self) -> int: ...

    @property
    def release(self) -> tuple[int, ...]: ...


@runtime_checkable
class DrawnPlan(Protocol):
    """The scheduler's facts, by node index: order, uses ``(consumer, position)``,
    the values the backward pass reads, and after which step the others are released."""

    @property
    def order(self) -> tuple[int, ...]: ...

    @property
    def uses(self) -> tuple[tuple[tuple[int, int], ...], ...]: ...

    @property
    def saved_values(self) -> tuple[int, ...]: ...

    @property
    def forward_steps(self) -> Sequence[_Step]: ...


@runtime_checkable
class DrawnGraph(Protocol):
    """A frozen graph: its records in definition order, lookups and its plan."""

    name: str

    @property
    def names(self) -> tuple[str, ...]: ...

    @property
    def nodes(self) -> tuple[NodeRecord, ...]: ...

    @property
    def inputs(self) -> tuple[str, ...]: ...

    @property
    def outputs(self) -> tuple[str, ...]: ...

    @property
    def stages(self) -> tuple[str, ...]: ...

    @property
    def plan(self) -> DrawnPlan: ...

    def spec(self, node: int | str) -> NodeRecord: ...

    def __len__(self) -> int: ...

    def __contains__(self, name: object) -> bool: ...


@runtime_checkable
class DrawnRun(Protocol):
    """One execution: values, gradients, per-edge gradients, steps and shapes."""

    keep_values: bool

    @property
    def graph(self) -> DrawnGraph: ...

    def value(self, name: str) -> Any: ...

    def grad(self, name: str) -> Any: ...

    def contributions(self, name: str) -> list[tuple[str, int, Any]]: ...

    def released(self) -> tuple[str, ...]: ...

    def step(self, name: str) -> tuple[int, int | None]: ...

    def shape(self, name: str) -> tuple[int, ...]: ...
