"""Writing drawings by suffix, the error without Graphviz, and Jupyter display."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from library_runs import example_run

import bngraph as bg
from bngraph.viz import GraphvizNotFoundError, VizError, to_graphviz


@pytest.mark.dot
def test_the_suffix_chooses_the_format(tmp_path: Path) -> None:
    run = example_run("batchnorm")
    svg = Path(bg.render(run, tmp_path / "bn.svg"))
    root = ET.parse(svg).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert Path(bg.render(run, tmp_path / "bn.png")).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Path(bg.render(run, tmp_path / "bn.pdf")).read_bytes()[:5] == b"%PDF-"
    dot = Path(bg.render(run, tmp_path / "sub" / "bn.dot", view="backward")).read_text("utf-8")
    assert dot == to_graphviz(run.graph, run, "backward").source
    # a run draws the same as its graph given the run; a graph alone has no values
    graph_dot = Path(bg.render(run.graph, tmp_path / "g.dot", run=run)).read_text("utf-8")
    assert graph_dot == to_graphviz(run.graph, run).source
    plain = Path(bg.render(run.graph, tmp_path / "plain.dot")).read_text("utf-8")
    assert "grad" not in plain and "forward view" in plain


def test_an_unknown_suffix_lists_the_formats(tmp_path: Path) -> None:
    with pytest.raises(VizError, match=r"\.svg, \.png, \.pdf, \.dot"):
        bg.render(bg.library.get("batchnorm"), tmp_path / "bn.jpeg")
    with pytest.raises(VizError, match="give the run once"):
        bg.render(example_run("batchnorm"), tmp_path / "bn.dot", run=example_run("batchnorm"))


_NO_DOT_SCRIPT = """
import json, shutil, sys, bngraph as bg
from bngraph.viz import GraphvizNotFoundError
from bngraph.errors import BngraphError
report = {"which": shutil.which("dot")}
g = bg.library.get("batchnorm")
try:
    bg.render(g, sys.argv[1] + "/bn.svg")
except GraphvizNotFoundError as error:
    report["error"] = str(error)
    report["family"] = isinstance(error, BngraphError)
report["dot"] = bg.render(g, sys.argv[1] + "/bn.dot")
report["bundle"] = sorted(g._repr_mimebundle_())
report["bundle_text"] = g._repr_mimebundle_()["text/plain"]
print(json.dumps(report))
"""


def test_without_dot_rendering_says_how_to_install_graphviz_and_dot_files_still_work(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    done = subprocess.run(
        [sys.executable, "-c", _NO_DOT_SCRIPT, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(done.stdout)
    assert report["which"] is None
    assert report["family"] is True
    assert "`dot` executable was not found" in report["error"]
    assert (
        "apt-get install graphviz" in report["error"] and "brew install graphviz" in report["error"]
    )
    assert Path(report["dot"]).read_text("utf-8") == to_graphviz(bg.library.get("batchnorm")).source
    assert not (tmp_path / "bn.svg").exists()
    assert report["bundle"] == ["text/plain"]
    assert "install Graphviz" in report["bundle_text"]


def test_the_error_class_belongs_to_the_family() -> None:
    assert issubclass(GraphvizNotFoundError, bg.BngraphError)


@pytest.mark.dot
def test_graphs_and_runs_display_in_jupyter_as_svg() -> None:
    g = bg.library.get("batchnorm")
    bundle = g._repr_mimebundle_()
    assert bundle["text/plain"] == repr(g)
    ET.fromstring(bundle["image/svg+xml"])
    assert "forward view" in bundle["image/svg+xml"]
    run_bundle = example_run("batchnorm")._repr_mimebundle_()
    ET.fromstring(run_bundle["image/svg+xml"])
    assert "both view" in run_bundle["image/svg+xml"] and "grad " in run_bundle["image/svg+xml"]


@pytest.mark.dot
def test_jupyter_display_of_a_large_graph_is_collapsed() -> None:
    g = bg.Graph("chain")
    node = g.input("x")
    for k in range(bg.viz.COLLAPSE_THRESHOLD + 1):
        with g.stage(f"s{k // 50}"):
            node = bg.tanh(node)
    g.output(node)
    svg = g._repr_mimebundle_()["image/svg+xml"]
    root = ET.fromstring(svg)
    nodes = [e for e in root.iter("{http://www.w3.org/2000/svg}g") if e.get("class") == "node"]
    assert len(nodes) == len(g.stages) + 1
    assert "collapsed" in svg
    run = g.forward(x=np.zeros(2))
    assert "collapsed" in run._repr_mimebundle_()["image/svg+xml"]
