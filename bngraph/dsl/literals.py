"""The literals of the text language, read from an expression's ``ast`` without
evaluating anything: numbers (a sign folded in), op parameters, constant indices;
and how an error names a construct that is not allowed.

>>> import ast
>>> fold_number(ast.parse("- -2", mode="eval").body)
2
>>> describe(ast.parse("a.b", mode="eval").body)
'attribute access (a.b) is'
"""

from __future__ import annotations

import ast
import math
from typing import Any

from .errors import DSLNotAllowedError, DSLSyntaxError
from .place import Place

__all__ = [
    "NOT_ALLOWED", "describe", "number", "literal_param", "fold_number", "signs", "show",
    "index_item", "finite",
]

NOT_ALLOWED: dict[type, str] = {
    ast.Attribute: "attribute access (a.b) is",
    ast.Lambda: "lambdas are",
    ast.ListComp: "comprehensions are",
    ast.SetComp: "comprehensions are",
    ast.DictComp: "comprehensions are",
    ast.GeneratorExp: "comprehensions are",
    ast.JoinedStr: "f-strings are",
    ast.FormattedValue: "f-strings are",
    ast.Compare: "comparisons are",
    ast.BoolOp: "'and' and 'or' are",
    ast.IfExp: "conditional expressions (a if c else b) are",
    ast.NamedExpr: "assignment expressions (:=) are",
    ast.Await: "await is",
    ast.Yield: "yield is",
    ast.YieldFrom: "yield is",
    ast.Starred: "unpacking (*a) is",
    ast.List: "lists are",
    ast.Set: "sets are",
    ast.Dict: "dicts are",
    ast.Tuple: "tuples (outside op parameters) are",
    ast.Slice: "slices (outside an index) are",
}
"""How an error names each rejected construct, with its verb (``... not allowed``)."""

def describe(node: ast.AST) -> str:
    """How an error names a construct that is not allowed, with its verb.

    >>> import ast
    >>> describe(ast.parse("a.b", mode="eval").body)
    'attribute access (a.b) is'
    """
    if isinstance(node, ast.Constant):
        kinds = {str: "strings are", bytes: "bytes are", complex: "complex numbers are"}
        return kinds.get(type(node.value), f"{node.value!r} is")
    return NOT_ALLOWED.get(type(node), f"{type(node).__name__} is")


def number(place: Place, node: ast.expr, what: str) -> int | float:
    """An int or float literal, a minus sign folded in; anything else is an error."""
    value = fold_number(node)
    if value is not None:
        return finite(place, value, node)
    raise place.error(
        DSLSyntaxError, f"{what} must be a number, not {show(signs(node)[1])}", node
    )


def literal_param(place: Place, node: ast.expr, key: str, strings: bool = False) -> Any:
    """A parameter value: int, float, bool, None, a tuple of ints or of tuples of ints,
    and a string where ``strings`` (a parameter with a fixed set of values); every
    number a finite float (an int beyond the range of floats is refused too)."""
    folded = fold_number(node)
    if folded is not None:
        return finite(place, folded, node)
    sign, inner = signs(node)
    if isinstance(inner, ast.Constant):
        value = inner.value
        if sign == 1 and (value is None or isinstance(value, bool)):
            return value
        if sign == 1 and strings and isinstance(value, str):
            return value
    if isinstance(inner, ast.Tuple) and sign == 1:
        if inner.elts and all(isinstance(e, ast.Tuple) for e in inner.elts):
            return tuple(
                tuple(_tuple_int(place, e, key) for e in element.elts)  # type: ignore[attr-defined]
                for element in inner.elts
            )
        return tuple(_tuple_int(place, element, key) for element in inner.elts)
    raise place.error(
        DSLNotAllowedError,
        f"parameter {key}= takes a literal (int, float, bool, None or a tuple of ints), "
        f"not {show(inner)}",
        node,
    )


def _tuple_int(place: Place, node: ast.expr, key: str) -> int:
    value = fold_number(node)
    if type(value) is int:
        return int(finite(place, value, node))
    raise place.error(
        DSLNotAllowedError,
        f"parameter {key}=: a tuple holds only ints, not {show(signs(node)[1])}", node,
    )


def signs(node: ast.expr) -> tuple[int, ast.expr]:
    """Strip unary + and - (iteratively); the sign they make and the inner node."""
    sign = 1
    while isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        if isinstance(node.op, ast.USub):
            sign = -sign
        node = node.operand
    return sign, node


def show(node: ast.AST) -> str:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (str, bytes)):
            return f"the {type(node.value).__name__} {node.value!r}"[:80]
        return repr(node.value)
    if isinstance(node, ast.Name):
        return f"the name {node.id!r}"
    return describe(node).rsplit(" ", 1)[0]


def finite(place: Place, value: int | float, node: ast.expr) -> int | float:
    """A constant must be a finite float (ints are stored as floats, or must fit in one):
    refused here, where it is read, not later when it is printed or drawn."""
    try:
        ok = math.isfinite(float(value))
    except OverflowError:
        ok = False
    if not ok:
        raise place.error(DSLSyntaxError, _not_finite(value), node)
    return value


def _not_finite(value: int | float) -> str:
    """Why a number is refused; an int of hundreds of digits is named by its length.

    >>> _not_finite(10**400), _not_finite(float("-inf"))
    ('an integer of 401 digits is not a finite float', 'the number -inf is not a finite float')
    """
    if type(value) is int:
        return f"an integer of {len(str(abs(value)))} digits is not a finite float"
    return f"the number {value!r} is not a finite float"


def fold_number(node: ast.expr) -> int | float | None:
    """The number a literal with its signs stands for (``- - 2`` is 2); else ``None``."""
    sign, inner = signs(node)
    if not isinstance(inner, ast.Constant):
        return None
    value = inner.value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return -value if sign < 0 else value
    return None


def index_item(place: Place, item: ast.expr) -> Any:
    if isinstance(item, ast.Constant) and item.value is Ellipsis:
        return Ellipsis
    if isinstance(item, ast.Slice):
        return slice(*(None if part is None else _index_int(place, part)
                       for part in (item.lower, item.upper, item.step)))
    return _index_int(place, item)


def _index_int(place: Place, node: ast.expr) -> int:
    value = fold_number(node)
    if type(value) is int:
        return int(finite(place, value, node))
    raise place.error(
        DSLNotAllowedError,
        f"an index holds ints, slices of ints and ..., not {show(signs(node)[1])}; to index "
        "with the values of a node, use take or take_along_axis",
        node,
    )
