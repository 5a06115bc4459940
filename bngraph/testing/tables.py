"""Plain-text tables for the check reports.

>>> print(format_table(["a", "b"], [["1", "22"]]))
a  b
-  --
1  22
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["format_table", "format_number", "format_index"]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, a rule under the header."""
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines
    )


def format_number(value: Any) -> str:
    """A number in four significant digits (``nan``/``inf`` as such).

    >>> format_number(0.000123456), format_number(2.0), format_number(float("nan"))
    ('0.0001235', '2', 'nan')
    """
    return f"{float(value):.4g}"


def format_index(index: tuple[int, ...]) -> str:
    """An array index as written in numpy: ``(2, 1)``, ``()`` for a scalar.

    >>> format_index((2, 1)), format_index((3,)), format_index(())
    ('(2, 1)', '(3,)', '()')
    """
    return str(tuple(int(k) for k in index))


def worst(errors: np.ndarray) -> tuple[int, ...]:
    """The index of the largest entry of ``errors`` (NaN counts as largest)."""
    errors = np.asarray(errors)
    if errors.size == 0:
        return ()
    flat = np.where(np.isnan(errors), np.inf, errors).ravel()
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(flat)), errors.shape))
