"""Signatures: what a compiled plan depends on in the values it is given.

A value is either a Python float (numpy 2's weak scalar) or a numpy array of real
floats (or of integers, for constant inputs: indices, labels), known by its shape,
strides and dtype: the strides say its memory layout,
which a result computed from it follows (and the order in which a reduction adds
up follows that layout in turn, so two runs agree bit for bit only if it is the
same). Anything else (other array types, integers, complex numbers) has no entry,
and the interpreter runs it.

>>> entry_of(np.ones((2, 3), np.float32)), entry_of(0.5), entry_of(np.ones(2, complex))
(((2, 3), (12, 4), dtype('float32')), <class 'float'>, None)
>>> typed(entry_of(np.ones((2, 3)).T))
((3, 2), dtype('float64'), False)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .program import WEAK, Kind

__all__ = ["Entry", "Signature", "entry_of", "signature_of", "typed", "strides_ordered"]

Entry = Any
"""``float`` for a Python float, ``(shape, strides, dtype)`` for an array."""

Signature = tuple[Entry, ...]


def entry_of(value: Any) -> Entry | None:
    """The signature entry of one value; ``None`` when no compiled plan takes it."""
    if type(value) is float:
        return float
    if type(value) is np.ndarray and value.dtype.kind in "fiu":
        return (value.shape, value.strides, value.dtype)
    return None


def signature_of(values: Sequence[Any]) -> Signature | None:
    """The entries of ``values``, or ``None`` if one of them has none."""
    entries = []
    for value in values:
        entry = entry_of(value)
        if entry is None:
            return None
        entries.append(entry)
    return tuple(entries)


def typed(entry: Entry) -> tuple[tuple[int, ...], Kind, bool]:
    """``(shape, kind, ordered)`` of a register holding a value of this entry."""
    if entry is float:
        return (), WEAK, True
    shape, strides, dtype = entry
    return shape, dtype, strides_ordered(shape, strides)


def strides_ordered(shape: tuple[int, ...], strides: tuple[int, ...]) -> bool:
    """Whether the axes that are neither broadcast nor of size 1 go in C order: numpy
    then lays out a result computed from such an array as a new C-ordered array.

    >>> strides_ordered((3, 4), (32, 8)), strides_ordered((3, 4), (8, 24))
    (True, False)
    """
    steps = [abs(s) for s, n in zip(strides, shape, strict=True) if n > 1 and s]
    return steps == sorted(steps, reverse=True)
