"""Spares: a compiled plan writes a run's outputs into arrays an earlier run handed out,
only once nothing refers to them any more (``bngraph.compile.spares``)."""

from __future__ import annotations

import threading
import weakref
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from test_compile import (
    assert_same,
    graph_and_inputs,
    in_threads,
    interpreted,
    outcome,
    quietly_patched,
)

import bngraph as bg
from bngraph.compile import spares

N, D = 512, 256  # x is 1 MiB in float64: its outputs are kept as spares


def fresh_graph() -> bg.Graph:
    """The BatchNorm graph with a plan (and so compiled plans and spares) of its own."""
    return bg.Graph.from_ir(bg.library.get("batchnorm").ir)


def inputs(seed: int, dtype: type = np.float64) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((N, D)).astype(dtype),
            "gamma": rng.standard_normal(D).astype(dtype),
            "beta": rng.standard_normal(D).astype(dtype)}


def address(array: np.ndarray) -> int:
    return int(array.__array_interface__["data"][0])


def run_once(g: bg.Graph, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    run = g.forward(inputs(seed))
    assert run.stats.compiled
    return run.outputs["out"], run.backward(np.ones((N, D)))


def test_an_output_nobody_holds_is_written_again_by_the_next_run() -> None:
    g = fresh_graph()
    out, grads = run_once(g, 1)
    before = (out.base.__array_interface__["data"][0], address(grads["x"]))
    del out, grads
    out, grads = run_once(g, 2)
    assert (address(out), address(grads["x"])) == before
    reference = interpreted(g, inputs(2))
    assert_same(out, reference.outputs["out"], "out")
    want = reference.backward(np.ones((N, D)))
    for name, value in want.items():
        assert_same(grads[name], value, name)


def test_a_loop_that_keeps_the_last_results_reuses_the_ones_before() -> None:
    g = fresh_graph()
    seen = set()
    out, grads = run_once(g, 0)
    for seed in range(1, 6):
        previous = out.copy()
        out, grads = run_once(g, seed)  # the last results are alive while this one runs
        seen.add(address(grads["x"]))
        assert not np.array_equal(out, previous)
    assert len(seen) == spares.KEEP


VIEWS = {"the array": lambda a: a, "a view": lambda a: a[::3, 1:],
         "a memoryview": memoryview, "a reshaped view": lambda a: a.reshape(-1)}


@pytest.mark.parametrize("hold", [*VIEWS, "a weak reference", "the run"])
def test_an_output_still_referred_to_is_never_written(hold: str) -> None:
    g = fresh_graph()
    run = g.forward(inputs(1))
    out = run.outputs["out"]
    kept = out.copy()
    holder: Any = (run if hold == "the run" else weakref.ref(out.base)
                   if hold == "a weak reference" else VIEWS[hold](out))
    del run, out
    for seed in range(2, 2 + 2 * spares.KEEP):
        run_once(g, seed)
    if hold == "the run":
        np.testing.assert_array_equal(holder.outputs["out"], kept)
    elif hold == "a weak reference":  # alive while kept as a spare, and never written
        assert holder() is None or np.array_equal(holder(), kept)
    else:
        np.testing.assert_array_equal(np.asarray(holder), VIEWS[hold](kept))


def test_a_gradient_its_holder_made_read_only_is_still_written_once_let_go() -> None:
    g = fresh_graph()
    _, grads = run_once(g, 1)
    grads["x"].flags.writeable = False
    del grads
    out, grads = run_once(g, 2)  # compiled (run_once asserts it), into the same array
    want = interpreted(g, inputs(2)).backward(np.ones((N, D)))
    assert_same(grads["x"], want["x"], "x")


def test_an_output_its_holder_reshaped_in_place_is_not_written_again() -> None:
    g = fresh_graph()
    _, grads = run_once(g, 1)
    grads["x"].shape = (D, N)  # the same memory, another shape
    del grads
    run = g.forward(inputs(2))
    grads = run.backward(np.ones((N, D)))
    assert run.stats.compiled  # (written into, it would have sent the run to the interpreter)
    want = interpreted(g, inputs(2)).backward(np.ones((N, D)))
    assert_same(grads["x"], want["x"], "x")


def test_small_outputs_are_not_kept() -> None:
    g = fresh_graph()
    rng = np.random.default_rng(0)
    run = g.forward(x=rng.standard_normal((16, 4)), gamma=np.ones(4), beta=np.zeros(4))
    run.backward()
    compiled = run._compiled
    backward = [b for b in compiled._backward.values() if b]
    assert compiled.spares is None and backward and backward[0].spares is None
    large = fresh_graph().forward(inputs(0))._compiled.spares
    assert large is not None and large.nbytes == N * D * 8


def test_threads_sharing_spares_never_see_each_others_results() -> None:
    g = fresh_graph()
    cases = [inputs(k, np.float32 if k % 2 else np.float64) for k in range(4)]
    seed = [np.ones((N, D), c["x"].dtype) for c in cases]
    expected = []
    for case, s in zip(cases, seed, strict=True):
        reference = interpreted(g, case)
        expected.append((reference.outputs["out"], reference.backward(s)["x"]))
    failures: list[str] = []
    barrier = threading.Barrier(len(cases))

    def work(k: int) -> None:
        barrier.wait()
        held = []
        for i in range(12):
            run = g.forward(cases[k])
            out, dx = run.outputs["out"], run.backward(seed[k])["x"]
            if not run.stats.compiled:
                failures.append("not compiled")
            del run
            if i % 3 == 0:
                held.append((out, dx))  # some results stay held while others are let go
            for o, d in held + [(out, dx)]:
                if not (np.array_equal(o, expected[k][0]) and np.array_equal(d, expected[k][1])):
                    failures.append(f"thread {k}: a result changed after it was handed out")

    in_threads(work, len(cases))
    assert not failures, failures[:3]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(graph_and_inputs())
def test_random_graphs_with_spares_of_any_size_agree_with_the_interpreter(case: Any) -> None:
    """Every handed-out array kept and written again: three runs in a row equal the
    interpreter bit for bit, and the first run's results, held, do not change."""
    graph, values = case
    with quietly_patched() as patch:
        patch.setattr(spares, "MIN_BYTES", 0)
        want = outcome(lambda: interpreted(graph, values))
        if want[0] == "error":
            return
        want_grads = outcome(want[1].backward)
        held = None
        for k in range(3):
            got = outcome(lambda: graph.forward(values))
            assert got[0] == "ok", got
            outputs = dict(got[1].outputs)
            grads = outcome(got[1].backward)
            assert grads[0] == want_grads[0], (grads, want_grads)
            for name, value in want[1].outputs.items():
                assert_same(outputs[name], value, f"output {name}")
            if grads[0] == "ok":
                for name, value in want_grads[1].items():
                    assert_same(grads[1][name], value, f"gradient of {name}")
            if k == 0:
                held = (outputs, grads[1:], {n: v.copy() if isinstance(v, np.ndarray) else v
                                            for n, v in outputs.items()})
            del got, outputs, grads
        assert held is not None
        for name, value in held[2].items():
            assert_same(held[0][name], value, f"held output {name}")
        if want_grads[0] == "ok":
            for name, value in want_grads[1].items():
                assert_same(held[1][0][name], value, f"held gradient of {name}")
