"""The op record and the registry that built-in and user-defined ops share.

An op is one primitive: a numpy forward, one vector-Jacobian rule per operand,
an optional shape rule and a display label. ``define_op`` (or the ``op``
decorator) registers it by name, and the returned ``Op`` is also the function
that applies it in the Python builder.

A vector-Jacobian rule is called as ``vjp(g, out, *operands, **params)`` and
returns the gradient for its operand; it may return it at the broadcast shape
(the engine sums it back to the operand's shape) or ``None`` for "no
contribution". ``saves`` declares which forward values the rules read (operand
positions and/or ``"out"``), so that the scheduler can release the others early;
an op that does not say is assumed to read them all.

>>> import numpy as np, bngraph as bg
>>> cube = bg.define_op("doc_cube", lambda x: x ** 3,
...                     vjps=[lambda g, out, x: g * 3 * x ** 2], replace=True)
>>> g = bg.Graph("c")
>>> y = cube(g.input("x"), name="y")
>>> _ = g.output(y)
>>> g.forward(x=np.array([1.0, 2.0])).backward()["x"]
array([ 3., 12.])
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ParamError, UnknownOpError, closest

if TYPE_CHECKING:
    from ..graph import Node

__all__ = ["Op", "define_op", "op", "get_op", "op_names", "is_literal_param"]

Vjp = Callable[..., Any]
ShapeRule = Callable[..., tuple]
Label = str | Callable[[Mapping[str, Any]], str]

_REGISTRY: dict[str, Op] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class Op:
    """One registered primitive. Calling it applies it in the Python builder."""

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Vjp, ...]
    shape: ShapeRule | None = None
    label: Label | None = None
    saves: frozenset[int | str] = frozenset()
    params: tuple[tuple[str, Any], ...] = field(default=())

    @property
    def arity(self) -> int:
        """The number of operands (one vector-Jacobian rule each)."""
        return len(self.vjps)

    def display(self, params: Mapping[str, Any]) -> str:
        """The short label drawn for a node of this op."""
        if self.label is None:
            return self.name
        if isinstance(self.label, str):
            return self.label
        return self.label({**dict(self.params), **params})

    def bind(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``params`` and return those that differ from their defaults.

        >>> from bngraph.ops import get_op
        >>> get_op("mean").bind({"axis": [0], "keepdims": False})
        {'axis': (0,)}
        """
        known = dict(self.params)
        bound: dict[str, Any] = {}
        for key, value in params.items():
            if key not in known:
                valid = ", ".join(known) or "none"
                raise ParamError(
                    f"op {self.name} has no parameter {key!r}{closest(key, known)}; "
                    f"its parameters: {valid}"
                )
            value = _literal(value, self.name, key)
            if not _same(value, known[key]):
                bound[key] = value
        for key, default in self.params:
            if default is _REQUIRED and key not in bound:
                raise ParamError(f"op {self.name} needs the parameter {key!r}")
        return {key: bound[key] for key, _ in self.params if key in bound}

    def full_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` completed with the op's defaults."""
        return {key: params.get(key, default) for key, default in self.params}

    def __call__(self, *operands: Any, name: str | None = None, **params: Any) -> Node:
        from ..graph import apply_op

        return apply_op(self, operands, params, name)

    def __repr__(self) -> str:
        return f"<bngraph op {self.name}/{self.arity}>"


class _Required:
    def __repr__(self) -> str:
        return "<required>"


_REQUIRED: Any = _Required()


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def is_literal_param(value: Any) -> bool:
    """Whether ``value`` may be an op parameter: int, float, bool, None, tuple of ints."""
    if value is None or isinstance(value, (bool, int, float)):
        return True
    return isinstance(value, tuple) and all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    )


def _literal(value: Any, op_name: str, key: str) -> Any:
    """Normalise a parameter value to a plain literal (numpy ints, lists of ints)."""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        value = value.item()
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple):
        value = tuple(v.item() if hasattr(v, "item") else v for v in value)
    if not is_literal_param(value):
        raise ParamError(
            f"op {op_name}: parameter {key}={value!r} is not a literal "
            "(int, float, bool, None or a tuple of ints)"
        )
    return value


def _signature_params(name: str, forward: Callable[..., Any], arity: int) -> tuple:
    """The op's parameters: the forward's arguments after its ``arity`` operands."""
    try:
        signature = inspect.signature(forward)
    except (TypeError, ValueError):
        return ()
    positional = [
        p for p in signature.parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) < arity and not any(
        p.kind is p.VAR_POSITIONAL for p in signature.parameters.values()
    ):
        raise ParamError(
            f"op {name}: forward takes {len(positional)} operand(s) but {arity} "
            "vector-Jacobian rule(s) were given (one per operand)"
        )
    rest = [p for p in signature.parameters.values() if p.kind is not p.VAR_POSITIONAL][arity:]
    params = []
    for p in rest:
        if p.kind is p.VAR_KEYWORD:
            continue
        default = _REQUIRED if p.default is p.empty else p.default
        params.append((p.name, default))
    return tuple(params)


def define_op(
    name: str,
    forward: Callable[..., Any],
    vjps: Sequence[Vjp],
    shape: ShapeRule | None = None,
    label: Label | None = None,
    *,
    saves: Sequence[int | str] | None = None,
    replace: bool = False,
) -> Op:
    """Register an op and return it; the op is then usable in graphs and ``.bng`` files.

    ``forward(*operands, **params)`` computes the value; ``vjps[i](g, out, *operands,
    **params)`` the gradient for operand ``i``. Parameters are the forward's
    arguments after the operands, with their defaults.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ParamError(f"op name {name!r} must be an identifier not starting with '_'")
    vjps = tuple(vjps)
    if not vjps or not all(callable(v) for v in vjps):
        raise ParamError(f"op {name}: vjps must be one callable per operand")
    arity = len(vjps)
    if saves is None:
        kept: frozenset[int | str] = frozenset([*range(arity), "out"])
    else:
        kept = frozenset(saves)
        bad = [s for s in kept if s != "out" and s not in range(arity)]
        if bad:
            raise ParamError(f"op {name}: saves may hold operand positions 0..{arity - 1} and 'out', not {bad}")
    record = Op(name, forward, vjps, shape, label, kept, _signature_params(name, forward, arity))
    with _LOCK:
        if name in _REGISTRY and not replace:
            raise ParamError(f"op {name!r} is already defined; pass replace=True to redefine it")
        _REGISTRY[name] = record
    return record


def op(
    name: str | None = None,
    *,
    vjps: Sequence[Vjp],
    shape: ShapeRule | None = None,
    label: Label | None = None,
    saves: Sequence[int | str] | None = None,
    replace: bool = False,
) -> Callable[[Callable[..., Any]], Op]:
    """Decorator form of ``define_op``: the decorated function is the forward.

    >>> import numpy as np, bngraph as bg
    >>> @bg.op(vjps=[lambda g, out, x: g * out * (1 - out)], saves=["out"], replace=True)
    ... def doc_sigmoid(x):
    ...     return 1 / (1 + np.exp(-x))
    >>> doc_sigmoid.arity
    1
    """

    def register(forward: Callable[..., Any]) -> Op:
        return define_op(
            name or forward.__name__, forward, vjps, shape, label, saves=saves, replace=replace
        )

    return register


def get_op(name: str) -> Op:
    """The registered op called ``name``; an unknown name lists the known ones."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownOpError(
            f"unknown op {name!r}{closest(name, _REGISTRY)}; known ops: {', '.join(op_names())}"
        ) from None


def op_names() -> list[str]:
    """The names of all registered ops, sorted."""
    return sorted(_REGISTRY)
