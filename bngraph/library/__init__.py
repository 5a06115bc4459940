"""The built-in graphs: ``names()`` lists them, ``get(name)`` returns one (frozen).

The graphs are ``.bng`` files in this folder, read through the parser: an entry
built with ``text_entry`` names its file (adding a graph is one line). The
Python builders beside them (``batchnorm.py``, ...) are their counterparts, and the
tests check that both give the same graph.

A graph that takes build parameters (``groupnorm`` takes ``groups``) is built
with other values by ``build(name, **params)`` (through its Python builder);
``get(name)`` is the graph with the default parameters, ``params(name)`` lists them.

>>> import bngraph as bg
>>> "batchnorm" in bg.library.names()
True
>>> bg.library.describe("batchnorm")
'Batch normalization in the nine stages of its classic computational graph.'
>>> bg.library.params("groupnorm")
{'groups': 2}
>>> bg.library.build("groupnorm", groups=4).spec("xg").params["parts"]
4
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

from ..errors import BngraphError, ParamError, closest
from ..graph import Graph
from . import (
    attention,
    batchnorm,
    batchnorm_composite,
    batchnorm_spatial,
    conv_bn_relu,
    groupnorm,
    layernorm,
    mlp,
    softmax_cross_entropy,
)

__all__ = [
    "names", "get", "build", "params", "describe", "example", "source", "Entry",
    "LibraryError", "text_entry",
]


class LibraryError(BngraphError, KeyError):
    """A name that is not in the library; the message lists the names that are."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class Entry:
    """One library graph: what it is, its Python builder, example inputs, and the
    ``.bng`` file of this package that defines it (when there is one)."""

    name: str
    description: str
    build: Callable[..., Graph]
    example: Callable[[], dict[str, Any]]
    filename: str | None = None


def text_entry(
    filename: str,
    description: str,
    build: Callable[..., Graph],
    example: Callable[[], dict[str, Any]],
) -> Entry:
    """An entry whose graph is the ``.bng`` file ``filename`` of this package;
    ``build`` is its Python counterpart (used for other build parameters)."""
    return Entry(filename.removesuffix(".bng"), description, build, example, filename)


def _read(filename: str) -> str:
    return resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")


def _load(entry: Entry) -> Graph:
    """The entry's graph with its default parameters: parsed from its file if it has one."""
    if entry.filename is None:
        return entry.build()
    from ..dsl import parse

    return parse(_read(entry.filename), f"bngraph/library/{entry.filename}")


_ENTRIES: dict[str, Entry] = {
    entry.name: entry
    for entry in (
        text_entry(
            "batchnorm.bng",
            "Batch normalization in the nine stages of its classic computational graph.",
            batchnorm.build, batchnorm.example,
        ),
        text_entry(
            "batchnorm_composite.bng",
            "Batch normalization as the seed notebook's chain of small steps "
            "(broadcast, power, multiply).",
            batchnorm_composite.build, batchnorm_composite.example,
        ),
        text_entry(
            "batchnorm_spatial.bng",
            "Spatial batch normalization of x (N, C, H, W) over axes (0, 2, 3), "
            "gamma and beta per channel.",
            batchnorm_spatial.build, batchnorm_spatial.example,
        ),
        text_entry(
            "layernorm.bng",
            "Layer normalization of x (N, D) over its last axis, gamma and beta per feature.",
            layernorm.build, layernorm.example,
        ),
        text_entry(
            "groupnorm.bng",
            "Group normalization of x (N, C, H, W) in G groups of channels "
            "(build parameter groups, default 2).",
            groupnorm.build, groupnorm.example,
        ),
        text_entry(
            "softmax_cross_entropy.bng",
            "Softmax cross-entropy of logits (N, K) against integer labels (N,), "
            "averaged over the rows.",
            softmax_cross_entropy.build, softmax_cross_entropy.example,
        ),
        text_entry(
            "mlp.bng",
            "A two-layer perceptron, relu(x @ w1 + b1) @ w2 + b2, scored by softmax "
            "cross-entropy against integer labels.",
            mlp.build, mlp.example,
        ),
        text_entry(
            "attention.bng",
            "Scaled dot-product attention, one head: softmax of the masked scores "
            "scale * q @ k^T, applied to v.",
            attention.build, attention.example,
        ),
        text_entry(
            "conv_bn_relu.bng",
            "A convolution block: 3x3 conv2d with padding 1, spatial batch normalization "
            "per output channel, relu.",
            conv_bn_relu.build, conv_bn_relu.example,
        ),
    )
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
        _CACHE[name] = _load(_entry(name)).freeze()
    return _CACHE[name]


def params(name: str) -> dict[str, Any]:
    """The build parameters of a library graph with their defaults (often none)."""
    signature = inspect.signature(_entry(name).build)
    return {key: p.default for key, p in signature.parameters.items()}


def build(name: str, **values: Any) -> Graph:
    """A fresh library graph built with parameters, e.g. ``build("groupnorm", groups=4)``.

    Unknown parameters are refused with the list of those the graph takes.
    """
    known = params(name)
    for key in values:
        if key not in known:
            valid = ", ".join(known) or "none"
            raise ParamError(
                f"library graph {name!r} has no parameter {key!r}{closest(key, known)}; "
                f"its parameters: {valid}"
            )
    entry = _entry(name)
    return (entry.build(**values) if values else _load(entry)).freeze()


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
