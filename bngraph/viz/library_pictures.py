"""Writes the committed pictures of the library graphs (``renders/`` in the repository).

For every library graph: the forward view and the backward view of one run on
the library's example inputs, as ``NAME_forward.svg`` / ``NAME_backward.svg`` with
their ``.dot`` sources. The backward pass is seeded with each output's own value
(``dout = out``, as the seed notebook did). Then the pictures the README shows of
the other drawings: BatchNorm's backward view with the local rules on its edges,
the seed notebook's graph with gradcheck's verdict on every node and next to the
composite graph it should equal, and a screenshot of the viewer (``viewer.png``,
when Chromium is installed). Regenerate with ``make renders`` or
``python -m bngraph.viz.library_pictures renders/``.

>>> sorted(sources("batchnorm"))
['batchnorm_backward.dot', 'batchnorm_forward.dot']
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from .. import library
from ..run import Run
from .compare_view import compare_graphviz
from .dot import to_graphviz
from .render import pipe
from .viewer import render_steps

__all__ = [
    "VIEWS", "EXTRAS", "example_run", "sources", "extra_sources", "write_renders",
    "screenshot", "main",
]

VIEWS = ("forward", "backward")

VIEWER_STEP = 14
"""The step the viewer's screenshot shows: a backward step, its rule in the caption."""


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


def _rules() -> graphviz.Digraph:
    run = example_run("batchnorm")
    return to_graphviz(run.graph, run, "backward", rules=True)


def _notebook() -> tuple[Any, Any, dict[str, np.ndarray], np.ndarray]:
    from ..notebook import notebook_graph, seed_data

    inputs = seed_data(gamma=np.full(4, 2.0))
    buggy = notebook_graph("notebook", bad_multiply=True, bad_center=True)
    composite = library.get("batchnorm_composite")
    return buggy, composite, inputs, composite.forward(inputs).outputs["out"]


def _notebook_gradcheck() -> graphviz.Digraph:
    from ..testing import GradcheckError, gradcheck

    buggy, _, inputs, dout = _notebook()
    try:
        check: Any = gradcheck(buggy, inputs, seed=0)
    except GradcheckError as error:
        check = error
    run = buggy.forward(inputs, keep_values=True)
    run.backward(dout)
    return to_graphviz(buggy, run, "backward", check=check, rules=True)


def _notebook_against_composite() -> graphviz.Digraph:
    from ..testing import compare

    buggy, composite, inputs, dout = _notebook()
    return compare_graphviz(buggy, composite, compare(buggy, composite, inputs, {"out": dout}))


EXTRAS: dict[str, Callable[[], graphviz.Digraph]] = {
    "batchnorm_rules": _rules,
    "notebook_gradcheck": _notebook_gradcheck,
    "notebook_against_composite": _notebook_against_composite,
}
"""The other committed pictures, by file stem."""


def extra_sources() -> dict[str, str]:
    """The DOT text of each of the other committed pictures, by file name."""
    return {f"{stem}.dot": make().source for stem, make in EXTRAS.items()}


def _write(digraph: graphviz.Digraph, stem: Path) -> list[Path]:
    dot_path, svg_path = stem.with_suffix(".dot"), stem.with_suffix(".svg")
    dot_path.write_text(digraph.source, encoding="utf-8")
    svg_path.write_bytes(pipe(digraph, "svg"))
    return [dot_path, svg_path]


def write_renders(directory: str | Path) -> list[Path]:
    """Write the ``.dot`` and ``.svg`` files of every library graph and of the other
    pictures; return their paths."""
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for name in library.names():
        run = example_run(name)
        for view in VIEWS:
            written += _write(to_graphviz(run.graph, run, view), target / f"{name}_{view}")
    for stem, make in EXTRAS.items():
        written += _write(make(), target / stem)
    return written


def screenshot(path: str | Path, step: int = VIEWER_STEP) -> Path | None:
    """A 1440 x 900 screenshot of BatchNorm's viewer at ``step`` (headless Chromium);
    ``None`` when Chromium is not installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(render_steps(example_run("batchnorm"), tmp))
        target = Path(path).resolve()
        subprocess.run(
            [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
             f"--user-data-dir={tmp}/profile", f"--screenshot={target}",
             "--window-size=1440,900", f"{page.as_uri()}#step={step}"],
            check=True, capture_output=True,
        )
    return target


def main(argv: list[str] | None = None) -> int:
    """``python -m bngraph.viz.library_pictures [DIRECTORY]`` (default ``renders``)."""
    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0] if args else "renders")
    for path in write_renders(directory):
        print(path)
    shot = screenshot(directory / "viewer.png")
    print(shot if shot is not None else "viewer.png not taken: Chromium is not installed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
