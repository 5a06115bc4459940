"""Text formatting for reports, tables and drawings: numbers, indices, arrays, tables.

>>> format_number(1 / 3), format_index((2, 1)), worst_index(np.array([0.1, 0.5, 0.2]))
('0.3333', '(2, 1)', (1,))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["format_array", "format_table", "format_number", "format_index", "worst_index"]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, a rule under the header.

    >>> print(format_table(["a", "b"], [["1", "22"]]))
    a  b
    -  --
    1  22
    """
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def format_number(number: Any) -> str:
    """Four significant digits (``nan``/``inf`` as such); negative zero prints as ``0``.

    >>> format_number(-0.0), format_number(1 / 3), format_number(12345678.0), format_number(2.0)
    ('0', '0.3333', '1.235e+07', '2')
    """
    number = float(number)
    return "0" if number == 0 else f"{number:.4g}"


def format_index(index: tuple[int, ...]) -> str:
    """An array index as written in numpy: ``(2, 1)``, ``()`` for a scalar.

    >>> format_index((2, 1)), format_index((3,)), format_index(())
    ('(2, 1)', '(3,)', '()')
    """
    return str(tuple(int(k) for k in index))


def format_array(value: object, indent: int = 0) -> str:
    """An array printed compactly (4 significant digits), continuation lines indented.

    >>> format_array(np.array([[1.0, 2.5], [3.0, 4.0]]), indent=2)
    '[[1.  2.5]\\n   [3.  4. ]]'
    """
    text = np.array2string(
        np.asarray(value), precision=4, suppress_small=True, max_line_width=100
    )
    return text.replace("\n", "\n" + " " * indent)


def worst_index(errors: np.ndarray) -> tuple[int, ...]:
    """Where a report points: the index of the largest entry of ``errors`` (NaN counts
    as largest; ``()`` for an empty array)."""
    errors = np.asarray(errors)
    if errors.size == 0:
        return ()
    flat = np.where(np.isnan(errors), np.inf, errors).ravel()
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(flat)), errors.shape))
