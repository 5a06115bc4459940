"""Every drawing of every library graph can be read where it is shown: at most 1000 px
wide (a notebook cell; a README column is about 880 px), its smallest text at least
9 px tall, its aspect ratio at most 4 : 1; and it reads down the page."""

from __future__ import annotations

import pytest
from library_runs import example_run
from svg_drawing import drawn, svg_of

import bngraph as bg
from bngraph.viz import VizError, to_graphviz
from bngraph.viz.measure import MAX_ASPECT, MIN_TEXT_PX, readability
from bngraph.viz.render import pipe


@pytest.mark.dot
@pytest.mark.parametrize("name", bg.library.names())
@pytest.mark.parametrize("view", ["forward", "backward", "both"])
def test_every_library_drawing_is_readable_at_notebook_and_readme_width(
    name: str, view: str
) -> None:
    run = example_run(name)
    for with_run in (None, run):
        svg = pipe(to_graphviz(run.graph, with_run, view), "svg")
        for width in (1000, 880):
            r = readability(svg, shown_width=width)
            assert r.smallest_px >= MIN_TEXT_PX, (name, view, with_run is not None, str(r))
            assert r.aspect <= MAX_ASPECT, (name, view, with_run is not None, str(r))


@pytest.mark.dot
@pytest.mark.parametrize("name", bg.library.names())
def test_what_jupyter_shows_is_readable(name: str) -> None:
    run = example_run(name)
    for shown in (run.graph, run):
        r = readability(shown._repr_mimebundle_()["image/svg+xml"])
        assert r.readable, (name, str(r))


@pytest.mark.dot
def test_the_forward_pass_reads_down_and_so_does_the_backward_pass() -> None:
    run = example_run("batchnorm")
    forward = drawn(svg_of(to_graphviz(run.graph, run, "forward")), "node")
    # SVG y grows down the page
    assert forward["x"].center[1] < forward["mu"].center[1] < forward["out"].center[1]
    backward = drawn(svg_of(to_graphviz(run.graph, run, "backward")), "node")
    seed = backward["seed out"].center[1]
    assert seed < backward["out"].center[1] < backward["xhat"].center[1] < backward["x"].center[1]


def test_the_direction_and_size_can_be_chosen() -> None:
    g = bg.library.get("batchnorm")
    assert "\trankdir=TB\n" in to_graphviz(g).source
    assert "\trankdir=BT\n" in to_graphviz(g, view="backward").source
    assert "\trankdir=LR\n" in to_graphviz(g, rankdir="LR").source
    assert "\trankdir=RL\n" in to_graphviz(g, collapse=True, rankdir="RL").source
    assert '\tsize="7,10"\n' in to_graphviz(g, size="7,10").source
    with pytest.raises(VizError, match="rankdirs: TB, BT, LR, RL"):
        to_graphviz(g, rankdir="sideways")


@pytest.mark.dot
def test_size_scales_the_drawing_down() -> None:
    g = bg.library.get("batchnorm")
    natural = readability(pipe(to_graphviz(g), "svg"))
    small = readability(pipe(to_graphviz(g, size="3,3"), "svg"))
    assert small.height_px <= 3 * 96 + 1 < natural.height_px
    assert small.smallest_font_px < natural.smallest_font_px
