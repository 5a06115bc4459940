"""What ``define_op`` is given, checked: rule texts, saved values, array libraries.

>>> check_rules("mul", ["g × {1}", "g × {0}"], 2)
('g × {1}', 'g × {0}')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ParamError

__all__ = ["RuleText", "check_rules", "check_saves", "check_namespaces"]

RuleText = str | Callable[[Mapping[str, Any]], str]
"""A rule's text: a template (``"g × {1}"``) or a function of the op's parameters."""


def check_rules(
    name: str, rules: Sequence[RuleText] | None, arity: int
) -> tuple[RuleText, ...] | None:
    """The rule texts of an op: one per operand (a text, or a function of the parameters)."""
    if rules is None:
        return None
    rules = tuple(rules)
    if len(rules) != arity or not all(isinstance(r, str) or callable(r) for r in rules):
        raise ParamError(
            f"op {name}: rules must be {arity} text(s), one per operand, not {rules!r}"
        )
    return rules


def check_saves(name: str, saves: Sequence[int | str] | None, arity: int,
                 variadic: bool = False) -> frozenset[int | str]:
    """What an op's rules read: operand positions, ``"*"`` and ``"out"`` (all when None).

    >>> sorted(check_saves("mul", [0, 1], 2)), sorted(check_saves("f", None, 1))
    ([0, 1], ['*', 'out'])
    """
    if saves is None:
        return frozenset(["*", "out"])
    kept = frozenset(saves)
    positions = range(0 if variadic else arity)
    bad = [s for s in kept if s not in ("out", "*") and s not in positions]
    if bad:
        which = "" if variadic else f"operand positions 0..{arity - 1}, "
        raise ParamError(f"op {name}: saves may hold {which}'*' and 'out', not {bad}")
    return kept


def check_namespaces(name: str, namespaces: Sequence[str] | None) -> frozenset[str] | None:
    """The array libraries an op runs on (None: any library of the array API standard).

    >>> check_namespaces("conv2d", ["numpy"])
    frozenset({'numpy'})
    """
    if namespaces is None:
        return None
    if isinstance(namespaces, str) or not all(isinstance(n, str) for n in namespaces):
        raise ParamError(
            f"op {name}: namespaces is a list of library names, such as ('numpy',), "
            f"not {namespaces!r}"
        )
    return frozenset(namespaces)
