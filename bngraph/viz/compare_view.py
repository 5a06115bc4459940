"""Two graphs of one function drawn side by side, their differences painted on them.

``render_compare(g1, g2, inputs, path)`` runs ``bngraph.testing.compare`` and draws
both graphs in one picture: nodes that the two graphs share (by name) sit on the
same rank, every shared node, output and input is outlined by whether its value
and gradient agree with its twin (its tooltip has the largest absolute, relative
and ulp difference), and the node where the two graphs first part is filled and
marked.

>>> import bngraph as bg, os, tempfile
>>> g1, g2 = bg.library.get("batchnorm"), bg.library.get("batchnorm_composite")
>>> path = os.path.join(tempfile.mkdtemp(), "same.dot")
>>> path = render_compare(g1, g2, bg.library.example("batchnorm"), path)
>>> "batchnorm against batchnorm_composite: they agree" in open(path).read()
True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import graphviz

from ..formatting import format_index, format_number
from ..ir import IR
from .assemble import body, cluster, digraph, header
from .escape import quote_id
from .facts import Verdict, gather
from .model import Planned, plan_of
from .render import output_format, write
from .statements import legend_table
from .style import reading_direction

__all__ = ["compare_graphviz", "render_compare", "write_comparison", "COMPARE_LEGEND"]

COMPARE_LEGEND = (
    ("agree", "value and gradient agree with the other graph"),
    ("disagree", "value or gradient differs"),
    ("first", "where the two graphs first part"),
    ("unchecked", "no counterpart in the other graph"),
)

_KINDS = {"output": "value", "value": "value", "gradient": "gradient", "node gradient": "gradient"}


def _difference_line(row: Any) -> str:
    what = _KINDS.get(row.kind, row.kind)
    if not row.ok and getattr(row, "shapes_differ", False):
        return f"{what}: the shapes differ"
    verdict = "agrees" if row.ok else "DIFFERS"
    return (
        f"{what} {verdict}: max abs {format_number(row.max_abs)}, max rel "
        f"{format_number(row.max_rel)}, max ulp {format_number(row.max_ulp)} at "
        f"{format_index(row.worst_index)}"
    )


def first_parting(ir: IR, report: Any) -> str | None:
    """The node of ``ir`` (the first graph) where the report says the graphs first part."""
    sentence = report.first_divergence
    if not sentence:
        return None
    for index, name in enumerate(ir.names):
        if sentence.startswith(ir.describe(index) + ":"):
            return name
    return None


def compare_verdicts(ir: IR, report: Any, first: str | None) -> dict[str, Verdict]:
    """Each node's verdict from a ``CompareReport``: its rows (output, input gradient,
    value and gradient of a shared node) all agree, one differs, or it has none."""
    rows: dict[str, list[Any]] = {}
    for row in (*report.rows, *report.nodes):
        rows.setdefault(row.name, []).append(row)
    verdicts = {}
    for name in ir.names:
        found = rows.get(name, [])
        if name == first:
            status = "first"
        elif not found:
            status = "unchecked"
        else:
            status = "agree" if all(r.ok for r in found) else "disagree"
        lines = [_difference_line(r) for r in found] or ["no counterpart in the other graph"]
        if name == first:
            lines.insert(0, f"the graphs first part here: {report.first_divergence}")
        verdicts[name] = Verdict(status, tuple(lines))
    return verdicts


def compare_graphviz(g1: Planned, g2: Planned, report: Any) -> graphviz.Digraph:
    """Both graphs side by side, each in a cluster, shared names on one rank, and the
    verdicts of ``report`` (a ``CompareReport`` of ``g1`` against ``g2``)."""
    plans = [plan_of(g1), plan_of(g2)]
    first = first_parting(plans[0].ir, report)
    second = first if first is not None and first in plans[1].ir else None
    rankdir = reading_direction("forward")
    lines = []
    for number, (plan, parting) in enumerate(zip(plans, (first, second), strict=True), start=1):
        verdicts = compare_verdicts(plan.ir, report, parting)
        facts = gather(plan, None, "forward", checks=verdicts, check_legend=COMPARE_LEGEND,
                       prefix=f"{number}:")
        inner = body(facts, rankdir, prefix=f"g{number}_")
        lines += cluster(f"cluster_graph{number}", f"{number}: {plan.ir.name}", inner, rankdir, 14)
        legend = legend_table(facts)
    shared = [n for n in plans[0].ir.names if n in plans[1].ir]
    lines += [f'{{rank=same; "1:{_raw(n)}"; "2:{_raw(n)}";}}' for n in shared]
    verdict = "agree" if report.ok else "differ"
    title = f"{plans[0].ir.name} against {plans[1].ir.name}: they {verdict}"
    if report.first_divergence:
        title += f"\nthey first part at {report.first_divergence}"
    return digraph(header(title, rankdir, False, legend) + lines)


def _raw(name: str) -> str:
    """A name as it sits inside a quoted DOT id (``quote_id`` without the quotes)."""
    return quote_id(name)[1:-1]


def render_compare(
    g1: Planned,
    g2: Planned,
    inputs: Mapping[str, Any],
    path: str | os.PathLike[str],
    seed_grads: Mapping[str, Any] | str | None = None,
    **options: Any,
) -> str:
    """Compare ``g1`` with ``g2`` on ``inputs`` (``bngraph.testing.compare``, which takes
    ``seed_grads`` and ``options``: ``atol``, ``rtol``, ``seed``) and draw both to
    ``path`` (svg, png, pdf or dot); return the path."""
    from ..testing.compare import compare

    output_format(path)  # a bad suffix is said before anything is run
    report = compare(g1, g2, inputs, seed_grads, **options)
    return write_comparison(g1, g2, report, path)


def write_comparison(g1: Planned, g2: Planned, report: Any, path: str | os.PathLike[str]) -> str:
    """Draw ``report``, a comparison of ``g1`` with ``g2``, to ``path``; return the path."""
    return write(compare_graphviz(g1, g2, report), path)
