"""The step-by-step viewer: one self-contained page that plays a run.

``render_steps(run, directory)`` writes ``index.html``: the graph drawn once (the
both view, every value, gradient and backward edge in place), and for each step
only what is highlighted, shown or greyed changes, so nothing moves. Previous
and next, a slider and the keyboard (ArrowLeft/ArrowRight, Home/End) step; the
caption says what the step computes, and for a backward step the rule it sends
to each operand. The picture pans (drag) and zooms (wheel, "fit"); by default
no text is smaller than 9 px, so a large graph starts zoomed on the current
step. Hovering a node shows its full value and gradient. Every node element
carries ``data-node="NAME"``. Graphs above the collapse threshold start
collapsed (boxes carry ``data-stage="LABEL"``), and clicking a stage opens it.
The page holds its pictures, data, script and style inline: it works offline,
from ``file://``; ``index.html#step=12`` opens it at step 12.

>>> import bngraph as bg, os, tempfile
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(keep_values=True, **bg.library.example("batchnorm"))
>>> _ = run.backward(run.outputs["out"])
>>> path = render_steps(run, tempfile.mkdtemp())
>>> os.path.basename(path)
'index.html'
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from .assemble import drawing
from .collapse import box_tooltip, collapsed_view
from .dot import COLLAPSE_THRESHOLD, default_view
from .facts import gather, restrict
from .labels import node_tooltip
from .measure import MIN_TEXT_PX
from .model import DrawnRun
from .render import pipe
from .stage_graph import stage_graph
from .svg_tags import tag_svg
from .timeline import Timeline, timeline
from .viewer_page import viewer_page

__all__ = ["render_steps", "viewer_data"]


def _picture(
    digraph: Any, names: tuple[str, ...], outputs: tuple[str, ...], boxes: list[str]
) -> dict[str, Any]:
    """A picture for the page: its tagged SVG."""
    return {"svg": tag_svg(pipe(digraph, "svg"), names, outputs, boxes)}


def _number(data: dict[str, Any]) -> list[str]:
    """Move the pictures' SVG out of ``data`` (each picture keeps a number); return them."""
    svgs: list[str] = []
    for picture in [data["main"], *data["pictures"]]:
        if picture is not None:
            picture["id"] = len(svgs)
            svgs.append(picture.pop("svg"))
    return svgs


def _known(t: Timeline, names: tuple[str, ...]) -> dict[str, Any]:
    """When each thing becomes known, by node index (the page's compact form)."""
    position = {name: k for k, name in enumerate(names)}
    return {
        "valueAt": [t.value_at.get(n) for n in names],
        "gradAt": [t.grad_at.get(n) for n in names],
        "edgeAt": {f"{position[c]}_{k}": at for (c, k), at in t.edge_at.items()},
        "firstBackward": t.first_backward,
    }


def viewer_data(run: DrawnRun, *, collapse: bool | None = None,
                threshold: int = COLLAPSE_THRESHOLD) -> dict[str, Any]:
    """Everything the page shows: pictures, steps, and when each thing becomes known."""
    plan = run.plan
    names, outputs = plan.ir.names, plan.ir.outputs
    view = default_view(run)
    t = timeline(run)
    facts = gather(plan, run, view, tagged=True, steps=t.node_steps)
    data: dict[str, Any] = {
        "nodes": list(names),
        "steps": [{"phase": s.phase, "node": s.node, "caption": s.caption} for s in t.steps],
        "details": [node_tooltip(facts, n) for n in names],
        "minText": MIN_TEXT_PX,
        **_known(t, names),
    }
    data["sumAt"] = [
        min((t.edge_at[use] for use in facts.grad_uses[n] if use in t.edge_at), default=None)
        for n in names
    ]
    if not (collapse or (collapse is None and len(names) > threshold)):
        data.update(boxes=[], boxOf=None, pictures=[], boxDetails=[], boxStart=[], boxSizes=[])
        data["main"] = _picture(drawing(facts), names, outputs, [])
        return data
    sg = stage_graph(plan)
    boxes = list(sg.members)
    box_of = {n: k for k, box in enumerate(boxes) for n in sg.members[box]}
    data.update(
        boxes=boxes,
        boxOf=[box_of[n] for n in names],
        boxStart=[min(t.value_at[n] for n in sg.members[box]) for box in boxes],
        boxDetails=[box_tooltip(sg, box) for box in boxes],
        boxSizes=[len(sg.members[box]) for box in boxes],
    )
    overview = collapsed_view(plan, run, view, threshold=threshold, tagged=True)
    data["main"] = _picture(overview, names, outputs, boxes)

    def stage_picture(box: str) -> dict[str, Any] | None:
        if len(sg.members[box]) > threshold:
            return None  # too large to lay out quickly: draw it with to_graphviz(stage=...)
        return _picture(drawing(restrict(facts, sg.members[box])), names, outputs, boxes)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # dot runs in processes
        data["pictures"] = list(pool.map(stage_picture, boxes))
    return data


def render_steps(
    run: DrawnRun,
    directory: str | os.PathLike[str],
    *,
    collapse: bool | None = None,
    threshold: int = COLLAPSE_THRESHOLD,
) -> str:
    """Write the viewer of ``run`` as ``index.html`` in ``directory``; return its path.

    Run the graph with ``keep_values=True`` to see every value and the gradient sent
    along every edge, and call ``run.backward()`` first to include the backward
    steps. Graphs of more than ``threshold`` nodes start collapsed (``collapse=``
    forces either way).
    """
    data = viewer_data(run, collapse=collapse, threshold=threshold)
    page = viewer_page(run.plan.ir.name, data, _number(data))
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    index = target / "index.html"
    index.write_text(page, encoding="utf-8")
    return str(index)
