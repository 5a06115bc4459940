"""How much memory a command may use, and how much a run of a graph will need.

The need is estimated before anything is allocated, from the shapes every node
will have (``bngraph.shapes.static_shapes`` with the sizes bound so far): each
node holds a value and, after the backward pass, a gradient of its size. Nodes
whose shape cannot be known ahead are left out, so the estimate is a floor for them.

>>> import bngraph as bg
>>> need = run_bytes(bg.library.get("batchnorm"), {"N": 1000, "D": 100}, 8)
>>> need.total, need.largest, need.largest_shape
(9611216, 'x', (1000, 100))
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..schedule import Planned
from ..shapes import static_shapes
from .arrays import MemoryLimit
from .numbers import format_bytes, parse_bytes

__all__ = ["machine_memory", "memory_limit", "run_bytes", "RunNeed", "check_fits"]


def machine_memory() -> int | None:
    """The physical memory of this machine in bytes (``None`` where the OS does not say)."""
    try:
        pages, size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return pages * size if pages > 0 and size > 0 else None


def memory_limit(text: str | None) -> MemoryLimit:
    """``--max-memory`` when given, else the machine's memory (no limit where unknown)."""
    if text is not None:
        return MemoryLimit(parse_bytes(text, "--max-memory"), "--max-memory")
    machine = machine_memory()
    if machine is None:
        return MemoryLimit(2**63, "no limit: the memory of this machine is unknown")
    return MemoryLimit(machine, "the memory of this machine; --max-memory changes it")


@dataclass(frozen=True)
class RunNeed:
    """Bytes a run will hold at most (values and gradients), and its largest node."""

    total: int
    largest: str | None
    largest_shape: tuple[int, ...] | None
    largest_bytes: int


def run_bytes(graph: Planned, dims: dict[str, int], itemsize: int) -> RunNeed:
    """Twice the bytes of every node whose shape is known (its value and its gradient)."""
    total, largest_bytes = 0, -1
    largest: str | None = None
    largest_shape: tuple[int, ...] | None = None
    for name, shape in static_shapes(graph, dims).items():
        sizes = tuple(d for d in shape or () if isinstance(d, int))
        if shape is None or len(sizes) != len(shape):  # unknown, or a symbol not bound yet
            continue
        nbytes = math.prod(sizes) * itemsize
        total += 2 * nbytes
        if nbytes > largest_bytes:
            largest, largest_shape, largest_bytes = name, sizes, nbytes
    return RunNeed(total, largest, largest_shape, max(largest_bytes, 0))


def check_fits(graphs: Sequence[Planned], dims: dict[str, int], itemsize: int,
               memory: MemoryLimit) -> None:
    """Refuse, before anything is allocated, runs of ``graphs`` (one, or two for a
    comparison) that together need more than ``memory`` allows; the message names the
    largest node (an input, or an op's result), its shape and the sizes."""
    needs = [(graph, run_bytes(graph, dims, itemsize)) for graph in graphs]
    total = sum(need.total for _, need in needs)
    if total <= memory.limit:
        return
    graph, need = max(needs, key=lambda pair: pair[1].largest_bytes)
    assert need.largest is not None
    spec = graph.plan.ir.spec(need.largest)
    what = (f"input {need.largest!r}" if spec.op == "input"
            else f"node {need.largest!r} (op {spec.op})")
    names = " and ".join(repr(g.plan.name) for g in graphs)
    raise InputError(
        f"{'graphs' if len(graphs) > 1 else 'graph'} {names} would need about "
        f"{format_bytes(total)} for values and gradients "
        f"({what} alone has shape {need.largest_shape}: {format_bytes(need.largest_bytes)}), "
        f"more than the memory allowed, {memory.describe()}"
    )
