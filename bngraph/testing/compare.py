"""Two graphs of one function, compared output by output and gradient by gradient.

``compare(g1, g2, inputs)`` runs both on the same inputs, seeds both backward
passes with the same vectors, and reports for every output and every input
gradient the largest absolute, relative and ulp difference. Where the graphs
share node names it also finds where they first part: the first shared node
whose forward value differs, or, going backward, the first shared node that
sends an operand a different gradient than its twin although its own gradient
agrees (a wrong rule or a wrong decomposition at that node).

>>> import bngraph as bg
>>> report = compare(bg.library.get("batchnorm"), bg.library.get("batchnorm_composite"),
...                  bg.library.example("batchnorm"))
>>> report.ok, report.first_divergence is None
(True, True)
>>> [row.name for row in report.rows]
['out', 'x', 'gamma', 'beta', 'eps']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import BngraphError
from ..formatting import format_index, format_number, format_table, worst_index
from ..run import forward

if TYPE_CHECKING:
    from ..ir import IR
    from ..run import Run
    from ..schedule import Planned

__all__ = ["compare", "assert_graphs_match", "CompareReport", "Difference", "CompareError",
           "GraphsDifferError"]

DEFAULT_ATOL = 1e-8
DEFAULT_RTOL = 1e-6


class CompareError(BngraphError, ValueError):
    """Two graphs that cannot be compared: different inputs or outputs."""


class GraphsDifferError(BngraphError, AssertionError):
    """Raised by ``assert_graphs_match``; ``.report`` holds the comparison."""

    def __init__(self, report: CompareReport) -> None:
        super().__init__(str(report))
        self.report = report


@dataclass(frozen=True)
class Difference:
    """How one output (``kind="output"``), input gradient (``"gradient"``) or shared
    node (``"value"``, ``"node gradient"``) differs between the two graphs."""

    kind: str
    name: str
    max_abs: float
    max_rel: float
    max_ulp: float
    worst_index: tuple[int, ...]
    first: float
    second: float
    ok: bool
    first_shape: tuple[int, ...] | None = None
    second_shape: tuple[int, ...] | None = None

    @property
    def shapes_differ(self) -> bool:
        """Whether the two arrays have different shapes (then no number is compared)."""
        return self.first_shape != self.second_shape

    def cells(self) -> list[str]:
        """The row of the report's table: numbers, or both shapes when they differ."""
        if self.shapes_differ:
            return [self.kind, self.name, "-", "-", "-", "-",
                    f"shape {format_index(self.first_shape or ())}",
                    f"shape {format_index(self.second_shape or ())}", "NO"]
        return [self.kind, self.name, format_number(self.max_abs), format_number(self.max_rel),
                format_number(self.max_ulp), format_index(self.worst_index),
                format_number(self.first), format_number(self.second), "yes" if self.ok else "NO"]


@dataclass(frozen=True)
class CompareReport:
    """The comparison of two graphs on one set of inputs."""

    first_graph: str
    second_graph: str
    rows: tuple[Difference, ...]
    atol: float
    rtol: float
    nodes: tuple[Difference, ...] = field(default=())
    first_divergence: str | None = None
    note: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every output and input gradient agrees within the tolerances."""
        return all(row.ok for row in self.rows)

    def row(self, name: str, kind: str = "gradient") -> Difference:
        """The row of one output (``kind="output"``) or input gradient."""
        return next(r for r in self.rows if r.name == name and r.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready data."""
        data = asdict(self)
        data["ok"] = self.ok
        for row in (*data["rows"], *data["nodes"]):
            row["worst_index"] = list(row["worst_index"])
            for key in ("first_shape", "second_shape"):
                row[key] = None if row[key] is None else list(row[key])
            if row["first_shape"] != row["second_shape"]:  # nothing compared: no numbers
                row.update(max_abs=None, max_rel=None, max_ulp=None, first=None, second=None)
        return data

    def __str__(self) -> str:
        verdict = "agree" if self.ok else "DIFFER"
        header = ["", "name", "max abs", "max rel", "max ulp", "worst index",
                  self.first_graph, self.second_graph, "ok"]
        shown = [*self.rows, *(n for n in self.nodes if not n.ok)]
        lines = [
            f"graphs {self.first_graph!r} and {self.second_graph!r} {verdict} "
            f"(atol={self.atol:g}, rtol={self.rtol:g})",
            format_table(header, [r.cells() for r in shown]),
        ]
        lines += [
            f"{r.kind} {r.name!r}: the shapes differ, {format_index(r.first_shape or ())} in "
            f"{self.first_graph!r} against {format_index(r.second_shape or ())} in "
            f"{self.second_graph!r}"
            for r in shown if r.shapes_differ
        ]
        if self.note:
            lines.append(self.note)
        if self.first_divergence:
            lines.append(f"they first part at {self.first_divergence}")
        return "\n".join(lines)


def difference(kind: str, name: str, a: Any, b: Any, atol: float, rtol: float) -> Difference:
    """Compare two arrays; ``b`` is the reference for the relative tolerance. Arrays of
    different shapes are not compared entry by entry: the difference records both shapes.

    >>> import numpy as np
    >>> d = difference("output", "y", np.float32([1, 2]), np.array([1.0, 2.0 + 2**-22]), 1e-8, 0)
    >>> d.max_ulp, d.ok
    (1.0, False)
    """
    a, b = np.asarray(a), np.asarray(b)
    shapes = (tuple(a.shape), tuple(b.shape))
    if a.shape != b.shape:  # nothing to compare entry by entry: the report says so
        return Difference(kind, name, np.inf, np.inf, np.inf, (), np.nan, np.nan, False, *shapes)
    dtype = a.dtype if a.dtype.itemsize <= b.dtype.itemsize else b.dtype
    if dtype.kind != "f":
        dtype = np.dtype(np.float64)
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    err = np.abs(a64 - b64)
    big = np.maximum(np.abs(a64), np.abs(b64))
    rel = err / np.maximum(big, np.finfo(np.float64).tiny)
    ulp = err / np.spacing(big.astype(dtype)).astype(np.float64)
    bad = ~(err <= atol + rtol * np.abs(b64))
    if a.size == 0:
        return Difference(kind, name, 0.0, 0.0, 0.0, (), 0.0, 0.0, True, *shapes)
    index = worst_index(np.where(bad, err, -1.0) if bad.any() else err)
    return Difference(
        kind, name, float(err.max()), float(rel.max()), float(np.max(ulp)), index,
        float(a64[index]), float(b64[index]), not bool(bad.any()), *shapes,
    )


def _seeds(graph: IR, run: Run, seed_grads: Any, seed: int | None) -> dict[str, Any]:
    if isinstance(seed_grads, Mapping):
        return dict(seed_grads)
    if seed_grads == "ones":
        return {o: np.ones(np.shape(run.outputs[o])) for o in graph.outputs}
    if seed_grads is not None:
        raise CompareError(
            f"seed_grads must be a mapping of output names, 'ones' or None, not {seed_grads!r}"
        )
    rng = np.random.default_rng(seed)
    return {o: rng.standard_normal(np.shape(run.outputs[o])) for o in graph.outputs}


def _check_alike(g1: IR, g2: IR) -> None:
    for what in ("inputs", "outputs"):
        one, two = getattr(g1, what), getattr(g2, what)
        if set(one) != set(two):
            raise CompareError(
                f"graphs {g1.name!r} and {g2.name!r} have different {what}: "
                f"{', '.join(one)} against {', '.join(two)}"
            )


def compare(
    g1: Planned,
    g2: Planned,
    inputs: Mapping[str, Any],
    seed_grads: Mapping[str, Any] | str | None = None,
    *,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int | None = 0,
    check_finite: bool = True,
) -> CompareReport:
    """Run both graphs forward and backward on ``inputs`` and report their differences.

    ``seed_grads`` seeds the backward passes: a mapping ``{output: array}``,
    ``"ones"``, or ``None`` for standard normal vectors drawn with ``seed``
    (ones can hide differences that sum to zero). ``g2`` is the reference of
    the relative tolerance: an entry agrees when ``|a - b| <= atol + rtol * |b|``.
    """
    ir1, ir2 = g1.plan.ir, g2.plan.ir
    _check_alike(ir1, ir2)
    run1 = forward(g1, inputs, keep_values=True, check_finite=check_finite)
    run2 = forward(g2, inputs, keep_values=True, check_finite=check_finite)
    rows = [difference("output", o, run1.outputs[o], run2.outputs[o], atol, rtol)
            for o in ir1.outputs]
    if any(r.shapes_differ for r in rows):  # no seed fits both backward passes
        return CompareReport(
            ir1.name, ir2.name, tuple(rows), atol, rtol, (),
            _divergence(run1, run2, atol, rtol),  # found going forward, before any gradient
            "gradients not compared: the outputs differ in shape, so no backward seed fits both",
        )
    seeds = _seeds(ir1, run1, seed_grads, seed)
    grads1 = run1.backward(seeds, check_finite=check_finite)
    grads2 = run2.backward(seeds, check_finite=check_finite)
    rows += [difference("gradient", i, grads1[i], grads2[i], atol, rtol)
             for i in ir1.inputs if i in grads1]
    shared = [n for n in g1.plan.names_in_order
              if n in ir2 and n not in ir1.inputs and n not in ir1.outputs]
    nodes = []
    for name in shared:
        nodes.append(difference("value", name, run1.value(name), run2.value(name), atol, rtol))
        nodes.append(
            difference("node gradient", name, run1.grad(name), run2.grad(name), atol, rtol)
        )
    return CompareReport(
        ir1.name, ir2.name, tuple(rows), atol, rtol, tuple(nodes),
        _divergence(run1, run2, atol, rtol),
    )


def _agree(a: Any, b: Any, atol: float, rtol: float) -> bool:
    return difference("", "", a, b, atol, rtol).ok


def _divergence(run1: Run, run2: Run, atol: float, rtol: float) -> str | None:
    """Where the graphs first part, as a sentence naming the node; None if nowhere."""
    ir1, ir2 = run1.plan.ir, run2.plan.ir
    common = [ir1.names[i] for i in run1.plan.order
              if ir1.names[i] in ir2 and ir1.op(i) is not None]
    for name in common:
        values = difference("", "", run1.value(name), run2.value(name), atol, rtol)
        if values.shapes_differ:
            return (f"{ir1.describe(ir1.index[name])}: its shapes differ, "
                    f"{format_index(values.first_shape or ())} against "
                    f"{format_index(values.second_shape or ())}")
        if not values.ok:
            return f"{ir1.describe(ir1.index[name])}: its forward values differ"
    for name in reversed(common):
        if not _agree(run1.grad(name), run2.grad(name), atol, rtol):
            continue
        for operand in dict.fromkeys(o for o in ir1.spec(name).operands if isinstance(o, str)):
            if operand not in ir2:
                continue
            sent1 = _sent(run1, operand, name)
            sent2 = _sent(run2, operand, name)
            if sent2 is not None and not _agree(sent1, sent2, atol, rtol):
                return (f"{ir1.describe(ir1.index[name])}: its gradient agrees, but the "
                        "gradient it sends "
                        f"to {operand!r} differs")
    for name in reversed(common):
        if not _agree(run1.grad(name), run2.grad(name), atol, rtol):
            return (f"{ir1.describe(ir1.index[name])}: its gradient differs "
                    "(no shared node explains it)")
    return None


def _sent(run: Run, operand: str, consumer: str) -> Any:
    """The total gradient ``consumer`` sends to ``operand`` (over all its positions)."""
    parts = [g for c, _k, g in run.contributions(operand) if c == consumer]
    return sum(parts[1:], parts[0]) if parts else None


def assert_graphs_match(
    g1: Planned,
    g2: Planned,
    inputs: Mapping[str, Any],
    seed_grads: Mapping[str, Any] | str | None = None,
    *,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    seed: int | None = 0,
    check_finite: bool = True,
) -> CompareReport:
    """``compare``, raising ``GraphsDifferError`` with the report's table when they differ.

    >>> import bngraph as bg
    >>> _ = assert_graphs_match(bg.library.get("batchnorm"), bg.library.get("batchnorm_composite"),
    ...                         bg.library.example("batchnorm"))
    """
    __tracebackhide__ = True  # pytest shows the report, not this function's source
    report = compare(g1, g2, inputs, seed_grads, atol=atol, rtol=rtol, seed=seed,
                     check_finite=check_finite)
    if not report.ok:
        raise GraphsDifferError(report)
    return report
