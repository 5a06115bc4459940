"""Basic indexing with constant slices and integers: ``x[1:3, :, ::2]``, ``x[..., 0]``.

The op ``getitem`` holds its index as text, ``index="1:3, :, ::2"``, the way it is
written in Python and in ``.bng`` (read back by a small parser here, never
evaluated). The gradient puts ``g`` back where the entries were taken from: basic
indexing never takes an entry twice.

>>> import numpy as np
>>> key = index_text((slice(1, 3), slice(None), slice(None, None, 2)))
>>> key, parse_index(key) == (slice(1, 3), slice(None), slice(None, None, 2))
('1:3, :, ::2', True)
>>> from bngraph.ops import get_op
>>> get_op("getitem").shape(("N", 5, 4), index="..., 1:3")
('N', 5, 2)
"""

from __future__ import annotations

from types import EllipsisType
from typing import Any, TypeAlias

import numpy as np

from ..errors import GraphDefinitionError, ShapeError
from .arrays import namespace
from .broadcasting import Dim, Shape, format_shape
from .registry import REQUIRED, define_op

__all__ = ["index_text", "parse_index"]

Item: TypeAlias = int | slice | EllipsisType


def _whole(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _bound(value: Any) -> str:
    if value is None:
        return ""
    if not _whole(value):
        raise GraphDefinitionError(
            f"a slice takes ints or nothing for its bounds and step, not {value!r}"
        )
    return str(int(value))


def _item_text(item: Any) -> str:
    if item is Ellipsis:
        return "..."
    if isinstance(item, slice):
        if item.step == 0:
            raise GraphDefinitionError("a slice step cannot be zero")
        text = f"{_bound(item.start)}:{_bound(item.stop)}"
        return text + (f":{_bound(item.step)}" if item.step is not None else "")
    if _whole(item):
        return str(int(item))
    raise GraphDefinitionError(
        f"x[...] takes ints, slices of ints and ..., not {item!r}; to index with the "
        "values of a node, use take or take_along_axis"
    )


def index_text(key: Any) -> str:
    """The canonical text of a constant index (what ``getitem`` stores).

    >>> index_text((Ellipsis, 0)), index_text(slice(None, -1))
    ('..., 0', ':-1')
    """
    items = key if isinstance(key, tuple) else (key,)
    if not items:
        raise GraphDefinitionError("x[()] selects everything: it needs no node")
    if sum(item is Ellipsis for item in items) > 1:
        raise GraphDefinitionError("an index can have only one ...")
    return ", ".join(_item_text(item) for item in items)


def _int(text: str, whole: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise ShapeError(f"index {whole!r}: {text!r} is not an int") from None


def parse_index(text: str) -> tuple[Item, ...]:
    """The index that ``index_text`` wrote, as a tuple of ints, slices and ``...``."""
    items: list[Item] = []
    for part in text.split(","):
        part = part.strip()
        if part == "...":
            items.append(Ellipsis)
        elif ":" in part:
            bits = part.split(":")
            if len(bits) > 3:
                raise ShapeError(f"index {text!r}: {part!r} has more than two colons")
            start, stop, step = [_int(b, text) for b in bits] + [None] * (3 - len(bits))
            if step == 0:
                raise ShapeError(f"index {text!r}: a slice step cannot be zero")
            items.append(slice(start, stop, step))
        else:
            value = _int(part, text)
            if value is None:
                raise ShapeError(f"index {text!r} has an empty entry")
            items.append(value)
    if sum(item is Ellipsis for item in items) > 1:
        raise ShapeError(f"index {text!r} has more than one ...")
    return tuple(items)


def _expanded(items: tuple[Item, ...], ndim: int, shape: Shape) -> list[Item]:
    """One item per axis: ``...`` and the missing trailing axes become ``:``."""
    given = [item for item in items if item is not Ellipsis]
    if len(given) > ndim:
        raise ShapeError(f"{len(given)} indices for shape {format_shape(shape)}")
    fill = [slice(None)] * (ndim - len(given))
    if Ellipsis in items:
        k = items.index(Ellipsis)
        return [*items[:k], *fill, *items[k + 1:]]
    return [*given, *fill]


def getitem(x: Any, index: str = REQUIRED) -> Any:
    """The entries of x at a constant ``index`` of ints, slices and ``...``, as numpy's
    basic indexing: ``x[1:3, :, ::2]`` in Python and in ``.bng``."""
    if namespace(x) is np:
        return np.asarray(x)[parse_index(index)]
    return x[_full(index, x)]


def _full(index: str, x: Any) -> tuple[Item, ...]:
    """The index with one item per axis: the standard leaves no axis implicit."""
    shape = tuple(x.shape)
    return tuple(_expanded(parse_index(index), len(shape), shape))


def _getitem_vjp(g: Any, out: Any, x: Any, *, index: str) -> Any:
    xp = namespace(g, x)
    if xp is np:
        g = np.asarray(g)
        grad = np.zeros(np.shape(x), dtype=g.dtype)
    else:
        from array_api_compat import device

        grad = xp.zeros(tuple(x.shape), dtype=g.dtype, device=device(g))
        grad[_full(index, x)] = g
        return grad
    grad[parse_index(index)] = g
    return grad


def _dim(dim: Dim, item: Item, shape: Shape) -> Dim:
    if isinstance(item, slice):
        if isinstance(dim, int):
            return len(range(*item.indices(dim)))
        return dim if item == slice(None) else None
    if isinstance(dim, int) and isinstance(item, int) and not -dim <= item < dim:
        raise ShapeError(f"index {item} is out of range for an axis of size {dim} "
                         f"in shape {format_shape(shape)}")
    return None


def _getitem_shape(x: Shape, *, index: str) -> Shape:
    items = _expanded(parse_index(index), len(x), x)
    dims = [_dim(d, item, x) for d, item in zip(x, items, strict=True)]  # checks the ints too
    return tuple(d for d, item in zip(dims, items, strict=True) if isinstance(item, slice))


define_op(
    "getitem", getitem, [_getitem_vjp],
    shape=_getitem_shape, label=lambda p: f"[{p['index']}]", saves=[],
    rules=["g put back at [{index}], 0 elsewhere"],
)
