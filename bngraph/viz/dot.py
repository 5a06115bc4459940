"""DOT text for a graph and optionally a run: ``to_graphviz``, the front of every drawing.

``to_graphviz(graph, run, view)`` draws the forward view (values, black edges),
the backward view (gradients, red edges, one visible sum where a value feeds
several consumers) or both. Each stage is a labelled cluster; inputs are
ellipses, ops boxes, outputs double-bordered; every node shows its name, op,
shape, schedule steps and, with a run, a summary of its value and gradient. Node
ids are the node names, quoted and escaped. The text is built by pure functions
(``labels`` for text, ``style`` for looks, ``statements`` and ``assemble`` for
DOT), so the same graph and run always give byte-identical DOT.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> dot = to_graphviz(g).source
>>> '"xmu" -> "sq"' in dot and 'label=<<B>5 std</B>>' in dot
True
"""

from __future__ import annotations

from typing import Any

import graphviz

from ..errors import BngraphError, closest
from .assemble import full_view
from .checks import check_verdicts
from .escape import esc_string
from .facts import has_gradients
from .labels import formula
from .model import IR, DrawnRun, Planned, plan_of
from .style import RANKDIRS

__all__ = [
    "VIEWS",
    "COLLAPSE_THRESHOLD",
    "VizError",
    "to_graphviz",
    "formula",
    "has_gradients",
    "default_view",
    "check_view",
]

VIEWS = ("forward", "backward", "both")
COLLAPSE_THRESHOLD = 200
"""Graphs with more nodes than this are drawn collapsed (one node per stage) by default:
Graphviz's layout takes seconds from about a thousand nodes."""


class VizError(BngraphError, ValueError):
    """A drawing asked for something that does not exist (a view, a stage, a format)."""


def default_view(run: DrawnRun | None) -> str:
    """``"both"`` for a run with gradients, else ``"forward"``."""
    return "both" if run is not None and has_gradients(run) else "forward"


def check_view(view: str) -> str:
    """``view`` if it is one of ``VIEWS``, else a ``VizError`` listing them."""
    if view not in VIEWS:
        raise VizError(f"no view {view!r}{closest(str(view), VIEWS)}; views: {', '.join(VIEWS)}")
    return view


def check_rankdir(rankdir: str | None) -> str | None:
    """``rankdir`` if it is ``None`` or one of ``RANKDIRS``, else a ``VizError`` listing them."""
    if rankdir is not None and rankdir not in RANKDIRS:
        raise VizError(f"no rankdir {rankdir!r}; rankdirs: {', '.join(RANKDIRS)}")
    return rankdir


def _check_stage(ir: IR, stage: str) -> str:
    if stage not in ir.stages:
        raise VizError(
            f"graph {ir.name!r} has no stage {stage!r}{closest(stage, ir.stages)}; "
            f"stages: {', '.join(ir.stages) or '(none)'}"
        )
    return stage


def to_graphviz(
    graph: Planned,
    run: DrawnRun | None = None,
    view: str | None = None,
    *,
    collapse: bool | None = None,
    stage: str | None = None,
    threshold: int = COLLAPSE_THRESHOLD,
    legend: bool = True,
    rankdir: str | None = None,
    size: str | None = None,
    rules: bool = False,
    check: Any = None,
) -> graphviz.Digraph:
    """Draw ``graph`` (a graph or its plan; and ``run``) as a ``graphviz.Digraph``.

    ``view`` is ``"forward"``, ``"backward"`` or ``"both"`` (default: both for a
    run with gradients, else forward). Graphs of more than ``threshold`` nodes are
    drawn collapsed, one node per stage, unless ``collapse=False``; ``stage=``
    draws that one stage in full with its neighbours.

    Ranks run down the page (the backward view turned over, so that gradients flow
    down too); ``rankdir="LR"`` (or ``"RL"``, ``"TB"``, ``"BT"``) chooses another
    direction, and ``size="7,10"`` (inches, Graphviz's ``size``) scales the drawing
    down to fit.

    ``rules=True`` labels every backward edge with the local rule that produced it
    (``g × ivar`` on the edge from ``xhat = xmu × ivar`` to ``xmu``). ``check=`` takes
    what ``bngraph.testing.gradcheck`` returns (or the ``GradcheckError`` it raises)
    and outlines every node by whether its rules agree with central differences.
    """
    from .collapse import collapsed_view

    plan = plan_of(graph)
    ir = plan.ir
    if run is not None and run.plan is not plan:
        raise VizError(f"the run given is a run of graph {run.plan.ir.name!r}, not of {ir.name!r}")
    view = check_view(view if view is not None else default_view(run))
    check_rankdir(rankdir)
    checks = None if check is None else check_verdicts(ir, check)
    members = None
    if stage is not None:
        _check_stage(ir, stage)
        members = [name for name, s in zip(ir.names, ir.node_stages, strict=True) if s == stage]
    elif collapse or (collapse is None and len(ir) > threshold):
        automatic = threshold if collapse is None else None
        digraph = collapsed_view(plan, run, view, threshold=automatic, rankdir=rankdir)
        return _sized(digraph, size)
    digraph = full_view(
        plan, run, view, members=members, legend=legend, rankdir=rankdir, rules=rules,
        checks=checks,
    )
    return _sized(digraph, size)


def _sized(digraph: graphviz.Digraph, size: str | None) -> graphviz.Digraph:
    """``digraph`` scaled down to fit ``size`` (inches, ``"7,10"``), when given."""
    if size is not None:
        digraph.body.append(f"\tsize={esc_string(size)}\n")
    return digraph
