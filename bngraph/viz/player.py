"""The step-by-step player: one picture per scheduler step and a page that plays them.

``render_steps(run, directory)`` writes ``step-000.svg`` (the inputs), one SVG per
forward step, one per backward step, and ``index.html``: previous and next buttons,
a slider, and the step's node and formula. The page holds the pictures and its
script inline, so it works offline, straight from the file system.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(keep_values=True, **bg.library.example("batchnorm"))
>>> _ = run.backward(run.outputs["out"])
>>> [(f.phase, f.current) for f in frames(run)][:3]
[('start', None), ('forward', 'mu'), ('forward', 'xmu')]
>>> len(frames(run))
21
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .assemble import full_view
from .dot import Frame, VizError, formula, has_gradients
from .escape import html_text
from .model import DrawnRun
from .render import pipe

__all__ = ["frames", "render_steps", "MAX_FRAMES"]

MAX_FRAMES = 400
"""More steps than this would make a page too heavy to play; draw a smaller graph."""


def frames(run: DrawnRun) -> list[Frame]:
    """The moments of ``run``: the start, each forward step, then each backward step."""
    graph = run.graph
    steps = {name: run.step(name) for name in graph.names}
    inputs = frozenset(graph.inputs)
    forward = sorted((f, n) for n, (f, _) in steps.items() if f > 0)
    result = [Frame("start", None, inputs)]
    known = set(inputs)
    for _, name in forward:
        known.add(name)
        result.append(Frame("forward", name, frozenset(known)))
    if not has_gradients(run):
        return result
    backward = sorted((b, n) for n, (_, b) in steps.items() if b is not None)
    everything = frozenset(graph.names)
    done: set[str] = set()
    for _, name in backward:
        done.add(name)
        edges = frozenset(
            (consumer, position)
            for consumer in done
            for position, operand in enumerate(graph.spec(consumer).operands)
            if isinstance(operand, str)
        )
        complete = {
            n
            for n in graph.inputs
            if graph.consumers(n) and all(c in done for c in graph.consumers(n))
        }
        result.append(Frame("backward", name, everything, frozenset(done | complete), edges))
    return result


def _caption(run: DrawnRun, frame: Frame) -> dict[str, Any]:
    graph = run.graph
    if frame.current is None:
        return {"phase": "start", "node": "", "formula": "inputs given: " + ", ".join(graph.inputs)}
    text = formula(graph, frame.current)
    if frame.phase == "backward":
        operands = [o for o in graph.spec(frame.current).operands if isinstance(o, str)]
        sent = ", ".join(operands) if operands else "nothing"
        text = f"backward through {text}; gradients sent to {sent}"
    return {"phase": frame.phase, "node": frame.current, "formula": text}


def render_steps(
    run: DrawnRun, directory: str | os.PathLike[str], *, max_frames: int = MAX_FRAMES
) -> str:
    """Write one SVG per scheduler step and an ``index.html`` that plays them; return its path.

    Run the graph with ``keep_values=True`` to see every value and the gradient
    sent along every edge, and call ``run.backward()`` first to include the
    backward steps.
    """
    moments = frames(run)
    if len(moments) > max_frames:
        raise VizError(
            f"graph {run.graph.name!r} has {len(moments)} steps, more than the player's "
            f"{max_frames}; draw it with render() instead, or pass max_frames="
        )
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    view = "both" if has_gradients(run) else "forward"
    pictures = []
    captions = []
    for number, frame in enumerate(moments):
        svg = pipe(full_view(run.graph, run, view, frame=frame), "svg").decode("utf-8")
        (target / f"step-{number:03d}.svg").write_text(svg, encoding="utf-8")
        pictures.append(svg[svg.index("<svg") :])
        captions.append({"file": f"step-{number:03d}.svg", **_caption(run, frame)})
    page = _page(run.graph.name, pictures, captions)
    index = target / "index.html"
    index.write_text(page, encoding="utf-8")
    return str(index)


def _script_json(data: Any) -> str:
    """JSON that cannot close the script element it sits in."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


_STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 1em; }
#controls { display: flex; gap: 0.5em; align-items: center; margin-bottom: 0.5em; }
#slider { flex: 1; }
#caption { font-family: monospace; margin: 0.5em 0; min-height: 1.2em; }
.frame svg { max-width: 100%; height: auto; }
"""

_SCRIPT = """
(function () {
  var steps = JSON.parse(document.getElementById("steps").textContent);
  var frames = document.querySelectorAll(".frame");
  var slider = document.getElementById("slider");
  var index = 0;
  function show(k) {
    index = Math.max(0, Math.min(steps.length - 1, k));
    for (var j = 0; j < frames.length; j++) { frames[j].hidden = (j !== index); }
    slider.value = String(index);
    var step = steps[index];
    document.getElementById("counter").textContent = "step " + index + " of " + (steps.length - 1);
    document.getElementById("phase").textContent = step.phase;
    document.getElementById("node").textContent = step.node;
    document.getElementById("formula").textContent = step.formula;
    document.getElementById("prev").disabled = (index === 0);
    document.getElementById("next").disabled = (index === steps.length - 1);
  }
  document.getElementById("prev").addEventListener("click", function () { show(index - 1); });
  document.getElementById("next").addEventListener("click", function () { show(index + 1); });
  slider.addEventListener("input", function () { show(parseInt(slider.value, 10)); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "ArrowLeft") { show(index - 1); }
    if (event.key === "ArrowRight") { show(index + 1); }
  });
  show(0);
})();
"""


def _page(name: str, pictures: list[str], captions: list[dict[str, Any]]) -> str:
    title = html_text(f"{name}: step by step")
    frames_html = "\n".join(
        f'<div class="frame" data-step="{k}"{" hidden" if k else ""}>{svg}</div>'
        for k, svg in enumerate(pictures)
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{_STYLE}</style>
</head>
<body>
<h1>{title}</h1>
<div id="controls">
<button id="prev" type="button">&#8592; previous</button>
<input id="slider" type="range" min="0" max="{len(pictures) - 1}" value="0" step="1">
<button id="next" type="button">next &#8594;</button>
<span id="counter"></span>
</div>
<div id="caption"><b id="phase"></b> <span id="node"></span>: <span id="formula"></span></div>
{frames_html}
<script type="application/json" id="steps">{_script_json(captions)}</script>
<script>{_SCRIPT}</script>
</body>
</html>
"""
