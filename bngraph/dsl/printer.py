"""Canonical ``.bng`` text of a graph: ``to_dsl(graph)``.

The canonical text lists the nodes in the graph's topological order (which is
the definition order of a graph built in Python), one assignment per node,
consecutive nodes of one stage in one ``stage`` block. Numbers are normalised:
the shortest text that reads back as the same float, without exponent padding
(``1e-5``), and a float operand with an integral value as an int (``1 / x``;
operands are always stored as floats). Parameters keep their type (``2`` and
``2.0`` differ). Parsing the text gives the same graph, and printing that graph
gives the same text.

>>> import bngraph as bg
>>> g = bg.Graph("g")
>>> x = g.input("x", shape=("N",), default=0.5)
>>> with g.stage("1 scale"):
...     y = (2 * x).named("y")
>>> g.output(y)
>>> print(to_dsl(g), end="")
graph g
<BLANKLINE>
input x[N] = 0.5
<BLANKLINE>
stage "1 scale":
    y = 2 * x
<BLANKLINE>
output y
"""

from __future__ import annotations

import keyword
import math
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from ..errors import node_context
from ..ir import INPUT, NodeSpec
from ..ops import get_op
from ..schedule import Planned
from .errors import DSLPrintError
from .expressions import LANGUAGE_KEYWORDS

__all__ = ["to_dsl", "number_literal", "is_writable_name"]

INDENT = "    "
_INFIX = {"add": "+", "sub": "-", "mul": "*", "div": "/", "matmul": "@"}


def to_dsl(graph: Planned) -> str:
    """The canonical text of ``graph`` or a plan (freezing a graph, as every export does)."""
    plan = graph.plan
    ir = plan.ir
    lines = [f"graph {_graph_name(ir.name)}"]
    previous: str | None | bool = False  # the stage of the last node: False before any
    for index in plan.order:
        spec = ir.spec(index)
        if spec.stage != previous:
            if previous is None or spec.stage is None or previous is False:
                lines.append("")
            if spec.stage is not None:
                lines.append(f"stage {quote(spec.stage)}:")
            previous = spec.stage
        indent = INDENT if spec.stage is not None else ""
        lines.append(indent + statement(spec))
    lines += ["", "output " + ", ".join(_name(o, ir.spec(o)) for o in ir.outputs)]
    return "\n".join(lines) + "\n"


def statement(spec: NodeSpec) -> str:
    """The one line that defines the node ``spec``.

    >>> from bngraph.ir import NodeSpec
    >>> statement(NodeSpec("mu", "mean", ("x",), {"axis": 0}))
    'mu = mean(x, axis=0)'
    """
    name = _name(spec.name, spec)
    if spec.op == INPUT:
        return "input " + name + _input_suffix(spec)
    return f"{name} = {_expression(spec)}"


def _input_suffix(spec: NodeSpec) -> str:
    text = ""
    if "shape" in spec.params:
        dims = [_dim(d, spec) for d in spec.params["shape"]]
        text += "[" + ", ".join(dims) + "]"
    if spec.params.get("default") is not None:
        text += " = " + _float(float(spec.params["default"]), spec)
    if spec.params.get("grad") is False:
        text += " const"
    return text


def _dim(dim: Any, spec: NodeSpec) -> str:
    if isinstance(dim, str):
        if not is_writable_name(dim):
            raise DSLPrintError(
                f"input {spec.name!r}: the dimension {dim!r} cannot be written in .bng text "
                "(a dimension is an identifier not starting with '_')"
            )
        return dim
    return str(int(dim))


def _expression(spec: NodeSpec) -> str:
    operands = [_operand(o, spec) for o in spec.operands]
    params = dict(spec.params)
    infix = spec.op in _INFIX and not params and len(operands) == 2
    if infix and (spec.op != "matmul" or all(isinstance(o, str) for o in spec.operands)):
        return f"{operands[0]} {_INFIX[spec.op]} {operands[1]}"
    if spec.op == "getitem" and set(params) == {"index"} and len(operands) == 1:
        return f"{operands[0]}[{params['index']}]"
    if spec.op == "neg" and not params and len(operands) == 1:
        return f"-{operands[0]}"
    if spec.op == "pow" and len(operands) == 1 and set(params) == {"exponent"}:
        exponent = params["exponent"]
        if type(exponent) in (int, float) and math.isfinite(exponent):
            return f"{operands[0]} ** {number_literal(exponent, spec)}"
    if get_op(spec.op).variadic:
        operands = ["[" + ", ".join(operands) + "]"]
    arguments = operands + [f"{k}={_param(v, k, spec)}" for k, v in _ordered(spec).items()]
    return f"{spec.op}({', '.join(arguments)})"


def _ordered(spec: NodeSpec) -> Mapping[str, Any]:
    """Parameters in the op's declared order (the builder already stores them so)."""
    order = [k for k, _ in get_op(spec.op).params]
    return {k: spec.params[k] for k in sorted(spec.params, key=_rank(order))}


def _rank(order: list[str]) -> Any:
    return lambda key: (order.index(key) if key in order else len(order), key)


def _operand(operand: str | float, spec: NodeSpec) -> str:
    if isinstance(operand, str):
        return _name(operand, spec)
    return _float(float(operand), spec)


def _float(value: float, spec: NodeSpec) -> str:
    """A number stored as a float whatever was written (operands, defaults): 1.0 prints as 1."""
    negative_zero = value == 0 and math.copysign(1.0, value) < 0
    if value.is_integer() and abs(value) < 1e16 and not negative_zero:
        return str(int(value))
    return number_literal(value, spec)


def _param(value: Any, key: str, spec: NodeSpec) -> str:
    if value is None or isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, float)):
        return number_literal(value, spec)
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, tuple) and all(type(v) is int for v in value):
        return _tuple(str(v) for v in value)
    if isinstance(value, tuple) and all(
        isinstance(v, tuple) and all(type(w) is int for w in v) for v in value
    ):
        return _tuple(_tuple(str(w) for w in v) for v in value)
    raise DSLPrintError(
        f"{node_context(spec.name, spec.op, spec.stage)}: parameter {key}={value!r} cannot "
        "be written in .bng text"
    )


def _tuple(items: Iterator[str]) -> str:
    """A tuple literal: ``(1,)`` for one element, ``(1, 2)`` otherwise."""
    inner = list(items)
    return f"({inner[0]},)" if len(inner) == 1 else "(" + ", ".join(inner) + ")"


def number_literal(value: int | float, spec: NodeSpec | None = None) -> str:
    """A number as ``.bng`` text writes it: ints as ints, floats by their shortest
    repr (which reads back as the same float), without exponent padding.

    >>> number_literal(1e-05), number_literal(2.0), number_literal(1e+16), number_literal(3)
    ('1e-5', '2.0', '1e16', '3')
    """
    if type(value) is int:
        return str(value)
    if not math.isfinite(value):
        where = f"{node_context(spec.name, spec.op, spec.stage)}: " if spec else ""
        raise DSLPrintError(f"{where}the number {value!r} cannot be written in .bng text")
    text = repr(float(value))
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else ""
        text = f"{mantissa}e{sign}{exponent.lstrip('+-').lstrip('0') or '0'}"
    return text


def is_writable_name(name: str) -> bool:
    """Whether ``name`` can name a node in ``.bng`` text.

    >>> [is_writable_name(n) for n in ("xmu", "_x", "if", "a b", "input")]
    [True, False, False, False, False]
    """
    return (
        isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)
        and not name.startswith("_") and name not in LANGUAGE_KEYWORDS
        and unicodedata.normalize("NFKC", name) == name  # Python reads identifiers as NFKC
    )


def _name(name: str, spec: NodeSpec) -> str:
    if is_writable_name(name):
        return name
    why = _why_not(name)
    raise DSLPrintError(
        f"{node_context(spec.name, spec.op, spec.stage)}: the name {name!r} cannot be written "
        f"in .bng text ({why}); rename the node to an identifier"
    )


def _why_not(name: str) -> str:
    if name.startswith("_"):
        return "names starting with '_' are not allowed"
    if keyword.iskeyword(name):
        return "it is a Python keyword"
    if name.isidentifier() and unicodedata.normalize("NFKC", name) != name:
        return f"Python's parser reads it as {unicodedata.normalize('NFKC', name)!r}"
    if name in LANGUAGE_KEYWORDS:
        return "it is a keyword of the language"
    return "it is not an identifier"


def _graph_name(name: str) -> str:
    return name if is_writable_name(name) else quote(name)


def quote(text: str) -> str:
    """A double-quoted string literal of ``text``, escaping what is not printable.

    >>> print(quote('say "hi"\\n'))
    "say \\"hi\\"\\n"
    """
    return '"' + "".join(_escape(ch) for ch in text) + '"'


def _escape(ch: str) -> str:
    if ch in '"\\':
        return "\\" + ch
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    if ch.isprintable():
        return ch
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else (
        f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")


