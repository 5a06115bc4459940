"""Declared shapes: binding symbolic dimensions at run time, and static inference.

An input declared ``x[N, D]`` binds ``N`` and ``D`` from the value given; every
other use of ``D`` must agree. A value whose shape broadcasts to the declared
shape is accepted (``gamma=2`` for ``gamma[D]``).

>>> import numpy as np
>>> bind_dims([("x", ("N", "D"), (5, 4)), ("gamma", ("D",), ())])
{'N': 5, 'D': 4}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from .errors import BngraphError, ShapeError
from .ops import format_shape
from .ops.broadcasting import Shape

if TYPE_CHECKING:
    from .schedule import Planned

__all__ = ["bind_dims", "bind_dims_cached", "static_shapes"]

Declared = tuple[str, Shape, tuple[int, ...]]


def bind_dims(declared: Sequence[Declared]) -> dict[str, int]:
    """Bind the symbols of ``(input, declared shape, actual shape)`` triples.

    A dimension of 1 in a value broadcasts, so it binds a symbol only when no
    other value gives that symbol a size.

    >>> bind_dims([("x", ("N", "D"), (5, 4)), ("gamma", ("D",), (3,))])
    Traceback (most recent call last):
    ...
    bngraph.errors.ShapeError: input 'gamma' has shape (3,), which does not fit its ... D = 4 ...
    """
    dims: dict[str, int] = {}
    source: dict[str, Declared] = {}
    for item in declared:
        name, shape, actual = item
        if len(actual) > len(shape):
            raise ShapeError(
                f"input {name!r} has shape {format_shape(actual)}, which has more "
                f"dimensions than its declared shape {_declared(shape)}"
            )
        for want, got in zip(shape[len(shape) - len(actual):], actual, strict=True):
            if got == 1:
                continue
            if isinstance(want, str):
                if want not in dims:
                    dims[want], source[want] = got, item
                elif dims[want] != got:
                    raise _mismatch(item, want, dims[want], source[want])
            elif want != got:
                raise ShapeError(
                    f"input {name!r} has shape {format_shape(actual)}, which does not fit "
                    f"its declared shape {_declared(shape)}"
                )
    for _, shape, _actual in declared:
        for want in shape:
            if isinstance(want, str):
                dims.setdefault(want, 1)
    return dims


@lru_cache(maxsize=256)
def bind_dims_cached(declared: tuple[Declared, ...]) -> Mapping[str, int]:
    """``bind_dims`` for runs: the same input shapes bind the same symbols, so the
    last bindings are remembered (read-only)."""
    return MappingProxyType(bind_dims(declared))


def _declared(shape: Shape) -> str:
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _mismatch(item: Declared, symbol: str, bound: int, first: Declared) -> ShapeError:
    name, shape, actual = item
    return ShapeError(
        f"input {name!r} has shape {format_shape(actual)}, which does not fit its declared "
        f"shape {_declared(shape)} with {symbol} = {bound} (from input {first[0]!r} of shape "
        f"{format_shape(first[2])})"
    )


def static_shapes(graph: Planned, dims: dict[str, int] | None = None) -> dict[str, Shape | None]:
    """Every node's shape as far as it is known before running: symbols stay symbols.

    ``None`` marks a shape that cannot be known (an undeclared input, an op
    without a shape rule, or a rule that could not decide).

    >>> import bngraph as bg
    >>> shapes = static_shapes(bg.library.get("batchnorm"))
    >>> shapes["xmu"], shapes["var"], shapes["eps"]
    (('N', 'D'), ('D',), ())
    """
    plan = graph.plan
    ir = plan.ir
    dims = dims or {}
    known: dict[int, Shape | None] = {}
    for index in plan.order:
        params = ir.params[index]
        op = ir.op(index)
        if op is None:
            shape = params.get("shape")
            if shape is None and "default" in params:
                shape = ()
            known[index] = None if shape is None else tuple(dims.get(d, d) for d in shape)
            continue
        operands = [known[o] if isinstance(o, int) else () for o in ir.operands[index]]
        if op.shape is None or any(s is None for s in operands):
            known[index] = None
            continue
        try:
            known[index] = tuple(op.shape(*operands, **op.full_params(params)))
        except ShapeError as error:
            raise ShapeError(f"{ir.describe(index)}: {error}") from None
        except (BngraphError, TypeError, ValueError, IndexError):
            known[index] = None
    return {ir.names[i]: s for i, s in known.items()}
