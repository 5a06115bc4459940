"""Reading an op's forward: which arguments are operands, which are parameters (with
their defaults, their positions and their allowed values), and how the op is called.

Operands are the forward's leading positional arguments without a default, one per
vector-Jacobian rule; everything after them must be keyword-only or have a
default (``REQUIRED`` as a default marks a positional parameter that must be
given), so that no parameter can be mistaken for an operand.

>>> def pad(x, pad_width=REQUIRED, value=0.0, *, mode="constant"): ...
>>> split_signature("pad", pad, 1)
(('x',), (('pad_width', <required>), ('value', 0.0), ('mode', 'constant')))
>>> positional_count(pad, 1)
2
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any, Literal

import numpy as np

from ..errors import ParamError

__all__ = [
    "REQUIRED", "Origin", "split_signature", "positional_count", "choices", "texts", "numbers",
    "call_signature", "origin", "anonymous",
]

Origin = tuple[str, int]


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()
"""The default of a parameter that has none: the op needs it."""


def split_signature(
    name: str, forward: Callable[..., Any], arity: int, variadic: bool = False
) -> tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]:
    """The forward's operand names and its parameters with their defaults.

    Operands are the leading positional arguments without a default, one per rule;
    everything after them must be keyword-only or have a default (``REQUIRED`` as a
    default makes a positional parameter that must be given), so that no parameter
    can be mistaken for an operand. A variadic op's operands are its ``*args``.
    """
    signature = _signature(forward)
    if signature is None:  # a ufunc or builtin: operands only
        return anonymous(arity), ()
    parameters = list(signature.parameters.values())
    if variadic:
        return _variadic(name, parameters)
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    operands = [p.name for p in parameters if p.kind in positional and p.default is p.empty]
    if len(operands) != arity:
        listed = ", ".join(operands) or "none"
        raise ParamError(
            f"op {name}: its forward takes {len(operands)} operand(s) ({listed}) but "
            f"{arity} vector-Jacobian rule(s) were given: one rule per operand; a "
            "parameter after the operands must be keyword-only or have a default"
        )
    params = tuple(
        (p.name, REQUIRED if p.default is p.empty else p.default)
        for p in parameters[arity:]
        if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    )
    return tuple(operands), params


def _variadic(
    name: str, parameters: list[inspect.Parameter]
) -> tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]:
    if not parameters or parameters[0].kind is not inspect.Parameter.VAR_POSITIONAL:
        raise ParamError(f"op {name}: a variadic op's forward takes its operands as *args first")
    params = tuple(
        (p.name, REQUIRED if p.default is p.empty else p.default)
        for p in parameters[1:] if p.kind is not p.VAR_KEYWORD
    )
    return (parameters[0].name,), params


def _signature(forward: Callable[..., Any]) -> inspect.Signature | None:
    """The forward's signature; ``None`` for numpy ufuncs (whose keywords are not
    parameters of the op) and builtins without one."""
    if isinstance(forward, np.ufunc):
        return None
    try:
        return inspect.signature(forward)
    except (TypeError, ValueError):
        return None


def positional_count(forward: Callable[..., Any], arity: int, variadic: bool = False) -> int:
    """How many parameters may follow the operands positionally: those the forward
    declares positional, up to the first keyword-only one (or the first that must
    be given after one that has a default); after a variadic op's list, all of them."""
    signature = _signature(forward)
    if signature is None:
        return 0
    count, defaulted = 0, False
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD,) + (
        (inspect.Parameter.KEYWORD_ONLY,) if variadic else ())
    for p in list(signature.parameters.values())[arity:]:
        if p.kind not in kinds or (defaulted and p.default is REQUIRED):
            break
        defaulted = defaulted or p.default is not REQUIRED
        count += 1
    return count


def choices(forward: Callable[..., Any], params: tuple[tuple[str, Any], ...]
             ) -> dict[str, tuple[Any, ...]] | None:
    """The values allowed for parameters annotated ``Literal["a", "b"]``."""
    try:
        hints = typing.get_type_hints(forward)
    except Exception:  # noqa: BLE001 - annotations that do not resolve say nothing
        return None
    found = {
        key: typing.get_args(hints[key]) for key, _ in params
        if key in hints and typing.get_origin(hints[key]) is Literal
    }
    return found or None


def texts(forward: Callable[..., Any], params: tuple[tuple[str, Any], ...]) -> frozenset[str]:
    """The parameters annotated ``str``: they take any string (a slice, say)."""
    try:
        hints = typing.get_type_hints(forward)
    except Exception:  # noqa: BLE001 - annotations that do not resolve say nothing
        return frozenset()
    return frozenset(key for key, _ in params if hints.get(key) is str)


def numbers(forward: Callable[..., Any], params: tuple[tuple[str, Any], ...]
            ) -> dict[str, type]:
    """The parameters annotated ``float`` (any number) or ``int`` (an int only)."""
    try:
        hints = typing.get_type_hints(forward)
    except Exception:  # noqa: BLE001 - annotations that do not resolve say nothing
        return {}
    return {key: hints[key] for key, _ in params if hints.get(key) in (float, int)}


def anonymous(arity: int) -> tuple[str, ...]:
    return ("x", "y")[:arity] if arity <= 2 else tuple(f"x{k}" for k in range(arity))


def call_signature(
    forward: Callable[..., Any], arity: int, params: tuple[tuple[str, Any], ...],
    positional: int, variadic: bool = False,
) -> inspect.Signature:
    """``mean(x, /, *, axis=None, keepdims=False, name=None)``: how the op is applied."""
    signature = _signature(forward)
    operands = anonymous(arity) if signature is None else tuple(signature.parameters)[:arity]
    Parameter = inspect.Parameter
    return inspect.Signature([
        *(Parameter(o, Parameter.POSITIONAL_ONLY) for o in operands),
        *(
            Parameter(key, Parameter.POSITIONAL_OR_KEYWORD if k < positional
                      else Parameter.KEYWORD_ONLY,
                      **({} if default is REQUIRED else {"default": default}))
            for k, (key, default) in enumerate(params)
        ),
        Parameter("name", Parameter.KEYWORD_ONLY, default=None),
    ])


def origin(forward: Callable[..., Any]) -> Origin | None:
    """Where a forward was written: re-running that code redefines the op quietly."""
    code = getattr(forward, "__code__", None)
    return None if code is None else (code.co_filename, code.co_firstlineno)
