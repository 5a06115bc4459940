"""Comparing two graphs as definitions: ``same_graph(a, b)`` and ``differences(a, b)``.

Two graphs are the same when they have the same name, the same outputs in the
same order, and the same nodes: for each name the same op, the same operands in
order, the same parameters and the same stage. Numbers are compared with their
type (the exponent ``2`` is not ``2.0``) and bit for bit (``-0.0`` is not
``0.0``). The order in which nodes were defined does not matter.

>>> import bngraph as bg
>>> a = bg.parse("input x\\ny = -x\\noutput y")
>>> b = bg.parse("input x\\ny = neg(x)\\noutput y")
>>> same_graph(a, b)
True
>>> differences(a, bg.parse("input x\\ny = x ** 2.0\\noutput y"))
["node 'y': op neg != pow", "node 'y': params {} != {'exponent': 2.0}"]
"""

from __future__ import annotations

from typing import Any

from ..ir import HasIR, NodeSpec

__all__ = ["same_graph", "differences"]


def same_graph(a: HasIR, b: HasIR) -> bool:
    """Whether ``a`` and ``b`` define the same graph (see the module's docstring)."""
    return not differences(a, b)


def differences(first: HasIR, second: HasIR) -> list[str]:
    """What differs between two graphs (or IRs), one line per difference (empty when the
    same); reading a graph's IR freezes it."""
    a, b = first.ir, second.ir
    found: list[str] = []
    if a.name != b.name:
        found.append(f"graph name {a.name!r} != {b.name!r}")
    if a.outputs != b.outputs:
        found.append(f"outputs {a.outputs} != {b.outputs}")
    specs_a = {spec.name: spec for spec in a.nodes}
    specs_b = {spec.name: spec for spec in b.nodes}
    for name in specs_a.keys() - specs_b.keys():
        found.append(f"node {name!r} only in the first graph")
    for name in specs_b.keys() - specs_a.keys():
        found.append(f"node {name!r} only in the second graph")
    for name in specs_a.keys() & specs_b.keys():
        found += _node_differences(specs_a[name], specs_b[name])
    return sorted(found)


def _node_differences(a: NodeSpec, b: NodeSpec) -> list[str]:
    found = []
    if a.op != b.op:
        found.append(f"node {a.name!r}: op {a.op} != {b.op}")
    if _key(a.operands) != _key(b.operands):
        found.append(f"node {a.name!r}: operands {a.operands} != {b.operands}")
    if _key(dict(a.params)) != _key(dict(b.params)):
        found.append(f"node {a.name!r}: params {dict(a.params)} != {dict(b.params)}")
    if a.stage != b.stage:
        found.append(f"node {a.name!r}: stage {a.stage!r} != {b.stage!r}")
    return found


def _key(value: Any) -> Any:
    """A comparison key that tells types apart and compares floats bit for bit."""
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_key(v) for v in value))
    if isinstance(value, float):
        return ("float", value.hex())
    return (type(value).__name__, value)
