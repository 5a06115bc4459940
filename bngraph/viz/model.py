"""What a drawing reads: the IR and the plan of a graph, and optionally a run.

Drawings never import the builder. They take anything that has a plan (a
``Graph``, or a ``Plan`` itself) and read its frozen record (``plan.ir``: names,
ops, operands, params, stages, inputs, outputs) and the plan's facts (order,
uses, saved values, release points, step numbers). A run is read through the
``DrawnRun`` protocol.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> plan_of(g) is g.plan, plan_of(g.plan) is g.plan
(True, True)
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ..ir import IR
from ..schedule import Plan, Planned

__all__ = ["IR", "Plan", "Planned", "DrawnRun", "plan_of"]


@runtime_checkable
class DrawnRun(Protocol):
    """One execution: values, gradients, per-edge gradients, steps and shapes."""

    keep_values: bool

    @property
    def plan(self) -> Plan: ...

    def value(self, name: str) -> Any: ...

    def grad(self, name: str) -> Any: ...

    def contributions(self, name: str) -> list[tuple[str, int, Any]]: ...

    def released(self) -> tuple[str, ...]: ...

    def step(self, name: str) -> tuple[int, int | None]: ...

    def shape(self, name: str) -> tuple[int, ...]: ...


def plan_of(source: Planned) -> Plan:
    """The plan of a graph (reading it freezes the graph: a drawing is of a fixed
    definition), or the plan itself."""
    return source.plan
