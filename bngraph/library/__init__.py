"""The built-in graphs: ``names()`` lists them, ``get(name)`` returns one (frozen).

The graphs are ``.bng`` files in this folder, read through the parser: an entry
built with ``text_entry`` names its file (adding a graph is one line). The
Python builders beside them (``batchnorm.py``) are their counterparts, and the
tests check that both give the same graph.

>>> import bngraph as bg
>>> "batchnorm" in bg.library.names()
True
>>> bg.library.describe("batchnorm")
'Batch normalization in the nine stages of its classic computational graph.'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..errors import BngraphError, closest
from ..graph import Graph
from . import batchnorm

__all__ = [
    "names", "get", "describe", "example", "source", "Entry", "LibraryError", "text_entry",
]


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
    filename: str | None = None
    """The ``.bng`` file in this package that defines the graph, if it is one."""


def text_entry(
    filename: str, description: str, example: Callable[[], dict[str, Any]]
) -> Entry:
    """An entry whose graph is the ``.bng`` file ``filename`` of this package."""
    name = filename.removesuffix(".bng")

    def build() -> Graph:
        from ..dsl import parse

        return parse(_read(filename), f"bngraph/library/{filename}")

    return Entry(name, description, build, example, filename)


def _read(filename: str) -> str:
    return resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")


_ENTRIES: dict[str, Entry] = {
    "batchnorm": text_entry(
        "batchnorm.bng",
        "Batch normalization in the nine stages of its classic computational graph.",
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


def source(name: str) -> str | None:
    """The ``.bng`` text a library graph is read from (``None`` for a Python-built one).

    >>> print(source("batchnorm").splitlines()[1])
    graph batchnorm
    """
    filename = _entry(name).filename
    return None if filename is None else _read(filename)


def example(name: str) -> dict[str, Any]:
    """Example inputs for a library graph (fresh arrays on every call)."""
    return _entry(name).example()
