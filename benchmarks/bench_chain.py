"""The cost per node of a long chain of tiny nodes, against a plain Python loop.

A chain of 10,000 nodes cycles through ``x * 0.9``, ``x + 0.1`` and ``tanh(x)``, on a
4-element array and on a Python float. bngraph runs it forward and backward; the
loop makes the same numpy calls by hand (forward: the op; backward: ``g * 0.9``,
nothing, ``g * (1 - out * out)``), keeping the forward values it needs. Both are
timed side by side in alternating order; the table gives the median cost per node
and the median of the paired ratios.

Usage: python benchmarks/bench_chain.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

import bngraph as bg

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from timing import paired  # noqa: E402

NODES = 10_000
KINDS = ("mul", "add", "tanh")


def chain_graph(nodes: int = NODES) -> bg.Graph:
    g = bg.Graph("chain")
    node = g.input("x")
    for k in range(nodes):
        kind = KINDS[k % 3]
        node = node * 0.9 if kind == "mul" else node + 0.1 if kind == "add" else bg.tanh(node)
    g.output(node.named("y"))
    return g


def plain_loop(x: Any, nodes: int = NODES) -> Callable[[], Any]:
    """The same numpy calls as the chain's forward and backward, in a plain loop."""
    tanh = np.tanh

    def call() -> Any:
        kept = []
        v = x
        for k in range(nodes):
            kind = k % 3
            if kind == 0:
                v = v * 0.9
            elif kind == 1:
                v = v + 0.1
            else:
                v = tanh(v)
                kept.append(v)
        g = np.ones_like(v) if isinstance(v, np.ndarray) else 1.0
        for k in reversed(range(nodes)):
            kind = k % 3
            if kind == 0:
                g = g * 0.9
            elif kind == 2:
                out = kept.pop()
                g = g * (1 - out * out)
        return v, g

    return call


def engine(graph: bg.Graph, x: Any) -> Callable[[], Any]:
    def call() -> Any:
        run = graph.forward(x=x)
        return run.outputs["y"], run.backward()["x"]

    return call


def chain_table(quick: bool = False) -> list[str]:
    graph = chain_graph()
    lines = [f"{NODES:,}-node chain, per node forward + backward:"]
    print(lines[0], flush=True)
    for label, x in (("4-element array", np.linspace(0.1, 0.4, 4)), ("Python float", 0.3)):
        calls = {"bngraph": engine(graph, x), "loop": plain_loop(x)}
        got, want = calls["bngraph"](), calls["loop"]()
        assert np.allclose(got[0], want[0]) and np.allclose(got[1], want[1])
        times, ratios, _ = paired(calls, 1, 5 if quick else 11)
        line = (f"  {label:<16} bngraph {times['bngraph'] / NODES * 1e6:.2f} us, "
                f"plain loop {times['loop'] / NODES * 1e6:.2f} us: {ratios['loop']:.2f}x")
        lines.append(line)
        print(line, flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    chain_table(parser.parse_args().quick)


if __name__ == "__main__":
    main()
