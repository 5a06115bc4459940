"""The op record and the registry that built-in and user-defined ops share.

An op is one primitive: a numpy forward, one vector-Jacobian rule per operand,
an optional shape rule, a display label and the text of its local rules. ``define_op``
(or the ``op`` decorator) registers it by name, and the returned ``Op`` is also the
function that applies it in the Python builder (``help(op)`` shows its own signature).

A forward is called as ``forward(*operands, **params)``: its operands come first,
positional and without defaults; its parameters come after them, keyword-only or
with a default. A vector-Jacobian rule is called as ``vjp(g, out, *operands,
**params)`` with every parameter given (defaults filled in), and returns the gradient
for its operand; it may return it at the broadcast shape (the engine sums it back to
the operand's shape) or ``None`` for "no contribution". A rule given as ``None``
declares an operand that never gets a gradient (used only for its shape, or as
indices). ``saves`` declares which forward values the rules read (operand positions
and/or ``"out"``), so that the scheduler can release the others early; an op that
does not say is assumed to read them all.

>>> import numpy as np, bngraph as bg
>>> cube = bg.define_op("doc_cube", lambda x: x ** 3,
...                     vjps=[lambda g, out, x: g * 3 * x ** 2], rules=["g·3·{0}²"])
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
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import GraphDefinitionError, ParamError, UnknownOpError, closest

if TYPE_CHECKING:
    from ..node import Node

__all__ = ["Op", "define_op", "op", "get_op", "op_names", "is_literal_param"]

Vjp = Callable[..., Any]
ShapeRule = Callable[..., tuple[Any, ...]]
Label = str | Callable[[Mapping[str, Any]], str]
RuleText = str | Callable[[Mapping[str, Any]], str]
Origin = tuple[str, int]

_REGISTRY: dict[str, Op] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class Op:
    """One registered primitive. Calling it applies it in the Python builder.

    ``params`` lists the op's parameters with their defaults (``REQUIRED`` for a
    parameter without one); ``rules`` holds one text per operand for drawings
    (``"g × {1}"``: ``{0}``, ``{1}``... are the operands, ``{out}`` the node itself,
    ``{axis}`` a parameter). ``writes_out``: the forward takes ``out=``, an array to
    write its result into (``None``: allocate one), which compiled plans use.
    """

    name: str
    forward: Callable[..., Any]
    vjps: tuple[Vjp | None, ...]
    shape: ShapeRule | None = None
    label: Label | None = None
    saves: frozenset[int | str] = frozenset()
    params: tuple[tuple[str, Any], ...] = ()
    rules: tuple[RuleText, ...] | None = None
    doc: str | None = None
    origin: Origin | None = None
    writes_out: bool = False

    def __post_init__(self) -> None:
        # what help(), inspect.signature() and IPython's ``op?`` show
        object.__setattr__(self, "__doc__", self.doc or f"The op {self.name}.")
        object.__setattr__(self, "__name__", self.name)
        object.__setattr__(self, "__qualname__", self.name)
        object.__setattr__(self, "__signature__", _call_signature(self))

    def __get__(self, instance: object, owner: type | None = None) -> Op:
        """Ops stay themselves as class attributes; this also makes ``help(op)``
        document the op as a function rather than the ``Op`` class."""
        return self

    @property
    def arity(self) -> int:
        """The number of operands (one vector-Jacobian rule each)."""
        return len(self.vjps)

    @property
    def no_grad(self) -> frozenset[int]:
        """Operand positions that never get a gradient (shape or index operands)."""
        return frozenset(k for k, vjp in enumerate(self.vjps) if vjp is None)

    def display(self, params: Mapping[str, Any]) -> str:
        """The short label drawn for a node of this op."""
        if self.label is None:
            return self.name
        if isinstance(self.label, str):
            return self.label
        return self.label(self.full_params(params))

    def rule(self, position: int, operands: Sequence[str], out: str,
             params: Mapping[str, Any]) -> str:
        """The local rule for operand ``position`` as text, operand names filled in;
        ``"vjp"`` for an op that gives no rule texts.

        >>> get_op("mul").rule(0, ["xmu", "ivar"], "xhat", {})
        'g × ivar'
        """
        if self.rules is None:
            return "vjp"
        full = self.full_params(params)
        text = self.rules[position]
        template = text if isinstance(text, str) else text(full)
        return template.format(*operands, out=out, **full)

    def bind(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``params`` and return those that differ from their defaults.

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
            if default is REQUIRED and key not in bound:
                raise ParamError(f"op {self.name} needs the parameter {key!r}")
        return {key: bound[key] for key, _ in self.params if key in bound}

    def full_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` completed with the op's defaults: what forwards and rules receive.

        >>> get_op("mean").full_params({"axis": 0})
        {'axis': 0, 'keepdims': False}
        """
        return {key: params.get(key, default) for key, default in self.params}

    def __call__(self, *operands: Any, name: str | None = None, **params: Any) -> Node:
        builder = next((o.graph for o in operands if hasattr(o, "graph")), None)
        if builder is None:
            raise GraphDefinitionError(
                f"op {self.name} needs at least one node operand, got only "
                f"{tuple(operands)!r}"
            )
        node: Node = builder.apply(self, operands, params, name)
        return node

    def __repr__(self) -> str:
        return f"<bngraph op {self.name}/{self.arity}>"


class _Required:
    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Required()
"""The default of a parameter that has none: the op needs it."""


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


def _split_signature(
    name: str, forward: Callable[..., Any], arity: int
) -> tuple[tuple[str, ...], tuple[tuple[str, Any], ...]]:
    """The forward's operand names and its parameters with their defaults.

    Operands are the leading positional arguments without a default, one per rule;
    everything after them must be keyword-only or have a default, so that no
    parameter can be mistaken for an operand.
    """
    signature = _signature(forward)
    if signature is None:  # a ufunc or builtin: operands only
        return _anonymous(arity), ()
    parameters = list(signature.parameters.values())
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


def _signature(forward: Callable[..., Any]) -> inspect.Signature | None:
    """The forward's signature; ``None`` for numpy ufuncs (whose keywords are not
    parameters of the op) and builtins without one."""
    if isinstance(forward, np.ufunc):
        return None
    try:
        return inspect.signature(forward)
    except (TypeError, ValueError):
        return None


def _anonymous(arity: int) -> tuple[str, ...]:
    return ("x", "y")[:arity] if arity <= 2 else tuple(f"x{k}" for k in range(arity))


def _call_signature(record: Op) -> inspect.Signature:
    """``mean(x, /, *, axis=None, keepdims=False, name=None)``: how the op is applied."""
    signature = _signature(record.forward)
    operands = _anonymous(record.arity) if signature is None else tuple(
        signature.parameters)[: record.arity]
    Parameter = inspect.Parameter
    return inspect.Signature([
        *(Parameter(o, Parameter.POSITIONAL_ONLY) for o in operands),
        *(
            Parameter(key, Parameter.KEYWORD_ONLY,
                      **({} if default is REQUIRED else {"default": default}))
            for key, default in record.params
        ),
        Parameter("name", Parameter.KEYWORD_ONLY, default=None),
    ])


def _origin(forward: Callable[..., Any]) -> Origin | None:
    """Where a forward was written: re-running that code redefines the op quietly."""
    code = getattr(forward, "__code__", None)
    return None if code is None else (code.co_filename, code.co_firstlineno)


def _check_rules(
    name: str, rules: Sequence[RuleText] | None, arity: int
) -> tuple[RuleText, ...] | None:
    if rules is None:
        return None
    rules = tuple(rules)
    if len(rules) != arity or not all(isinstance(r, str) or callable(r) for r in rules):
        raise ParamError(
            f"op {name}: rules must be {arity} text(s), one per operand, not {rules!r}"
        )
    return rules


def _check_saves(name: str, saves: Sequence[int | str] | None, arity: int) -> frozenset[int | str]:
    if saves is None:
        return frozenset([*range(arity), "out"])
    kept = frozenset(saves)
    bad = [s for s in kept if s != "out" and s not in range(arity)]
    if bad:
        raise ParamError(
            f"op {name}: saves may hold operand positions 0..{arity - 1} and 'out', not {bad}"
        )
    return kept


def define_op(
    name: str,
    forward: Callable[..., Any],
    vjps: Sequence[Vjp | None],
    *,
    shape: ShapeRule | None = None,
    label: Label | None = None,
    saves: Sequence[int | str] | None = None,
    rules: Sequence[RuleText] | None = None,
    doc: str | None = None,
    replace: bool = False,
    out: bool = False,
) -> Op:
    """Register an op and return it; the op is then usable in graphs and ``.bng`` files.

    ``forward(*operands, **params)`` computes the value; ``vjps[i](g, out, *operands,
    **params)`` the gradient for operand ``i`` (``None``: that operand gets none).
    ``rules`` are the rule texts drawings show (templates, or functions of the
    parameters that return one); ``doc`` the op's help (by default the
    forward's docstring). Defining an op again from the same place (a notebook cell
    run twice) replaces it; another definition of a taken name needs ``replace=True``.
    ``out=True`` declares that the forward takes ``out=``: an array of the result's
    shape and dtype to write into and return (or ``None``, to allocate one), so that
    compiled plans can give it a buffer they reuse.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ParamError(f"op name {name!r} must be an identifier not starting with '_'")
    vjps = tuple(vjps)
    if not vjps or not all(v is None or callable(v) for v in vjps):
        raise ParamError(f"op {name}: vjps must be one callable (or None) per operand")
    if all(v is None for v in vjps):
        raise ParamError(f"op {name}: at least one operand must have a vector-Jacobian rule")
    arity = len(vjps)
    _, params = _split_signature(name, forward, arity)
    if out:
        if "out" not in dict(params):
            raise ParamError(f"op {name}: out=True, but its forward takes no out= parameter")
        params = tuple(p for p in params if p[0] != "out")
    if doc is None and inspect.isfunction(forward):
        doc = inspect.getdoc(forward)
    record = Op(
        name, forward, vjps, shape, label, _check_saves(name, saves, arity), params,
        _check_rules(name, rules, arity), doc, _origin(forward), out,
    )
    with _LOCK:
        taken = _REGISTRY.get(name)
        if taken is not None and not replace and (
            taken.origin is None or taken.origin != record.origin
        ):
            raise ParamError(
                f"op {name!r} is already defined elsewhere; pass replace=True to redefine it"
            )
        _REGISTRY[name] = record
    return record


def op(
    name: str | None = None,
    *,
    vjps: Sequence[Vjp | None],
    shape: ShapeRule | None = None,
    label: Label | None = None,
    saves: Sequence[int | str] | None = None,
    rules: Sequence[RuleText] | None = None,
    replace: bool = False,
    out: bool = False,
) -> Callable[[Callable[..., Any]], Op]:
    """Decorator form of ``define_op``: the decorated function is the forward.

    >>> import numpy as np, bngraph as bg
    >>> @bg.op(vjps=[lambda g, out, x: g * out * (1 - out)], saves=["out"])
    ... def doc_sigmoid(x):
    ...     "The logistic function."
    ...     return 1 / (1 + np.exp(-x))
    >>> doc_sigmoid.arity, doc_sigmoid.__doc__
    (1, 'The logistic function.')
    """

    def register(forward: Callable[..., Any]) -> Op:
        return define_op(
            name or forward.__name__, forward, vjps, shape=shape, label=label,
            saves=saves, rules=rules, replace=replace, out=out,
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
