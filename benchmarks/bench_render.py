"""Drawing a 5,000-node graph: seconds to SVG in its default (collapsed) view.

Graphviz lays out a full graph of a thousand nodes in seconds and of several
thousand in minutes, so above ``bngraph.viz.COLLAPSE_THRESHOLD`` nodes a graph is
drawn one node per stage. This measures ``bg.render(graph, "x.svg")`` end to end
(DOT text built in Python, then ``dot``) against plain ``dot -Tsvg`` on the same
collapsed DOT text, alternating the two (A B B A ...) after a warm-up, and prints
the medians and their ratio. Target: under 10 s.

Run: ``python benchmarks/bench_render.py`` (or ``make bench``).
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import bngraph as bg
from bngraph.testing.graphs import layered
from bngraph.viz import to_graphviz


def main(rounds: int = 5) -> None:
    start = time.perf_counter()
    graph = layered(stages=41, width=80).freeze()
    built = time.perf_counter() - start
    print(f"graph: {len(graph)} nodes in {len(graph.stages)} stages (built in {built:.2f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        svg = Path(tmp) / "layered.svg"
        dot_file = Path(tmp) / "layered.dot"
        dot_file.write_text(to_graphviz(graph).source, encoding="utf-8")

        def ours() -> float:
            t = time.perf_counter()
            bg.render(graph, svg)
            return time.perf_counter() - t

        def plain() -> float:
            t = time.perf_counter()
            subprocess.run(
                ["dot", "-Tsvg", "-o", str(Path(tmp) / "plain.svg"), str(dot_file)], check=True
            )
            return time.perf_counter() - t

        ours(), plain()  # warm-up
        a: list[float] = []
        b: list[float] = []
        for k in range(rounds):
            for run in (ours, plain) if k % 2 == 0 else (plain, ours):
                (a if run is ours else b).append(run())
        t = time.perf_counter()
        to_graphviz(graph)
        python_only = time.perf_counter() - t
    ours_median, plain_median = statistics.median(a), statistics.median(b)
    print(
        f"bg.render(graph, 'layered.svg'), default view: median {ours_median:.3f} s "
        f"over {rounds} runs (target < 10 s)"
    )
    print(f"plain dot -Tsvg on the same collapsed DOT:      median {plain_median:.3f} s")
    print(
        f"ratio: {ours_median / plain_median:.2f}x; "
        f"building the DOT text alone: {python_only:.3f} s"
    )
    # for scale: the full view of a graph just under the threshold, which is drawn uncollapsed
    small = layered(stages=2, width=40)
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        bg.render(small, Path(tmp) / "small.svg", collapse=False)
        full = time.perf_counter() - t
    print(
        f"full view of a {len(small)}-node graph "
        f"(threshold {bg.viz.COLLAPSE_THRESHOLD}): {full:.2f} s"
    )


if __name__ == "__main__":
    main()
