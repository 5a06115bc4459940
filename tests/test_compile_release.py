"""``Graph.release_buffers``: the memory a graph's compiled plans keep between runs
(idle arenas, spare results) is freed on demand, and nothing a caller holds is touched."""

from __future__ import annotations

import gc
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
from test_compile import assert_same, interpreted
from test_compile_spares import D, N, fresh_graph, inputs, run_once

import bngraph as bg

X_BYTES = N * D * 8  # one array of x's size in float64


@pytest.fixture
def traced() -> Iterator[None]:
    """numpy reports its arrays' memory to tracemalloc: the independent measure."""
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def traced_bytes() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def check_against_interpreter(g: bg.Graph, seed: int) -> None:
    out, grads = run_once(g, seed)
    reference = interpreted(g, inputs(seed))
    assert_same(out, reference.outputs["out"], "out")
    for name, value in reference.backward(np.ones((N, D))).items():
        assert_same(grads[name], value, name)


@pytest.mark.usefixtures("traced")
def test_release_frees_what_a_finished_loop_left_and_the_next_run_is_still_right() -> None:
    g = fresh_graph()
    for seed in range(3):
        out, grads = run_once(g, seed)
        del out, grads
    before = traced_bytes()
    freed = g.release_buffers()
    after = traced_bytes()
    # the idle arena (xmu and xhat are x-sized) and the spare out and dx at least
    assert freed >= 4 * X_BYTES
    # what it says it freed is gone from the process (tracemalloc counts numpy's memory)
    assert before - after >= freed
    assert g.release_buffers() == 0
    check_against_interpreter(g, 7)


@pytest.mark.usefixtures("traced")
def test_release_leaves_held_results_and_live_runs_alone() -> None:
    g = fresh_graph()
    kept_out, kept_grads = run_once(g, 1)
    copies = (kept_out.copy(), {name: v.copy() for name, v in kept_grads.items()})
    live = g.forward(inputs(2))
    out, grads = run_once(g, 3)  # its own arena (the live run holds the other), dropped
    del out, grads
    before = traced_bytes()
    freed = g.release_buffers()
    # that run's arena and results; not what the caller and the live run hold
    assert freed >= 4 * X_BYTES
    assert before - traced_bytes() >= freed
    # the live run kept its arena: its backward pass still reads its own forward values
    grads = live.backward(np.ones((N, D)))
    reference = interpreted(g, inputs(2))
    assert_same(live.outputs["out"], reference.outputs["out"], "out")
    for name, value in reference.backward(np.ones((N, D))).items():
        assert_same(grads[name], value, name)
    # later runs never write into what the caller still holds
    del live, grads
    for seed in (4, 5):
        run_once(g, seed)
    np.testing.assert_array_equal(kept_out, copies[0])
    for name, value in kept_grads.items():
        np.testing.assert_array_equal(value, copies[1][name])


def test_a_graph_never_run_has_nothing_to_release() -> None:
    g = bg.Graph("open")
    x = g.input("x")
    g.output((x * 2.0).named("y"))
    assert g.release_buffers() == 0
    assert fresh_graph().release_buffers() == 0


def test_release_buffers_frees_every_graph() -> None:
    graphs = [fresh_graph(), fresh_graph()]
    for g in graphs:
        out, grads = run_once(g, 0)
        del out, grads
    assert bg.release_buffers() >= 2 * 4 * X_BYTES
    assert [g.release_buffers() for g in graphs] == [0, 0]
    for g in graphs:
        check_against_interpreter(g, 5)
