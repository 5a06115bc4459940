"""The ``BngraphError`` family: every error bngraph raises on purpose.

Messages name what they are about: the node, its op and its stage for run-time
errors; both shapes for a shape error; the valid choices where there is a fixed
set of them.

>>> from bngraph.errors import BngraphError, ShapeError
>>> issubclass(ShapeError, BngraphError) and issubclass(ShapeError, ValueError)
True
>>> node_context("xmu", "sub", "2 center")
"node 'xmu' (op sub, stage '2 center')"
"""

from __future__ import annotations

import difflib
import os
import sys
import warnings
from collections.abc import Iterable

__all__ = [
    "BngraphError",
    "GraphDefinitionError",
    "UnknownOpError",
    "ArityError",
    "ParamError",
    "DuplicateNameError",
    "UndefinedNameError",
    "CycleError",
    "OutputError",
    "FrozenGraphError",
    "InputError",
    "MissingInputError",
    "UnknownInputError",
    "ShapeError",
    "OpError",
    "NonFiniteError",
    "RunStateError",
    "UnknownNameError",
    "NonFiniteWarning",
    "PluginError",
    "node_context",
    "closest",
    "warn",
]


class BngraphError(Exception):
    """Base class of every error bngraph raises on purpose."""


class GraphDefinitionError(BngraphError, ValueError):
    """A graph is malformed: raised while it is built, loaded or validated."""


class UnknownOpError(GraphDefinitionError):
    """An op name that is not registered; the message lists the known ops."""


class ArityError(GraphDefinitionError):
    """An op applied to the wrong number of operands."""


class ParamError(GraphDefinitionError):
    """An op parameter that the op does not take, or a value that is not a literal."""


class DuplicateNameError(GraphDefinitionError):
    """Two nodes of one graph with the same name."""


class UndefinedNameError(GraphDefinitionError):
    """A reference to a node name that the graph does not define."""


class CycleError(GraphDefinitionError):
    """The operand edges form a cycle; the message prints it as ``a -> b -> a``."""


class OutputError(GraphDefinitionError):
    """An output that does not exist, or a graph without outputs."""


class FrozenGraphError(BngraphError):
    """A node was added to a graph that has already been run or exported."""


class InputError(BngraphError, ValueError):
    """Inputs given to a run do not fit the graph."""


class MissingInputError(InputError):
    """A required input was not given; the message lists what the graph expects."""


class UnknownInputError(InputError, TypeError):
    """A keyword that names no input of the graph; the message lists the valid ones."""


class ShapeError(BngraphError, ValueError):
    """Shapes that do not fit; the message names both of them."""


class OpError(BngraphError):
    """An op's forward or vector-Jacobian rule failed on a node."""


class NonFiniteError(BngraphError, FloatingPointError):
    """A NaN or infinity appeared; the message names the first node that produced it."""


class RunStateError(BngraphError):
    """A value or gradient asked of a run that does not hold it."""


class UnknownNameError(BngraphError, KeyError):
    """A name looked up in a run's outputs or gradients that is not there; the
    message suggests the closest one."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class NonFiniteWarning(RuntimeWarning):
    """An output or gradient holds a NaN or an infinity; the message names the first
    node that produced one, where the run still holds its value."""


class PluginError(BngraphError, ImportError):
    """A plugin module or entry point that could not be loaded; the message names it."""


def node_context(name: str, op: str, stage: str | None) -> str:
    """Describe a node for an error message: its name, its op and its stage."""
    where = f", stage {stage!r}" if stage is not None else ""
    return f"node {name!r} (op {op}{where})"


def closest(word: str, choices: Iterable[str]) -> str:
    """A ``did you mean`` hint for ``word`` among ``choices``, or an empty string.

    >>> closest("maen", ["mean", "sum"])
    " (did you mean 'mean'?)"
    """
    found = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {found[0]!r}?)" if found else ""


_PACKAGE = os.path.dirname(os.path.abspath(__file__))


def warn(message: str, category: type[Warning]) -> None:
    """``warnings.warn`` pointing at the caller's code: the first frame outside bngraph."""
    level = 2  # 1 is this function, 2 its caller
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    warnings.warn(message, category, stacklevel=level)
