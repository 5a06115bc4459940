"""Short text for arrays in drawings: the whole array when small, else its statistics.

Summaries are deterministic (they never read numpy's global print options), so the
same values always give the same DOT text.

>>> import numpy as np
>>> summarize(np.array([1.0, 2.5, -0.0]))
'[1, 2.5, 0]'
>>> summarize(np.arange(20.0).reshape(5, 4))
'(5, 4) min 0 mean 9.5 max 19'
>>> summarize(0.1)
'0.1'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..formatting import format_number

__all__ = ["SMALL", "BRIEF_CHARS", "TOOLTIP_CHARS", "summarize", "brief", "full_text"]

SMALL = 6
"""Arrays with at most this many elements are shown whole."""

BRIEF_CHARS = 24
"""A small array is shown whole in a one-line summary when it fits in this many characters."""

TOOLTIP_CHARS = 2000
"""The full value in a tooltip is cut after this many characters."""


def summarize(value: Any) -> str:
    """The whole array when it has at most ``SMALL`` elements, else shape, min, mean, max
    (what a tooltip says before the full value)."""
    array = np.asarray(value)
    if array.dtype.kind == "c":
        return f"{_shape(array.shape)} complex"
    if array.size <= SMALL:
        if array.ndim == 0:
            return format_number(float(array))
        return _nested(array)
    parts = [
        f"min {format_number(array.min())}",
        f"mean {format_number(array.mean())}",
        f"max {format_number(array.max())}",
    ]
    return " ".join([_shape(array.shape), *parts])


def brief(value: Any, *, mean: bool = True) -> str:
    """One short line for a drawing: the whole array when it is small and fits in
    ``BRIEF_CHARS`` characters, else its range and (unless ``mean=False``, for edge
    labels, which must stay narrow) its mean; the full value goes in the tooltip.

    >>> brief(np.array([1.0, 2.5])), brief(np.arange(20.0).reshape(5, 4)), brief(np.ones(9))
    ('[1, 2.5]', '0 to 19, mean 9.5', 'all 1')
    >>> brief(np.arange(20.0), mean=False)
    '0 to 19'
    """
    array = np.asarray(value)
    if array.dtype.kind == "c":
        return f"{_shape(array.shape)} complex"
    if array.size <= SMALL:
        whole = summarize(array)
        if len(whole) <= BRIEF_CHARS:
            return whole
    low, high = format_number(array.min()), format_number(array.max())
    if low == high:
        return f"all {low}"
    if not mean:
        return f"{low} to {high}"
    return f"{low} to {high}, mean {format_number(array.mean())}"


def full_text(value: Any, limit: int = TOOLTIP_CHARS) -> str:
    """The value in full (numpy's layout, six digits), cut after ``limit`` characters.

    >>> full_text(np.array([[1.0, 2.0], [3.0, 4.0]]))
    '[[1., 2.],\\n [3., 4.]]'
    >>> full_text(np.arange(100.0), limit=12)
    '[ 0.,  1., …'
    """
    array = np.asarray(value)
    text = np.array2string(
        array,
        max_line_width=80,
        precision=6,
        suppress_small=False,
        separator=", ",
        threshold=200,
        edgeitems=3,
        floatmode="maxprec",
        sign="-",
        legacy=False,
    )
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _shape(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"({shape[0]},)"
    return "(" + ", ".join(map(str, shape)) + ")"


def _nested(array: np.ndarray) -> str:
    if array.ndim == 1:
        return "[" + ", ".join(format_number(v) for v in array) + "]"
    return "[" + ", ".join(_nested(row) for row in array) + "]"
