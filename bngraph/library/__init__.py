"""The built-in graphs: ``names()`` lists them, ``get(name)`` returns one (frozen).

>>> import bngraph as bg
>>> "batchnorm" in bg.library.names()
True
>>> bg.library.describe("batchnorm")
'Batch normalization in the nine stages of its classic computational graph.'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import BngraphError, closest
from ..graph import Graph
from . import batchnorm

__all__ = ["names", "get", "describe", "example", "Entry", "LibraryError"]


class LibraryError(BngraphError, KeyError):
    """A name that is not in the library; the message lists the names that are."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Entry:
    """One library graph: how to build it, what it is, and example inputs."""

    name: str
    description: str
    build: Callable[[], Graph]
    example: Callable[[], dict[str, Any]]


_ENTRIES: dict[str, Entry] = {
    "batchnorm": Entry(
        "batchnorm",
        "Batch normalization in the nine stages of its classic computational graph.",
        batchnorm.build,
        batchnorm.example,
    ),
}
_CACHE: dict[str, Graph] = {}


def names() -> list[str]:
    """The names of the built-in graphs."""
    return list(_ENTRIES)


def _entry(name: str) -> Entry:
    try:
        return _ENTRIES[name]
    except KeyError:
        raise LibraryError(
            f"no library graph {name!r}{closest(name, _ENTRIES)}; "
            f"library graphs: {', '.join(_ENTRIES)}"
        ) from None


def get(name: str) -> Graph:
    """The library graph ``name``, frozen (so it can be shared)."""
    if name not in _CACHE:
        _CACHE[name] = _entry(name).build().freeze()
    return _CACHE[name]


def describe(name: str) -> str:
    """The one-line description of a library graph."""
    return _entry(name).description


def example(name: str) -> dict[str, Any]:
    """Example inputs for a library graph (fresh arrays on every call)."""
    return _entry(name).example()
