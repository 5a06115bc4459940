"""Drawing the worst shapes we can make: seconds from graph to SVG in the default view.

Any graph's default drawing must render in under 10 s. Graphviz's time depends on
the shape more than on the size: long edges and edge labels are what cost (a
random 40,040-node graph in 41 densely connected stages took 128 s collapsed, a
198-node fan of leaves into a chain of sums more than ten minutes in full). This
times ``bg.render(..., "x.svg")`` end to end (DOT text built in Python, then
``dot``) for each shape, the shapes taken in alternating order round after round
(A B C ... then ... C B A), and prints the median, the part spent in ``dot`` and
the ratio to the 10 s target. Full views are drawn with a run (values, gradients
and labelled backward edges: the heaviest), collapsed ones without.

Run: ``python benchmarks/bench_render.py [ROUNDS]`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import bngraph as bg
from bngraph.testing.graphs import chain, layered, random_staged
from bngraph.viz import to_graphviz
from bngraph.viz.render import pipe

TARGET = 10.0


def fan(nodes: int) -> bg.Graph:
    """One input, leaves tanh(x), and a chain of sums taking one leaf each: every leaf's
    edge spans the chain (dot's worst case for curved edges)."""
    g = bg.Graph("fan")
    x = g.input("x")
    leaves = [bg.tanh(x) for _ in range((nodes - 1) // 2)]
    total = leaves[0]
    for leaf in leaves[1:]:
        total = total + leaf
    g.output(total)
    return g


def star(nodes: int) -> bg.Graph:
    """One input used by every node: one gradient sum with a labelled edge from each."""
    g = bg.Graph("star")
    x = g.input("x")
    made = [x]
    for k in range(nodes - 2):
        made.append(made[k // 2] * x)
    g.output(made[-1])
    return g


def one_node_stages(nodes: int) -> bg.Graph:
    return chain(nodes, nodes - 1)


def unstaged(nodes: int) -> bg.Graph:
    g = bg.Graph("unstaged")
    node = g.input("x")
    for _ in range(nodes - 1):
        node = bg.tanh(node)
    g.output(node)
    return g


def with_run(graph: bg.Graph) -> Any:
    """A run with every value kept and gradients: the fullest drawing of a small graph."""
    run = graph.forward(keep_values=True, **{n: np.linspace(0.1, 0.5, 3) for n in graph.inputs})
    run.backward()
    return run


SHAPES: list[tuple[str, Callable[[], Any]]] = [
    ("chain, 200,000 nodes in 100 stages", lambda: chain(200_000, 100)),
    ("random, 40,040 nodes in 41 dense stages", lambda: random_staged(40_040, 41)),
    ("random, 60,000 nodes in 41 dense stages", lambda: random_staged(60_000, 41)),
    ("layered, 5,079 nodes in 42 stages", lambda: layered(41, 80)),
    ("chain, 20,000 nodes, one stage each", lambda: one_node_stages(20_000)),
    ("chain, 20,000 nodes, no stage", lambda: unstaged(20_000)),
    ("fan, 199 nodes, full view with a run", lambda: with_run(fan(199))),
    ("star, 199 nodes, full view with a run", lambda: with_run(star(199))),
    ("random, 200 nodes in 1 stage, with a run", lambda: with_run(random_staged(200, 1))),
]


def time_one(drawn: Any, folder: Path) -> tuple[float, float]:
    """Seconds for ``bg.render`` to SVG, and the part spent laying it out in ``dot``."""
    start = time.perf_counter()
    bg.render(drawn, folder / "shape.svg")
    total = time.perf_counter() - start
    graph, run = (drawn.graph, drawn) if hasattr(drawn, "keep_values") else (drawn, None)
    digraph = to_graphviz(graph, run)
    start = time.perf_counter()
    pipe(digraph, "svg")
    return total, time.perf_counter() - start


def main(rounds: int = 3) -> None:
    built = []
    for name, make in SHAPES:
        start = time.perf_counter()
        built.append((name, make()))
        print(f"built {name} in {time.perf_counter() - start:.1f} s", flush=True)
    totals: dict[str, list[float]] = {name: [] for name, _ in built}
    dots: dict[str, list[float]] = {name: [] for name, _ in built}
    with tempfile.TemporaryDirectory() as tmp:
        for _, drawn in built:  # warm-up
            time_one(drawn, Path(tmp))
        for k in range(rounds):
            for name, drawn in built if k % 2 == 0 else built[::-1]:
                total, dot = time_one(drawn, Path(tmp))
                totals[name].append(total)
                dots[name].append(dot)
    print(f"\n{'shape':<45} {'median':>8} {'in dot':>8} {'of 10 s':>8}   ({rounds} rounds)")
    for name, _ in built:
        median = statistics.median(totals[name])
        print(f"{name:<45} {median:7.2f}s {statistics.median(dots[name]):7.2f}s "
              f"{median / TARGET:7.0%}")
    worst = max(statistics.median(t) for t in totals.values())
    print(f"\nworst median: {worst:.2f} s (target: under {TARGET:.0f} s)")
    viewer(rounds)


def viewer(rounds: int) -> None:
    """Seconds to write the viewer page of a 5,079-node run (its overview and a picture
    of every stage, two dot processes at a time); its loading is timed in Chromium by
    tests/test_viz_viewer.py."""
    run = with_run(layered(41, 80))
    seconds = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            start = time.perf_counter()
            page = bg.render_steps(run, tmp)
            seconds.append(time.perf_counter() - start)
        size = Path(page).stat().st_size
    print(f"viewer page of a 5,079-node run: written in {statistics.median(seconds):.1f} s "
          f"(median of {rounds}), {size / 1e6:.1f} MB")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
