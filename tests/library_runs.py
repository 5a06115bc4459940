"""Runs of the library graphs on their example inputs, as the drawing tests draw them."""

from __future__ import annotations

import bngraph as bg


def example_run(name: str) -> bg.Run:
    """The library graph ``name`` run forward on its example (every value kept) and
    backward with its outputs as seeds."""
    g = bg.library.get(name)
    run = g.forward(keep_values=True, **bg.library.example(name))
    run.backward(**{output: run.outputs[output] for output in g.outputs})
    return run
