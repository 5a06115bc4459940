"""How big an SVG drawing is where it is shown, and how small its text gets there.

A picture is read where it is shown: a README column (about 880 px), a
notebook cell (about 1000 px), a browser window. Shown at most ``width`` pixels
wide, a wider picture is scaled down, and its text with it. ``readability``
reads an SVG as Graphviz writes it (size in points, a viewBox, font sizes in
viewBox units) and says how tall its smallest text is once shown.

>>> svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="1500pt" height="300pt" '
...        'viewBox="0 0 1500 300"><text font-size="9">a</text></svg>')
>>> r = readability(svg)
>>> r.width_px, r.height_px, round(r.smallest_px, 2), r.aspect
(2000.0, 400.0, 6.0, 5.0)
>>> r.readable
False
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

__all__ = ["PX_PER_PT", "SHOWN_WIDTH", "MIN_TEXT_PX", "MAX_ASPECT", "Readability", "readability"]

PX_PER_PT = 4 / 3
"""CSS pixels per point: SVG sizes in ``pt`` are shown at 1.333 px each."""

SHOWN_WIDTH = 1000.0
"""The widest a drawing is shown: a notebook's output area, a README column is narrower."""

MIN_TEXT_PX = 9.0
"""The smallest text a reader can read, in CSS pixels."""

MAX_ASPECT = 4.0
"""The most extreme ratio of width to height (either way) a drawing may have."""

_SVG = "{http://www.w3.org/2000/svg}"
_LENGTH = re.compile(r"^\s*([0-9.]+)\s*(pt|px)?\s*$")
_SCALE = re.compile(r"scale\(\s*([0-9.]+)")


@dataclass(frozen=True)
class Readability:
    """The natural size of a drawing in CSS pixels, its smallest text there, and the
    same text once the drawing is shown at most ``shown_width`` pixels wide."""

    width_px: float
    height_px: float
    smallest_font_px: float
    shown_width: float

    @property
    def scale(self) -> float:
        """How much the drawing shrinks to fit ``shown_width`` (1 when it fits)."""
        return min(1.0, self.shown_width / self.width_px)

    @property
    def smallest_px(self) -> float:
        """The smallest text's height in CSS pixels as shown."""
        return self.smallest_font_px * self.scale

    @property
    def aspect(self) -> float:
        """The ratio of the longer side to the shorter one (1 for a square)."""
        return max(self.width_px, self.height_px) / min(self.width_px, self.height_px)

    @property
    def readable(self) -> bool:
        """Smallest text at least ``MIN_TEXT_PX`` and aspect at most ``MAX_ASPECT``."""
        return self.smallest_px >= MIN_TEXT_PX and self.aspect <= MAX_ASPECT

    def __str__(self) -> str:
        return (
            f"{self.width_px:.0f} x {self.height_px:.0f} px ({self.aspect:.1f} : 1), "
            f"smallest text {self.smallest_px:.1f} px shown at most {self.shown_width:.0f} px wide"
        )


def _px(length: str) -> float:
    match = _LENGTH.match(length)
    if match is None:
        raise ValueError(f"cannot read the SVG length {length!r}")
    number = float(match.group(1))
    return number if match.group(2) == "px" else number * PX_PER_PT


def readability(svg: str | bytes, shown_width: float = SHOWN_WIDTH) -> Readability:
    """The size and smallest text of an SVG drawing shown at most ``shown_width`` px wide."""
    root = ET.fromstring(svg)
    width, height = _px(root.get("width", "0")), _px(root.get("height", "0"))
    view_box = root.get("viewBox")
    units_wide = float(view_box.split()[2]) if view_box else width
    group = root.find(f"{_SVG}g")
    match = _SCALE.search(group.get("transform", "")) if group is not None else None
    inner = float(match.group(1)) if match else 1.0
    sizes = [
        float(text.get("font-size", "14"))
        for text in root.iter(f"{_SVG}text")
    ]
    px_per_unit = width / units_wide * inner
    smallest = min(sizes) * px_per_unit if sizes else float("inf")
    return Readability(width, height, smallest, shown_width)
