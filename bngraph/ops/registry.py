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

Forwards and rules receive the arrays of the run's namespace: numpy arrays on numpy
runs, torch tensors on torch runs, dask arrays on dask runs (lazily: they build a task
graph). The built-in ops are written against the Python Array API standard
(``bngraph.ops.arrays.namespace(x)`` gives the namespace of their operands); an op that
runs only on some libraries says so once, ``namespaces=("numpy",)``, and runs on others are
refused before anything runs, naming the node and its op.

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

import functools
import inspect
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ArityError, GraphDefinitionError, ParamError, UnknownOpError, closest
from .declarations import RuleText, check_namespaces, check_rules, check_saves
from .signatures import (
    REQUIRED,
    Origin,
    call_signature,
    choices,
    numbers,
    origin,
    positional_count,
    split_signature,
    texts,
)

if TYPE_CHECKING:
    from ..node import Node

__all__ = [
    "Op", "define_op", "op", "get_op", "op_names", "is_literal_param", "REQUIRED", "NUMPY_ONLY",
]

Vjp = Callable[..., Any]
ShapeRule = Callable[..., tuple[Any, ...]]
Label = str | Callable[[Mapping[str, Any]], str]

NUMPY_ONLY = ("numpy",)
"""``namespaces`` of an op written with numpy alone (strided views, scatter-adds, scipy)."""

_REGISTRY: dict[str, Op] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class Op:
    """One registered primitive. Calling it applies it in the Python builder.

    ``params`` lists the op's parameters with their defaults (``REQUIRED`` for a
    parameter without one); ``rules`` holds one text per operand for drawings
    (``"g × {1}"``: ``{0}``, ``{1}``... are the operands, ``{out}`` the node itself,
    ``{axis}`` a parameter). ``choices`` holds the valid values of the parameters
    annotated ``Literal[...]`` in the forward, ``texts`` the parameters annotated
    ``str``; ``positional`` counts the parameters that may follow the operands
    positionally (``clip(x, 0, 6)``). A ``variadic`` op takes one or more operands
    as a list (``concat([a, b], axis=1)``), with one rule for all of them, called
    with the operand's ``position``. ``writes_out``: the forward takes ``out=``, an
    array to write its result into (``None``: allocate one), which compiled plans use.
    ``namespaces`` names the array libraries its forward and rules run on (``None``: any
    library of the array API standard).
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
    choices: Mapping[str, tuple[Any, ...]] | None = None
    positional: int = 0
    variadic: bool = False
    texts: frozenset[str] = frozenset()
    numbers: Mapping[str, type] = field(default_factory=dict)
    writes_out: bool = False
    namespaces: frozenset[str] | None = None

    def __post_init__(self) -> None:
        # what help(), inspect.signature() and IPython's ``op?`` show
        object.__setattr__(self, "__doc__", self.doc or f"The op {self.name}.")
        object.__setattr__(self, "__name__", self.name)
        object.__setattr__(self, "__qualname__", self.name)
        object.__setattr__(self, "__signature__", call_signature(
            self.forward, self.arity, self.params, self.positional, self.variadic))

    def __get__(self, instance: object, owner: type | None = None) -> Op:
        """Ops stay themselves as class attributes; this also makes ``help(op)``
        document the op as a function rather than the ``Op`` class."""
        return self

    @property
    def arity(self) -> int:
        """The number of operands (one vector-Jacobian rule each); the least number
        for a variadic op."""
        return len(self.vjps)

    @property
    def no_grad(self) -> frozenset[int]:
        """Operand positions that never get a gradient (shape or index operands)."""
        return frozenset(k for k, vjp in enumerate(self.vjps) if vjp is None)

    def runs_on(self, library: str) -> bool:
        """Whether the op runs on the arrays of ``library`` (``"numpy"``, ``"dask"``...).

        >>> get_op("conv2d").runs_on("dask"), get_op("mean").runs_on("dask")
        (False, True)
        """
        return self.namespaces is None or library in self.namespaces

    def takes(self, count: int) -> bool:
        """Whether the op applies to ``count`` operands."""
        return count >= 1 if self.variadic else count == self.arity

    def vjp(self, position: int) -> Vjp | None:
        """The vector-Jacobian rule of operand ``position`` (``None``: no gradient).

        >>> get_op("concat").vjp(1).keywords
        {'position': 1}
        """
        if not self.variadic:
            return self.vjps[position]
        rule = self.vjps[0]
        return None if rule is None else functools.partial(rule, position=position)

    def reads(self, position: int) -> bool:
        """Whether the rules read the forward value of operand ``position``."""
        return position in self.saves or "*" in self.saves

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
        text = self.rules[0 if self.variadic else position]
        template = text if isinstance(text, str) else text(full)
        return template.format(*operands, out=out, position=position, **full)

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
            self._check_choice(key, value)
            if not _same(value, known[key]):
                bound[key] = value
        for key, default in self.params:
            if default is REQUIRED and key not in bound:
                raise ParamError(f"op {self.name} needs the parameter {key!r}")
        return {key: bound[key] for key, _ in self.params if key in bound}

    def _check_choice(self, key: str, value: Any) -> None:
        """A parameter with a fixed set of values takes one of them; a string is a
        value only for such a parameter."""
        allowed = (self.choices or {}).get(key)
        if allowed is not None and not any(_same(value, a) for a in allowed):
            listed = ", ".join(map(repr, allowed))
            raise ParamError(f"op {self.name}: parameter {key}={value!r} is not one of {listed}")
        kind = self.numbers.get(key)
        if kind is not None and (isinstance(value, bool) or not isinstance(
                value, (int, float) if kind is float else int)):
            what = "a number" if kind is float else "an int"
            raise ParamError(f"op {self.name}: parameter {key}={value!r} must be {what}")
        if allowed is None and isinstance(value, str) and key not in self.texts:
            raise ParamError(
                f"op {self.name}: parameter {key}={value!r} is not a literal "
                "(int, float, bool, None or a tuple of ints)"
            )

    def full_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` completed with the op's defaults: what forwards and rules receive.

        >>> get_op("mean").full_params({"axis": 0})
        {'axis': 0, 'keepdims': False}
        """
        return {key: params.get(key, default) for key, default in self.params}

    def __call__(self, *operands: Any, name: str | None = None, **params: Any) -> Node:
        operands, params = self.split_call(operands, params)
        builder = next((o.graph for o in operands if hasattr(o, "graph")), None)
        if builder is None:
            raise GraphDefinitionError(
                f"op {self.name} needs at least one node operand, got only "
                f"{tuple(operands)!r}"
            )
        node: Node = builder.apply(self, operands, params, name)
        return node

    def split_call(
        self, args: Sequence[Any], params: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Operands and parameters of a call: arguments after the operands are the
        op's positional parameters, in order (``clip(x, 0, 6)`` sets lo and hi).

        >>> get_op("mean").split_call(["x"], {"axis": 0})
        (('x',), {'axis': 0})
        """
        args, params = tuple(args), dict(params)
        if self.variadic:
            if not args or not isinstance(args[0], (list, tuple)):
                raise ArityError(
                    f"op {self.name} takes its operands as a list: {self.name}([a, b, ...])"
                )
            operands, extra = tuple(args[0]), args[1:]
        else:
            operands, extra = args[: self.arity], args[self.arity:]
            if not extra or any(hasattr(a, "graph") for a in extra):
                return args, params  # a node is an operand: the arity check says what is wrong
        if len(extra) > self.positional:
            keywords = ", ".join(f"{k}=" for k, _ in self.params[self.positional:])
            hint = f"; give {keywords} by keyword" if keywords else ""
            raise ArityError(
                f"op {self.name} takes {self.arity} operand(s) and {self.positional} "
                f"positional parameter(s), got {len(args)} arguments{hint}"
            )
        for (key, _), value in zip(self.params, extra, strict=False):  # extra may be shorter
            if key in params:
                raise ParamError(f"op {self.name}: parameter {key!r} is given twice")
            params[key] = value
        return operands, params

    def __repr__(self) -> str:
        return f"<bngraph op {self.name}/{self.arity}>"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_literal_param(value: Any) -> bool:
    """Whether ``value`` may be an op parameter: int, float, bool, None, a string,
    a tuple of ints, or a tuple of tuples of ints (``pad_width=((0, 0), (1, 1))``).

    >>> [is_literal_param(v) for v in (1, "tanh", (1, 2), ((0, 0), (1, 2)), (1.5,), [1])]
    [True, True, True, True, False, False]
    """
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, tuple) and (
        all(_is_int(v) for v in value)
        or all(isinstance(v, tuple) and all(_is_int(w) for w in v) for v in value)
    )


def _plain(value: Any) -> Any:
    """numpy scalars to Python numbers and lists to tuples, at any depth."""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if isinstance(value, (list, tuple)):
        return tuple(_plain(v) for v in value)
    return value


def _literal(value: Any, op_name: str, key: str) -> Any:
    """Normalise a parameter value to a plain literal (numpy ints, lists of ints)."""
    value = _plain(value)
    if not is_literal_param(value):
        raise ParamError(
            f"op {op_name}: parameter {key}={value!r} is not a literal "
            "(int, float, bool, None or a tuple of ints)"
        )
    return value


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
    variadic: bool = False,
    out: bool = False,
    namespaces: Sequence[str] | None = None,
) -> Op:
    """Register an op and return it; the op is then usable in graphs and ``.bng`` files.

    ``forward(*operands, **params)`` computes the value; ``vjps[i](g, out, *operands,
    **params)`` the gradient for operand ``i`` (``None``: that operand gets none).
    ``rules`` are the rule texts drawings show (templates, or functions of the
    parameters that return one); ``doc`` the op's help (by default the
    forward's docstring). Defining an op again from the same place (a notebook cell
    run twice) replaces it; another definition of a taken name needs ``replace=True``.
    ``variadic=True`` makes an op of one or more operands, ``forward(*xs, **params)``,
    with one rule for all, ``vjps[0](g, out, *xs, position=k, **params)``, and
    ``saves`` of ``"out"`` and ``"*"`` (every operand). ``out=True`` declares that the
    forward takes ``out=``: an array of the result's shape and dtype to write into and
    return (or ``None``, to allocate one), so that compiled plans can give it a buffer
    they reuse. ``namespaces`` names the array libraries the op runs on (``("numpy",)`` for
    an op written with numpy alone); by default it runs on any, receiving the arrays of the
    run's library.
    """
    if not isinstance(name, str) or not name.isidentifier() or name.startswith("_"):
        raise ParamError(f"op name {name!r} must be an identifier not starting with '_'")
    vjps = tuple(vjps)
    if not vjps or not all(v is None or callable(v) for v in vjps):
        raise ParamError(f"op {name}: vjps must be one callable (or None) per operand")
    if variadic and len(vjps) != 1:
        raise ParamError(f"op {name}: a variadic op has one rule for all its operands")
    arity = len(vjps)
    _, params = split_signature(name, forward, arity, variadic)
    if out:
        if "out" not in dict(params):
            raise ParamError(f"op {name}: out=True, but its forward takes no out= parameter")
        params = tuple(p for p in params if p[0] != "out")
    if doc is None and inspect.isfunction(forward):
        doc = inspect.getdoc(forward)
    record = Op(
        name, forward, vjps, shape, label, check_saves(name, saves, arity, variadic), params,
        check_rules(name, rules, arity), doc, origin(forward),
        choices(forward, params), positional_count(forward, arity, variadic), variadic,
        texts(forward, params), numbers(forward, params), out,
        check_namespaces(name, namespaces),
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
    namespaces: Sequence[str] | None = None,
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
            saves=saves, rules=rules, replace=replace, out=out, namespaces=namespaces,
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
