r"""The SVG Graphviz writes, made ready for a page: data attributes instead of ids.

A drawing made with ``tagged=True`` gives every element a short DOT id (``n3``
for node 3, ``b3_0`` for the backward edge into its operand 0, ``g2`` for the
third box of a collapsed view ...). ``tag_svg`` turns those into ``data-``
attributes that name what the element shows (``data-node="xmu"``,
``data-edge="backward" data-consumer="xhat" data-position="0"``,
``data-stage="5 std"``), marks a node's outline and its value and gradient rows
with classes, and removes every ``id`` so that several pictures can share a page.
Tooltips go too: the page shows a node's full value and gradient on hover.

>>> svg = ('<svg xmlns="http://www.w3.org/2000/svg"><g id="graph0"><g id="n0" class="node">'
...        '<title>x</title><ellipse/><text y="1">x</text></g></g></svg>')
>>> print(tag_svg(svg, ("x",), (), ()).replace("><", ">\n<"))
<svg xmlns="http://www.w3.org/2000/svg">
<g>
<g class="node" data-node="x">
<title>x</title>
<ellipse class="bn-outline" />
<text y="1">x</text>
</g>
</g>
</svg>
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from .style import BACKWARD_COLOR

__all__ = ["tag_svg", "SVG_NS", "XLINK_NS"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", XLINK_NS)

_SHAPES = {f"{{{SVG_NS}}}{tag}" for tag in ("polygon", "ellipse", "path", "polyline")}
_TEXT = f"{{{SVG_NS}}}text"
_ID = re.compile(r"^([a-z])(\d+)(?:_(\d+))?$")


def _add_class(element: ET.Element, name: str) -> None:
    element.set("class", f"{element.get('class', '')} {name}".strip())


def _mark_node(group: ET.Element) -> None:
    """The shapes before the first text are the outline; text rows in the backward
    colour are the gradient, the third row otherwise the value."""
    seen_text = False
    rows: list[float] = []
    for element in group.iter():
        if element.tag == _TEXT:
            seen_text = True
            y = float(element.get("y", "0"))
            if y not in rows:
                rows.append(y)
            if element.get("fill") == BACKWARD_COLOR:
                _add_class(element, "bn-grad")
            elif len(rows) == 3:
                _add_class(element, "bn-value")
        elif element.tag in _SHAPES and not seen_text:
            _add_class(element, "bn-outline")


def _data(
    kind: str, number: int, position: int | None,
    names: Sequence[str], outputs: Sequence[str], boxes: Sequence[str],
) -> dict[str, str]:
    if kind == "n":
        return {"data-node": names[number]}
    if kind == "m":
        return {"data-node": names[number], "data-outside": ""}
    if kind == "s":
        return {"data-sum": names[number]}
    if kind == "o":
        return {"data-seed": outputs[number]}
    if kind == "g":
        return {"data-stage": boxes[number]}
    if kind in "fb":
        edge = "forward" if kind == "f" else "backward"
        return {"data-edge": edge, "data-consumer": names[number], "data-position": str(position)}
    if kind == "t":
        return {"data-edge": "sum", "data-of": names[number]}
    if kind == "e":
        return {"data-edge": "seed", "data-of": outputs[number]}
    return {}


def tag_svg(
    svg: str | bytes, names: Sequence[str], outputs: Sequence[str], boxes: Sequence[str]
) -> str:
    """``svg`` with data attributes for the elements drawn with ``tagged=True`` (node
    names by index, outputs by position, collapsed boxes by position), no ids, and no
    XML prolog (it is meant to sit inside an HTML page)."""
    root = ET.fromstring(svg)
    for element in root.iter():
        element_id = element.attrib.pop("id", None)
        if element_id is None:
            continue
        match = _ID.match(element_id)
        if match is None:
            continue
        kind, number = match.group(1), int(match.group(2))
        position = int(match.group(3)) if match.group(3) is not None else None
        for key, value in _data(kind, number, position, names, outputs, boxes).items():
            element.set(key, value)
        if kind == "n":
            _mark_node(element)
    for anchor in root.iter(f"{{{SVG_NS}}}a"):  # the page shows the details on hover
        anchor.attrib.pop(f"{{{XLINK_NS}}}title", None)
    return ET.tostring(root, encoding="unicode")
