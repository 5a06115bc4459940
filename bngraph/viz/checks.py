"""A gradient check painted on the graph: each node's verdict, from a gradcheck report.

``gradcheck`` compares every input's gradient with central differences; when one
disagrees it also checks every node's own rules at the node's operand values and
keeps the nodes that disagree (``report.suspects``). So a failing report says,
for every op node, whether its rules agree (it was checked and is not a
suspect) or disagree; a passing one says that the inputs' gradients agree, and
leaves the op nodes not checked on their own. Inputs take their row's verdict.

>>> import bngraph as bg
>>> from bngraph.testing import gradcheck
>>> g = bg.library.get("batchnorm")
>>> verdicts = check_verdicts(g.ir, gradcheck(g, bg.library.example("batchnorm"), seed=0))
>>> verdicts["x"].status, verdicts["xmu"].status
('agree', 'unchecked')
"""

from __future__ import annotations

from typing import Any, Protocol

from ..formatting import format_index, format_number
from ..ir import INPUT, IR
from .facts import Verdict

__all__ = ["CheckReport", "check_verdicts", "report_of"]


class CheckReport(Protocol):
    """What a drawing reads of a gradcheck report: ``ok``, a row per input, suspects."""

    @property
    def ok(self) -> bool: ...

    @property
    def rows(self) -> tuple[Any, ...]: ...

    @property
    def suspects(self) -> tuple[Any, ...]: ...


def report_of(check: Any) -> CheckReport:
    """The report itself, or the one a ``GradcheckError`` carries."""
    return getattr(check, "report", check)  # type: ignore[no-any-return]


def _input_lines(row: Any) -> tuple[str, ...]:
    verdict = "agrees" if row.ok else "DISAGREES"
    return (
        f"gradcheck: the gradient of {row.input} {verdict} with central differences",
        f"max abs error {format_number(row.max_abs)}, max rel error {format_number(row.max_rel)}"
        f" at {format_index(row.worst_index)}: analytic {format_number(row.analytic)},"
        f" numeric {format_number(row.numeric)}",
    )


def _suspect_line(suspect: Any) -> str:
    return (
        f"operand {suspect.operand} ({suspect.operand_name}): analytic "
        f"{format_number(suspect.analytic)}, numeric {format_number(suspect.numeric)}, "
        f"error {format_number(suspect.max_abs)}"
    )


def check_verdicts(ir: IR, check: Any) -> dict[str, Verdict]:
    """Every node's verdict from ``check`` (a ``GradcheckReport`` or a ``GradcheckError``)."""
    report = report_of(check)
    rows = {row.input: row for row in report.rows}
    suspects: dict[str, list[Any]] = {}
    for suspect in report.suspects:
        suspects.setdefault(suspect.node, []).append(suspect)
    verdicts = {}
    for spec in ir.nodes:
        name = spec.name
        if spec.op == INPUT:
            row = rows.get(name)
            if row is not None:
                verdicts[name] = Verdict("agree" if row.ok else "disagree", _input_lines(row))
            else:
                verdicts[name] = Verdict("unchecked", ("gradcheck: not checked",))
        elif name in suspects:
            lines = ["gradcheck: its rules DISAGREE with central differences of its forward"]
            verdicts[name] = Verdict("disagree", (*lines, *map(_suspect_line, suspects[name])))
        elif not report.ok:
            verdicts[name] = Verdict(
                "agree", ("gradcheck: its rules agree with central differences of its forward",)
            )
        else:
            verdicts[name] = Verdict(
                "unchecked",
                ("gradcheck: not checked on its own (every input's gradient agrees)",),
            )
    return verdicts
