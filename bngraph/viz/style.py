"""How drawings look: colours, fonts and shapes as named constants, and the DOT
attribute lists built from them.

Every colour a drawing uses is named here once, so that the full view, the
collapsed view, the legend and the viewer agree.

>>> attrs([("shape", "box"), ("color", quoted(BACKWARD_COLOR))])
'[shape=box color="#cc0000"]'
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "FONT",
    "FORWARD_COLOR",
    "BACKWARD_COLOR",
    "SAVED_FILL",
    "INPUT_FILL",
    "CURRENT_FILL",
    "PENDING_COLOR",
    "PENDING_TEXT",
    "STEP_TEXT",
    "CLUSTER_COLOR",
    "LEGEND_BORDER",
    "SHAPE_EDGE_COLOR",
    "AGREE_COLOR",
    "DISAGREE_COLOR",
    "UNCHECKED_COLOR",
    "CHECK_COLORS",
    "CHECK_MARKS",
    "CHECK_LEGEND",
    "DIFFER_FILL",
    "FIRST_DIFFERENCE_COLOR",
    "INPUT_SHAPE",
    "OP_SHAPE",
    "RANKDIRS",
    "reading_direction",
    "attrs",
    "quoted",
]

FONT = "Helvetica"

FORWARD_COLOR = "black"
BACKWARD_COLOR = "#cc0000"
SAVED_FILL = "#fff2b3"
INPUT_FILL = "#e8f0ff"
CURRENT_FILL = "#ffb347"
PENDING_COLOR = "#b0b0b0"
PENDING_TEXT = "#707070"
STEP_TEXT = "#555555"
CLUSTER_COLOR = "#888888"
LEGEND_BORDER = "#bbbbbb"
SHAPE_EDGE_COLOR = "#707070"
"""Edges to operands used only for their shape: dotted, grey, no gradient."""

AGREE_COLOR = "#1a7f37"
DISAGREE_COLOR = "#d1242f"
UNCHECKED_COLOR = "#8c8c8c"
DIFFER_FILL = "#ffd8d8"
FIRST_DIFFERENCE_COLOR = "#a40e26"

CHECK_COLORS = {
    "agree": AGREE_COLOR,
    "disagree": DISAGREE_COLOR,
    "unchecked": UNCHECKED_COLOR,
    "first": FIRST_DIFFERENCE_COLOR,
}
"""A node's outline after a check: its rules agree with central differences (or its
values with the other graph's), or not; ``first``: where two graphs first part."""

CHECK_MARKS = {"agree": "✓ ", "disagree": "✗ ", "unchecked": "", "first": "✗ "}
"""The mark before a checked node's name, so that the verdict does not rest on colour."""

CHECK_LEGEND = (
    ("agree", "rules agree with central differences"),
    ("disagree", "rules disagree with central differences"),
    ("unchecked", "not checked on its own"),
)
"""The legend of a gradcheck painted on a graph."""

INPUT_SHAPE = "ellipse"
OP_SHAPE = "box"


RANKDIRS = ("TB", "BT", "LR", "RL")


def reading_direction(view: str) -> str:
    """The rank direction that reads down the page: forward values flow down, and in
    the backward view the gradients do (the picture is turned over).

    >>> reading_direction("forward"), reading_direction("backward"), reading_direction("both")
    ('TB', 'BT', 'TB')
    """
    return "BT" if view == "backward" else "TB"


def quoted(value: str) -> str:
    """A plain attribute value in double quotes (colours, style lists)."""
    return f'"{value}"'


def attrs(pairs: Iterable[tuple[str, str]]) -> str:
    """A DOT attribute list from ``(key, value)`` pairs whose values are already DOT text."""
    return "[" + " ".join(f"{k}={v}" for k, v in pairs) + "]"
