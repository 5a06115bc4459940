"""The viewer's page: HTML around the pictures and the data, with its script and style
inlined, so that it works offline, straight from the file system.

>>> page = viewer_page("bn", {"steps": []}, [])
>>> page.startswith("<!DOCTYPE html>") and "http" not in page.split("<body>")[1]
True
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from .escape import html_text

__all__ = ["viewer_page", "script_json"]


def script_json(data: Any) -> str:
    """JSON that cannot close the script element it sits in.

    >>> script_json({"a": "</script>"})
    '{"a": "\\\\u003c/script\\\\u003e"}'
    """
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _asset(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def _picture_scripts(svgs: list[str]) -> str:
    """Each picture as the raw text of an inert script element: no JSON escaping to
    undo, and nothing parsed until it is shown. SVG from Graphviz escapes ``<`` in
    text and attributes, so no picture can close its element."""
    for svg in svgs:
        if "</script" in svg.lower():
            raise ValueError("a picture holds '</script', which would end its element")
    return "\n".join(
        f'<script type="image/svg+xml" id="bn-picture-{k}">{svg}</script>'
        for k, svg in enumerate(svgs)
    )


def viewer_page(name: str, data: dict[str, Any], svgs: list[str]) -> str:
    """The page of the viewer for graph ``name``: controls, the picture's viewport, a
    hover panel, ``data`` (steps, when each thing becomes known, pictures by number)
    and the pictures ``svgs`` themselves."""
    title = html_text(f"{name}: step by step")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="icon" href="data:,">
<style>{_asset("viewer.css")}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<div id="controls">
<button id="prev" type="button" title="previous step (ArrowLeft)">&#8592; previous</button>
<input id="slider" type="range" min="0" max="{max(0, len(data["steps"]) - 1)}" value="0" step="1"
 aria-label="step">
<button id="next" type="button" title="next step (ArrowRight)">next &#8594;</button>
<span id="counter"></span>
<button id="fit" type="button" title="fit the picture to the window">fit</button>
<button id="overview" type="button" hidden>&#8593; all stages</button>
<span id="where"></span>
</div>
<div id="step"><b id="phase"></b> <span id="caption"></span><span id="node" hidden></span></div>
</header>
<main id="viewport">
<div id="canvas"></div>
<pre id="details" hidden></pre>
</main>
<script type="application/json" id="bn-data">{script_json(data)}</script>
{_picture_scripts(svgs)}
<script>{_asset("viewer.js")}</script>
</body>
</html>
"""
