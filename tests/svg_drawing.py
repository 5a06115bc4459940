"""Reading the SVG that Graphviz writes: nodes and edges by title, their text rows,
their tooltips and their positions; the numbers of a one-line value summary."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import numpy as np
import pytest

from bngraph.viz.render import pipe

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"


def svg_of(digraph) -> ET.Element:
    return ET.fromstring(pipe(digraph, "svg"))


@dataclass
class Drawn:
    """One node or edge group of the SVG."""

    title: str
    rows: list[str]
    tooltip: str
    center: tuple[float, float]
    element: ET.Element

    @property
    def stroke(self) -> str | None:
        """The colour of the first line drawn (an edge's path, a node's outline)."""
        for shape in self.element.iter():
            drawn_line = shape.tag in (f"{SVG}path", f"{SVG}polygon", f"{SVG}ellipse")
            if drawn_line and shape.get("stroke"):
                return shape.get("stroke")
        return None


def _rows(group: ET.Element) -> list[str]:
    """Text elements on one baseline joined into a row, top to bottom; no-break spaces
    (which the labels use after a bold name) read as spaces."""
    by_line: dict[float, list[tuple[float, str]]] = {}
    for text in group.iter(f"{SVG}text"):
        row = by_line.setdefault(float(text.get("y")), [])
        row.append((float(text.get("x")), text.text or ""))
    return [
        "".join(t for _, t in sorted(parts)).replace("\xa0", " ").strip()
        for _, parts in sorted(by_line.items())
    ]


def _center(group: ET.Element) -> tuple[float, float]:
    xs, ys = [], []
    for shape in group.iter():
        for attr in ("points", "d"):
            if shape.get(attr):
                numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", shape.get(attr))]
                xs += numbers[0::2]
                ys += numbers[1::2]
        if shape.tag == f"{SVG}ellipse":
            xs.append(float(shape.get("cx")))
            ys.append(float(shape.get("cy")))
        if shape.tag == f"{SVG}text":  # plain text nodes have nothing else
            xs.append(float(shape.get("x")))
            ys.append(float(shape.get("y")))
    return (sum(xs) / len(xs), sum(ys) / len(ys)) if xs else (0.0, 0.0)


def drawn(root: ET.Element, kind: str, stroke: str | None = None) -> dict[str, Drawn]:
    """``{title: Drawn}`` of the SVG's ``kind`` groups (``"node"`` or ``"edge"``), only
    those drawn in ``stroke`` if given; edges between the same two nodes are told
    apart by a ``#k`` suffix from the second on."""
    found: dict[str, Drawn] = {}
    for group in root.iter(f"{SVG}g"):
        if kind not in (group.get("class") or "").split():
            continue
        title = group.find(f"{SVG}title").text
        anchor = group.find(f".//{SVG}a")
        tooltip = "" if anchor is None else anchor.get(XLINK_TITLE, "").replace("\xa0", " ")
        key, k = title, 1
        while key in found:
            key, k = f"{title}#{k}", k + 1
        found[key] = Drawn(title, _rows(group), tooltip, _center(group), group)
    if stroke is not None:
        kept = [d for d in found.values() if d.stroke == stroke]
        found = {}
        for d in kept:
            key, k = d.title, 1
            while key in found:
                key, k = f"{d.title}#{k}", k + 1
            found[key] = d
    return found


def stats(text: str) -> dict[str, float]:
    """The numbers of a one-line summary: ``"a to b, mean c"``, ``"a to b"`` (edges) or
    ``"all a"``."""
    text = text.removeprefix("grad ").removeprefix("sum ").removeprefix("seed ")
    if text.startswith("all "):
        value = float(text[4:])
        return {"min": value, "mean": value, "max": value}
    match = re.fullmatch(r"(\S+) to (\S+)(?:, mean (\S+))?", text)
    assert match, f"not a summary: {text!r}"
    found = {"min": float(match[1]), "max": float(match[2])}
    if match[3] is not None:
        found["mean"] = float(match[3])
    return found


def assert_summary(text: str, expected: np.ndarray) -> None:
    """A one-line summary matches ``expected``: four significant digits, so a relative
    error of at most 5e-4 (and 1e-12 absolute for values that should be zero)."""
    got = stats(text)
    want = {"min": expected.min(), "mean": expected.mean(), "max": expected.max()}
    for key in got:
        assert got[key] == pytest.approx(want[key], rel=5e-4, abs=1e-12), (key, text)
