"""The allow-list walk over an expression's ``ast``: it builds nodes, it evaluates nothing.

Allowed: node names, int and float literals (a minus sign folds into the
number), ``+ - * / ** @``, unary ``-`` and ``+``, and calls of registered ops
with node or number operands and keyword parameters whose values are literals
(int, float, bool, None, tuples of ints or of tuples of ints, and strings for
parameters with a fixed set of values); the operands of a variadic op come as a
list, ``concat([a, b], axis=1)``; a node takes a constant index of ints, slices and
``...``, ``x[1:3, ..., 0]``. Everything else is rejected with an
error saying what is not allowed. The walk keeps its own stack, so no depth of
nesting can exhaust Python's recursion limit.

Nodes are made through the Python builder in the order Python would evaluate
the same expression (left operand, right operand, call arguments), so the
automatic names (``add_1``, ...) are the ones the builder gives.

>>> import bngraph as bg
>>> from bngraph.dsl.frame import Source, Statement
>>> g = bg.Graph("g")
>>> symbols = {"x": g.input("x")}
>>> text = "y = sqrt(x + 1)"
>>> place = Place(Source("<doc>", (text,)), Statement("assign", text, 1, 0))
>>> build_node(place, place.parse().value, g, symbols, "y")
<Node 'y' sqrt>
>>> g.names
('x', 'add_1', 'y')
"""

from __future__ import annotations

import ast
import operator
from typing import Any

from ..errors import BngraphError, closest
from ..graph import Graph, Node
from ..ops import get_op, op_names
from .errors import DSLGraphError, DSLNameError, DSLNotAllowedError, DSLSyntaxError, clip
from .literals import (
    NOT_ALLOWED,
    describe,
    finite,
    fold_number,
    index_item,
    literal_param,
    number,
    show,
    signs,
)
from .place import Place

__all__ = ["build_node", "literal_param", "number", "check_name", "NOT_ALLOWED"]

Value = Node | int | float

_OPERATORS: dict[type, str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@",
}
_OTHER_OPERATORS: dict[type, str] = {
    ast.FloorDiv: "//", ast.Mod: "%", ast.LShift: "<<", ast.RShift: ">>",
    ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&", ast.Not: "not", ast.Invert: "~",
}

LANGUAGE_KEYWORDS = frozenset({"graph", "input", "stage", "output"})


def check_name(place: Place, name: str, node: ast.AST, what: str = "a name") -> None:
    """Reject names the language reserves: a leading underscore, a statement keyword."""
    if name.startswith("_"):
        raise place.error(
            DSLNotAllowedError, f"names starting with '_' are not allowed ({clip(name)})", node
        )
    if name in LANGUAGE_KEYWORDS:
        raise place.error(
            DSLSyntaxError,
            f"{name!r} is a keyword of the language and cannot be {what}", node,
        )


def build_node(
    place: Place, expr: ast.expr, graph: Graph, symbols: dict[str, Node], name: str
) -> Node:
    """Build the nodes of ``expr`` in ``graph`` and name the last one ``name``; returns it.

    ``symbols`` maps the names defined so far to their nodes.
    """
    before = len(graph)
    try:
        value = _walk(place, expr, symbols, name)
    except DSLSyntaxError:
        raise
    except BngraphError as error:  # raised by the builder; located at the statement
        raise place.error(DSLGraphError, str(error), expr) from None
    if not isinstance(value, Node):
        raise place.error(
            DSLSyntaxError,
            f"{name} = {value!r}: an assignment must apply an op to a node; "
            "declare a constant as an input with a default (input c = 1.0) or write the "
            "number where it is used",
            expr,
        )
    if value.index < before:
        raise place.error(
            DSLSyntaxError,
            f"{name} = {value.name} would only give node {value.name!r} a second name; "
            "an assignment must apply an op",
            expr,
        )
    if value.name != name:
        try:
            value.named(name)
        except BngraphError as error:
            raise place.error(DSLGraphError, str(error), expr) from None
    return value


def _walk(place: Place, root: ast.expr, symbols: dict[str, Node], name: str) -> Value:
    """Post-order walk with an explicit stack: children first, left to right."""
    values: list[Value] = []
    stack: list[tuple[ast.expr, bool]] = [(root, False)]
    not_numbers: set[int] = set()  # signs over a non-number: fold each chain once, not per sign
    while stack:
        node, ready = stack.pop()
        if ready:
            values.append(_combine(place, node, values, name if node is root else None))
            continue
        if id(node) not in not_numbers:
            folded = fold_number(node)
            if folded is not None:
                values.append(finite(place, folded, node))
                continue
            not_numbers.update(_sign_chain(node))
        children = _children(place, node, symbols)
        if children is None:
            values.append(_leaf(place, node, symbols))
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(children))
    assert len(values) == 1
    return values[0]


def _sign_chain(node: ast.expr) -> list[int]:
    """The ids of the unary + and - nodes from ``node`` down to what they sign."""
    ids = []
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        ids.append(id(node))
        node = node.operand
    return ids


def _children(place: Place, node: ast.expr, symbols: dict[str, Node]) -> list[ast.expr] | None:
    """The operands to build before ``node``; ``None`` for a leaf. Rejects the rest."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return None
    if isinstance(node, ast.BinOp):
        symbol = _OPERATORS.get(type(node.op))
        if symbol is None:
            raise place.error(
                DSLNotAllowedError,
                f"the operator {_OTHER_OPERATORS.get(type(node.op), '?')} is not allowed; "
                "operators: + - * / ** @ and unary -",
                node,
            )
        return [node.left] if symbol == "**" else [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, (ast.USub, ast.UAdd)):
            return [node.operand]
        raise place.error(
            DSLNotAllowedError,
            f"the operator {_OTHER_OPERATORS[type(node.op)]} is not allowed; "
            "operators: + - * / ** @ and unary -",
            node,
        )
    if isinstance(node, ast.Subscript):
        return [node.value]
    if isinstance(node, ast.Call):
        _check_call(place, node, symbols)
        listed = _listed(node)
        return [*listed, *node.args[1:]] if listed is not None else list(node.args)
    raise place.error(DSLNotAllowedError, f"{describe(node)} not allowed", node)


def _listed(node: ast.Call) -> list[ast.expr] | None:
    """The operands of a variadic op written as a list, ``concat([a, b], axis=1)``."""
    if not isinstance(node.func, ast.Name) or not node.args:
        return None
    if not isinstance(node.args[0], ast.List):
        return None
    return list(node.args[0].elts) if get_op(node.func.id).variadic else None


def _leaf(place: Place, node: ast.expr, symbols: dict[str, Node]) -> Value:
    if isinstance(node, ast.Name):
        check_name(place, node.id, node, "used as a value")
        if node.id in symbols:
            return symbols[node.id]
        if node.id in op_names():
            raise place.error(
                DSLNameError, f"{node.id!r} is an op, not a node: call it, {node.id}(...)", node
            )
        defined = ", ".join(symbols) or "none yet"
        raise place.error(
            DSLNameError,
            f"undefined name {clip(node.id)}{closest(node.id, symbols)}; a name must be defined "
            f"before it is used (defined: {_shorten(defined)})",
            node,
        )
    assert isinstance(node, ast.Constant)
    if isinstance(node.value, bool) or node.value is None:
        raise place.error(
            DSLNotAllowedError,
            f"{node.value!r} is only allowed as an op parameter value (key={node.value!r})",
            node,
        )
    raise place.error(
        DSLNotAllowedError,
        f"{describe(node)} not allowed in expressions; operands are node names and "
        "int or float numbers",
        node,
    )


def _shorten(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + ", ..."


def _check_call(place: Place, node: ast.Call, symbols: dict[str, Node]) -> None:
    func = node.func
    if not isinstance(func, ast.Name):
        what = describe(func) if not isinstance(func, ast.Call) else "calling a call's result is"
        raise place.error(
            DSLNotAllowedError,
            f"only registered ops can be called; {what} not allowed", func,
        )
    check_name(place, func.id, func, "called")
    known = op_names()
    if func.id not in known:
        if func.id in symbols:
            msg = f"{clip(func.id)} is a node, not an op; only registered ops can be called"
        else:
            msg = f"unknown op {clip(func.id)}{closest(func.id, known)}"
        raise place.error(DSLNameError, f"{msg}; known ops: {', '.join(known)}", func)
    for argument in node.args:
        if isinstance(argument, ast.Starred):
            raise place.error(DSLNotAllowedError, "unpacking (*args) is not allowed", argument)
    for keyword in node.keywords:
        if keyword.arg is None:
            raise place.error(
                DSLNotAllowedError, "unpacking (**kwargs) is not allowed", keyword.value
            )
        if keyword.arg == "name":
            raise place.error(
                DSLNotAllowedError,
                "name= is not a parameter here: the node takes the name it is assigned to",
                keyword.value,
            )


def _combine(place: Place, node: ast.expr, values: list[Value], name: str | None) -> Value:
    """Apply ``node`` to the values its children left on the stack."""
    if isinstance(node, ast.UnaryOp):
        operand = values.pop()
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        return _binary(place, node, values)
    if isinstance(node, ast.Subscript):
        return _subscript(place, node, values.pop())
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    listed = _listed(node)
    count = len(node.args) if listed is None else len(listed) + len(node.args) - 1
    operands: list[Any] = values[len(values) - count:] if count else []
    del values[len(values) - count:]
    if listed is not None:
        operands = [operands[: len(listed)], *operands[len(listed):]]
    op = get_op(node.func.id)
    strings = {*(op.choices or {}), *op.texts}
    params = {
        k.arg: literal_param(place, k.value, k.arg, k.arg in strings)
        for k in node.keywords if k.arg
    }
    if not any(isinstance(o, Node) for o in _flat(operands)):
        raise place.error(
            DSLGraphError,
            f"{op.name}(...) needs at least one node operand; declare constants as inputs",
            node,
        )
    try:
        return op(*operands, name=name, **params)
    except BngraphError as error:
        raise place.error(DSLGraphError, str(error), node) from None


def _subscript(place: Place, node: ast.Subscript, value: Value) -> Value:
    """``x[1:3, ..., 0]``: a constant index of ints, slices of ints and ``...``."""
    items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    key = tuple(index_item(place, item) for item in items)
    if not isinstance(value, Node):
        raise place.error(DSLNotAllowedError, "only a node can be indexed", node)
    try:
        return value[key if len(key) != 1 else key[0]]
    except BngraphError as error:
        raise place.error(DSLGraphError, str(error), node) from None


def _flat(operands: list[Any]) -> list[Any]:
    return [*operands[0], *operands[1:]] if operands and isinstance(operands[0], list) else operands


def _binary(place: Place, node: ast.BinOp, values: list[Value]) -> Value:
    symbol = _OPERATORS[type(node.op)]
    if symbol == "**":
        base = values.pop()
        exponent = _exponent(place, node.right)
        if not isinstance(base, Node):
            raise place.error(
                DSLNotAllowedError,
                "arithmetic on numbers alone is not allowed: write the number itself", node,
            )
        try:
            return base ** exponent
        except BngraphError as error:
            raise place.error(DSLGraphError, str(error), node) from None
    right = values.pop()
    left = values.pop()
    if not isinstance(left, Node) and not isinstance(right, Node):
        raise place.error(
            DSLNotAllowedError,
            f"arithmetic on numbers alone ({left!r} {symbol} {right!r}) is not allowed: "
            "write the number itself",
            node,
        )
    try:
        return _apply(symbol, left, right)
    except BngraphError as error:
        raise place.error(DSLGraphError, str(error), node) from None


_ARITHMETIC = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "@": operator.matmul,
}


def _apply(symbol: str, left: Any, right: Any) -> Node:
    node: Node = _ARITHMETIC[symbol](left, right)
    return node


def _exponent(place: Place, node: ast.expr) -> int | float:
    value = fold_number(node)
    if value is not None:
        return finite(place, value, node)
    inner = signs(node)[1]
    if isinstance(inner, ast.Name):
        raise place.error(
            DSLGraphError,
            f"** takes a constant exponent, not the node {inner.id!r}; write "
            f"exp({inner.id} * log(base)) for a node exponent",
            node,
        )
    raise place.error(
        DSLSyntaxError, f"the exponent of ** must be a number, not {show(inner)}", node
    )
