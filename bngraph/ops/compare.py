"""Comparison and selection: ``maximum``, ``minimum``, ``where`` and the masks
``greater``, ``less`` and ``equal``.

A mask holds 1 where the comparison holds and 0 elsewhere, in the floating dtype
of its operands (the engine carries floating values; ``where`` reads any non-zero
value as true). Masks get no gradient: nothing flows back through a comparison.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("greater").forward(np.array([1.0, 2.0, 3.0]), 2.0)
array([0., 0., 1.])
>>> get_op("maximum").vjps[0](np.ones(3), None, np.array([1.0, 2.0, 3.0]), 2.0)
array([0. , 0.5, 1. ])
"""

from __future__ import annotations

import operator
from typing import Any

from .arrays import as_mask, namespace
from .arrays import where as select
from .broadcasting import operands_shape
from .registry import define_op

__all__ = ["as_mask"]


def _share(g: Any, mine: Any, theirs: Any, wins: Any) -> Any:
    """g where this operand wins, half of g at a tie, 0 where the other wins."""
    return select(wins(mine, theirs), g, select(mine == theirs, g * 0.5, 0.0))


def maximum(a: Any, b: Any) -> Any:
    """The larger of a and b, elementwise, with numpy broadcasting.

    At a tie (a == b) each operand gets half of the gradient, as in PyTorch's
    ``torch.maximum``.
    """
    return namespace(a, b).maximum(a, b)


define_op(
    "maximum", maximum,
    [lambda g, out, a, b: _share(g, a, b, operator.gt),
     lambda g, out, a, b: _share(g, b, a, operator.gt)],
    shape=operands_shape, label="max(a, b)", saves=[0, 1],
    rules=["g where {0} > {1} (½ g at a tie)", "g where {1} > {0} (½ g at a tie)"],
)


def minimum(a: Any, b: Any) -> Any:
    """The smaller of a and b, elementwise, with numpy broadcasting.

    At a tie (a == b) each operand gets half of the gradient, as in PyTorch's
    ``torch.minimum``.
    """
    return namespace(a, b).minimum(a, b)


define_op(
    "minimum", minimum,
    [lambda g, out, a, b: _share(g, a, b, operator.lt),
     lambda g, out, a, b: _share(g, b, a, operator.lt)],
    shape=operands_shape, label="min(a, b)", saves=[0, 1],
    rules=["g where {0} < {1} (½ g at a tie)", "g where {1} < {0} (½ g at a tie)"],
)


def where(cond: Any, a: Any, b: Any) -> Any:
    """a where ``cond`` is non-zero, b elsewhere, with numpy broadcasting.

    ``cond`` is a mask (from ``greater``, ``less``, ``equal`` or an input of 0s
    and 1s): it gets no gradient. a gets the gradient where cond holds, b where
    it does not, as in PyTorch's ``torch.where``.
    """
    return select(cond, a, b)

define_op(
    "where", where,
    [None,
     lambda g, out, cond, a, b: select(cond, g, 0.0),
     lambda g, out, cond, a, b: select(cond, 0.0, g)],
    shape=operands_shape, label="where", saves=[0],
    rules=["mask: no gradient", "g where {0}", "g where not {0}"],
)


def greater(a: Any, b: Any) -> Any:
    """The mask a > b (1 where it holds, 0 elsewhere); no gradient."""
    return as_mask(namespace(a, b).greater(a, b), a, b)


def less(a: Any, b: Any) -> Any:
    """The mask a < b (1 where it holds, 0 elsewhere); no gradient."""
    return as_mask(namespace(a, b).less(a, b), a, b)


def equal(a: Any, b: Any) -> Any:
    """The mask a == b (1 where it holds, 0 elsewhere); no gradient."""
    return as_mask(namespace(a, b).equal(a, b), a, b)


for _name, _forward, _label in (
    ("greater", greater, ">"), ("less", less, "<"), ("equal", equal, "=="),
):
    define_op(
        _name, _forward, [None, None], shape=operands_shape, label=_label, saves=[],
        rules=["mask: no gradient", "mask: no gradient"],
    )
