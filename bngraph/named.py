"""A run's outputs and gradients by name, and the read-only views it hands out.

``Named`` is a dict whose unknown names raise an ``UnknownNameError`` suggesting the
closest name; ``Outputs`` and ``Gradients`` are its two kinds, made as cheaply as a
plain dict (a run makes several).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import UnknownNameError, closest

__all__ = ["Named", "Outputs", "Gradients", "read_only"]


class Named(dict[str, Any]):
    """A run's outputs or gradients by name: a dict whose unknown names raise an
    ``UnknownNameError`` (a ``KeyError``) suggesting the closest name.

    >>> Named("output", {"out": 1})["ot"]
    Traceback (most recent call last):
    ...
    bngraph.errors.UnknownNameError: no output 'ot' (did you mean 'out'?); outputs: out
    """

    def __init__(self, kind: str, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self.kind = kind

    def __missing__(self, name: str) -> Any:
        raise UnknownNameError(
            f"no {self.kind} {name!r}{closest(str(name), self)}; {self.kind}s: {', '.join(self)}"
        )


class _Cheap(Named):
    """A ``Named`` of a fixed kind, made as cheaply as a dict: ``Kind(items)``."""

    if TYPE_CHECKING:
        def __init__(self, items: Mapping[str, Any], /) -> None: ...
    else:
        __init__ = dict.__init__  # no frame of Python's: a run makes several


class Outputs(_Cheap):
    """``Named("output", items)`` made as cheaply as a dict: ``Outputs(items)``."""

    kind = "output"


class Gradients(_Cheap):
    """``Named("input", items)`` made as cheaply as a dict: ``Gradients(items)``.

    >>> Gradients({"gamma": 1.0})["gama"]
    Traceback (most recent call last):
    ...
    bngraph.errors.UnknownNameError: no input 'gama' (did you mean 'gamma'?); inputs: gamma
    """

    kind = "input"


def read_only(value: Any) -> Any:
    """A read-only view of an array the run keeps (numbers as they are): editing an
    output or a value in place must not change a later ``backward``."""
    if type(value) is not np.ndarray:
        return value
    view = value.view()
    view.flags.writeable = False
    return view
