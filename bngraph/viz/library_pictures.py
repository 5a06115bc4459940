"""Writes the committed pictures of the library graphs (``renders/`` in the repository).

For every library graph: the forward view and the backward view of one run on
the library's example inputs, as ``NAME_forward.svg`` / ``NAME_backward.svg`` with
their ``.dot`` sources. The backward pass is seeded with each output's own value
(``dout = out``, as the seed notebook did). Regenerate with ``make renders`` or
``python -m bngraph.viz.library_pictures renders/``.

>>> sorted(sources("batchnorm"))
['batchnorm_backward.dot', 'batchnorm_forward.dot']
"""

from __future__ import annotations

import sys
from pathlib import Path

from .. import library
from ..run import Run
from .dot import to_graphviz
from .render import pipe

__all__ = ["VIEWS", "example_run", "sources", "write_renders", "main"]

VIEWS = ("forward", "backward")


def example_run(name: str) -> Run:
    """A run of library graph ``name`` on its example inputs, seeded with ``dout = out``."""
    graph = library.get(name)
    run = graph.forward(keep_values=True, **library.example(name))
    run.backward(**{output: run.outputs[output] for output in graph.outputs})
    return run


def sources(name: str) -> dict[str, str]:
    """The DOT text of each committed view of ``name``, by file name."""
    run = example_run(name)
    return {f"{name}_{view}.dot": to_graphviz(run.graph, run, view).source for view in VIEWS}


def write_renders(directory: str | Path) -> list[Path]:
    """Write the ``.dot`` and ``.svg`` files of every library graph; return their paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in library.names():
        run = example_run(name)
        for view in VIEWS:
            digraph = to_graphviz(run.graph, run, view)
            dot_path = target / f"{name}_{view}.dot"
            svg_path = target / f"{name}_{view}.svg"
            dot_path.write_text(digraph.source, encoding="utf-8")
            svg_path.write_bytes(pipe(digraph, "svg"))
            written += [dot_path, svg_path]
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m bngraph.viz.library_pictures [DIRECTORY]`` (default ``renders``)."""
    args = sys.argv[1:] if argv is None else argv
    directory = args[0] if args else "renders"
    for path in write_renders(directory):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
