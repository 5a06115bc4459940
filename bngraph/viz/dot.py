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

import graphviz

from ..errors import BngraphError, closest
from .assemble import full_view
from .facts import Frame, has_gradients
from .labels import formula
from .model import DrawnGraph, DrawnRun

__all__ = [
    "VIEWS",
    "COLLAPSE_THRESHOLD",
    "VizError",
    "Frame",
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


def _check_stage(graph: DrawnGraph, stage: str) -> str:
    if stage not in graph.stages:
        raise VizError(
            f"graph {graph.name!r} has no stage {stage!r}{closest(stage, graph.stages)}; "
            f"stages: {', '.join(graph.stages) or '(none)'}"
        )
    return stage


def to_graphviz(
    graph: DrawnGraph,
    run: DrawnRun | None = None,
    view: str | None = None,
    *,
    collapse: bool | None = None,
    stage: str | None = None,
    threshold: int = COLLAPSE_THRESHOLD,
    legend: bool = True,
) -> graphviz.Digraph:
    """Draw ``graph`` (and ``run``) as a ``graphviz.Digraph``.

    ``view`` is ``"forward"``, ``"backward"`` or ``"both"`` (default: both for a
    run with gradients, else forward). Graphs of more than ``threshold`` nodes are
    drawn collapsed, one node per stage, unless ``collapse=False``; ``stage=``
    draws that one stage in full with its neighbours.
    """
    from .collapse import collapsed_view

    _ = graph.plan  # a drawing is of a fixed definition: reading the plan freezes it
    if run is not None and run.graph is not graph:
        raise VizError(f"the run given is a run of graph {run.graph.name!r}, not of {graph.name!r}")
    view = check_view(view if view is not None else default_view(run))
    if stage is not None:
        members = [s.name for s in graph.nodes if s.stage == _check_stage(graph, stage)]
        return full_view(graph, run, view, members=members, legend=legend)
    if collapse is None and len(graph) > threshold:
        return collapsed_view(graph, run, view, threshold=threshold)
    if collapse:
        return collapsed_view(graph, run, view)
    return full_view(graph, run, view, legend=legend)
