"""Writing drawings to files (svg, png, pdf, dot) and showing them in Jupyter.

Layout goes through the ``graphviz`` package and its ``dot`` executable; writing
``.dot`` needs neither, so it works where Graphviz is not installed.

>>> import bngraph as bg, os, tempfile
>>> path = os.path.join(tempfile.mkdtemp(), "batchnorm.dot")
>>> render(bg.library.get("batchnorm"), path)
'...batchnorm.dot'
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphviz

from ..errors import BngraphError
from .dot import VizError, to_graphviz
from .model import DrawnRun, Planned

__all__ = [
    "FORMATS", "GraphvizNotFoundError", "render", "pipe", "mimebundle", "split", "write",
    "output_format",
]

FORMATS = ("svg", "png", "pdf", "dot")

INSTALL_HINT = (
    "install Graphviz so that `dot` is on PATH (Debian/Ubuntu: apt-get install graphviz; "
    "Fedora: dnf install graphviz; macOS: brew install graphviz; conda: conda install "
    "-c conda-forge graphviz; Windows: winget install graphviz), or write a .dot file instead"
)


class GraphvizNotFoundError(BngraphError, RuntimeError):
    """The Graphviz ``dot`` executable is not on PATH; the message says how to install it."""


def split(
    graph_or_run: Planned | DrawnRun, run: DrawnRun | None
) -> tuple[Planned, DrawnRun | None]:
    """``(graph, run)`` from ``render``'s first two arguments: a graph (or plan) and an
    optional run of it, or a run alone (its plan stands for the graph)."""
    if isinstance(graph_or_run, DrawnRun):
        if run is not None and run is not graph_or_run:
            raise VizError("give the run once: render(run, path) or render(graph, path, run=run)")
        return graph_or_run.plan, graph_or_run
    return graph_or_run, run


def pipe(digraph: graphviz.Digraph, fmt: str) -> bytes:
    """Lay out ``digraph`` with ``dot`` and return the ``fmt`` bytes."""
    try:
        data: bytes = digraph.pipe(format=fmt, engine="dot")
        return data
    except graphviz.ExecutableNotFound:
        raise GraphvizNotFoundError(
            f"cannot draw {fmt}: the Graphviz `dot` executable was not found; {INSTALL_HINT}"
        ) from None
    except graphviz.CalledProcessError as error:
        message = (error.stderr or b"").decode("utf-8", "replace").strip()
        raise BngraphError(f"Graphviz `dot` failed: {message}") from None


def render(
    graph_or_run: Planned | DrawnRun,
    path: str | os.PathLike[str],
    run: DrawnRun | None = None,
    view: str | None = None,
    **options: Any,
) -> str:
    """Draw a graph (or a run, with its values and gradients) to ``path``.

    The format comes from the suffix: ``.svg``, ``.png``, ``.pdf`` or ``.dot``.
    ``view`` and the other options are those of ``to_graphviz`` (``rules=True``,
    ``check=report`` ...). Returns the path.
    """
    graph, run = split(graph_or_run, run)
    output_format(path)  # a bad suffix is said before anything is drawn
    return write(to_graphviz(graph, run, view, **options), path)


def output_format(path: str | os.PathLike[str]) -> str:
    """The format a path's suffix asks for: ``svg``, ``png``, ``pdf`` or ``dot``
    (``.gv`` too), else a ``VizError`` listing them."""
    fmt = Path(path).suffix.lower().lstrip(".")
    fmt = "dot" if fmt == "gv" else fmt
    if fmt not in FORMATS:
        raise VizError(
            f"cannot tell the format of {str(path)!r} from its suffix; "
            f"use one of: {', '.join('.' + f for f in FORMATS)}"
        )
    return fmt


def write(digraph: graphviz.Digraph, path: str | os.PathLike[str]) -> str:
    """Write ``digraph`` to ``path`` in the format of its suffix; return the path."""
    fmt = output_format(path)
    data = digraph.source.encode("utf-8") if fmt == "dot" else pipe(digraph, fmt)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return str(target)


def mimebundle(graph: Planned, run: DrawnRun | None = None) -> dict[str, str]:
    """What Jupyter shows for a graph or a run: SVG (collapsed above the threshold),
    and plain text; without ``dot``, the plain text says why there is no picture."""
    text = repr(run if run is not None else graph)
    try:
        svg = pipe(to_graphviz(graph, run), "svg").decode("utf-8")
    except GraphvizNotFoundError as error:
        return {"text/plain": f"{text}\n({error})"}
    return {"image/svg+xml": svg, "text/plain": text}
