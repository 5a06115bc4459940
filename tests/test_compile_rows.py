"""Row passes (``bngraph.compile.rows``, their loops ``bngraph.compile.loops``): runs of large elementwise calls and sums over
the first axis, compiled by numba into one loop, give the interpreter's results bit for
bit; a run whose arrays the loop does not take, and a machine without numba, get numpy's
calls; a pass compiled on the worker thread takes over once it is ready."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_compile import assert_same, interpreted, quietly_patched

import bngraph as bg
from bngraph.compile import loops, row_ops, rows
from bngraph.compile.compiled import CompiledPlan
from bngraph.errors import NonFiniteWarning

N, D = 1024, 512  # 2 MiB in float32: above row_ops.MIN_BYTES, rows wider than MIN_WIDTH


def batchnorm_inputs(dtype: type, seed: int = 0, n: int = N, d: int = D) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    # magnitudes over several decades: another order of operations would round otherwise
    x = rng.standard_normal((n, d)) * 10.0 ** rng.integers(-3, 4, (n, d))
    return {"x": x.astype(dtype), "gamma": rng.standard_normal(d).astype(dtype),
            "beta": rng.standard_normal(d).astype(dtype), "eps": 1e-5}


def passes(graph: bg.Graph, inputs: dict[str, Any]) -> list[rows.RowPass]:
    """The row passes of the graph's compiled plan for these inputs, forward and backward."""
    from bngraph.compile.cache import compiled_for

    compiled = compiled_for(graph.plan, inputs)
    assert isinstance(compiled, CompiledPlan)
    steps = [*compiled.steps]
    for backward in compiled._backward.values():
        if backward is not None:
            steps += backward.steps
    return [step[0] for step in steps if isinstance(step[0], rows.RowPass)]


def compiled_loops(found: list[rows.RowPass]) -> int:
    return sum(1 for p in found if p.loop not in (None, rows.COMPILING, rows.FAILED))


def agree(graph: bg.Graph, inputs: dict[str, Any], seed: np.ndarray | None) -> None:
    """Compiled runs (the last ones with the loops) and the interpreter, bit for bit;
    ``seed=None``: ``backward()``, seeded with ones."""
    reference = interpreted(graph, inputs)
    want = reference.backward(seed)
    for _ in range(2 + rows.COMPILE_AFTER):
        run = graph.forward(inputs)
        got = run.backward(seed)
        assert run.stats.compiled  # (no step fell back to the interpreter)
        for name, value in reference.outputs.items():
            assert_same(run.outputs[name], value, f"output {name}")
        for name, value in want.items():
            assert_same(got[name], value, f"gradient of {name}")


def test_numba_is_installed_here() -> None:
    """The test extras install numba (the fast extra): no test here passes by skipping."""
    assert loops.available()


@pytest.mark.parametrize("name", ["batchnorm", "batchnorm_composite"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seeded", [True, False])
def test_the_fused_passes_of_batchnorm_are_the_interpreters_bit_for_bit(
        name: str, dtype: type, seeded: bool) -> None:
    """Seeded with an array, or by ``backward()`` with ones (a constant of x's shape,
    spread from one number)."""
    graph = bg.Graph.from_ir(bg.library.get(name).ir)
    inputs = batchnorm_inputs(dtype)
    seed = np.random.default_rng(1).standard_normal((N, D)).astype(dtype) if seeded else None
    agree(graph, inputs, seed)
    found = passes(graph, inputs)
    assert found and compiled_loops(found) == len(found)  # every pass ran its loop


def test_a_pass_of_every_op_and_of_a_kept_view_is_the_interpreters() -> None:
    """Subtraction, division, negation, square roots and Python floats in one pass; a sum
    over the first axis that keeps it; a value read again through a reshape."""
    graph = bg.parse(
        "input x\ninput w\ninput c\n"
        "a = sqrt(x * x + c)\n"
        "b = (w - a) / (a + 2.0)\n"
        "r = reshape(-b, shape=(1024, 512))\n"
        "y = sum(r * r - x, axis=0, keepdims=True) + sum(b, axis=0, keepdims=True) * r\n"
        "output y\n")
    rng = np.random.default_rng(2)
    inputs = {"x": rng.standard_normal((N, D)), "w": rng.standard_normal(D), "c": 0.5}
    agree(graph, inputs, rng.standard_normal((N, D)))
    assert passes(graph, inputs)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_small_batchnorm_runs_forward_in_one_loop_call(
        dtype: type, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 32x64 (a small pass, compiled at once here): the forward pass is one loop of
    five phases, sums and the steps over one row between them; bit for bit."""
    monkeypatch.setattr(rows, "COMPILE_AFTER_SMALL", 0)
    graph = bg.Graph.from_ir(bg.library.get("batchnorm").ir)
    inputs = batchnorm_inputs(dtype, seed=6, n=32, d=64)
    agree(graph, inputs, np.random.default_rng(7).standard_normal((32, 64)).astype(dtype))
    agree(graph, inputs, None)
    found = passes(graph, inputs)
    assert compiled_loops(found) == len(found)
    from bngraph.compile.cache import compiled_for

    (step,) = compiled_for(graph.plan, inputs).steps
    assert [kind for kind, _, _ in step[0].phases] == [
        loops.SWEEP, loops.LINE, loops.SWEEP, loops.LINE, loops.SWEEP]


def test_arrays_the_loop_does_not_take_get_numpys_calls() -> None:
    """x in Fortran order: the pass runs its calls one by one, and is still right."""
    graph = bg.Graph.from_ir(bg.library.get("batchnorm").ir)
    inputs = batchnorm_inputs(np.float64)
    inputs["x"] = np.asfortranarray(inputs["x"])
    seed = np.ones((N, D))
    agree(graph, inputs, seed)
    inputs["x"] = np.ascontiguousarray(inputs["x"])
    assert compiled_loops(passes(graph, inputs)) == 0  # never asked for: no loop compiled


def test_without_numba_the_plan_keeps_numpys_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loops, "available", lambda: False)
    graph = bg.Graph.from_ir(bg.library.get("batchnorm").ir)
    inputs = batchnorm_inputs(np.float32)
    agree(graph, inputs, np.ones((N, D), np.float32))
    assert passes(graph, inputs) == []


def test_a_pass_compiled_in_the_background_takes_over_once_ready(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loops, "COMPILE_IN_BACKGROUND", True)
    graph = bg.Graph.from_ir(bg.library.get("batchnorm").ir)
    inputs = batchnorm_inputs(np.float32, seed=3)
    seed = np.ones((N, D), np.float32)
    agree(graph, inputs, seed)  # the loops compile on the worker meanwhile
    loops.wait()
    found = passes(graph, inputs)
    assert compiled_loops(found) == len(found) > 0
    agree(graph, inputs, seed)


def test_non_finite_values_from_a_pass_are_still_reported() -> None:
    graph = bg.Graph.from_ir(bg.library.get("batchnorm").ir)
    inputs = batchnorm_inputs(np.float64)
    for _ in range(1 + rows.COMPILE_AFTER):
        graph.forward(inputs).backward(np.ones((N, D)))
    inputs["x"] = inputs["x"].copy()
    inputs["x"][5, 7] = np.inf
    with np.errstate(all="ignore"), pytest.warns(NonFiniteWarning, match="node 'mu'"):
        graph.forward(inputs)
    assert compiled_loops(passes(graph, inputs)) > 0


def test_a_value_read_after_its_buffer_is_written_in_place_is_the_old_one() -> None:
    """``b`` takes over ``a``'s buffer in place (nothing saves ``a``: its readers' rules
    do not need it), and the sums after it read ``a`` through ``c``, which the pass
    does not store: they must read ``a`` as it was, not ``b``."""
    graph = bg.parse(
        "input x\n"
        "a = x + 1.0\n"
        "m = sum(a, axis=0)\n"
        "k = m * 0.5\n"
        "c = a + k\n"
        "b = -a\n"
        "s = sum(c + 1.0, axis=0) + sum(c - 1.0, axis=0)\n"
        "t = s * 0.25\n"
        "y = b * t\n"
        "output y\n")
    inputs = {"x": np.random.default_rng(4).standard_normal((N, D))}
    agree(graph, inputs, np.ones((N, D)))
    assert passes(graph, inputs)


def test_a_value_handed_out_through_a_view_is_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    """x's gradient is a reshape of what the backward pass adds up, a view made with the
    arena: the pass must store the value it views, which no later step reads. (A small
    pass, compiled at once.)"""
    monkeypatch.setattr(rows, "COMPILE_AFTER_SMALL", 0)
    graph = bg.parse(
        "input x\ninput v\n"
        "z = reshape(x, shape=(32, 64))\n"
        "d = z / (v * v + 0.5)\n"
        "y = d - d\n"
        "output y, z\n")
    rng = np.random.default_rng(5)
    inputs = {"x": rng.standard_normal((32, 64)), "v": rng.standard_normal(64)}
    agree(graph, inputs, None)
    assert compiled_loops(passes(graph, inputs)) == 2


FULL, ROW = "full", "row"  # a node's shape: (R, C), or (C,) and (1, C) broadcast down
R, C = 5, 4


@st.composite
def row_graphs(draw: Any) -> tuple[bg.Graph, dict[str, Any]]:
    """A random graph of what row passes take (``+ - * /``, negation, square roots, sums
    and means over the first axis, reshapes that keep the shape) on arrays of one shape,
    rows broadcast down and Python floats, with values for its inputs."""
    g = bg.Graph("rows")
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    inputs: dict[str, Any] = {"x": rng.standard_normal((R, C)).astype(dtype),
                              "v": rng.standard_normal(C).astype(dtype), "c": 0.75}
    nodes: list[tuple[Any, str]] = [(g.input("x"), FULL), (g.input("v"), ROW),
                                    (g.input("c"), "number")]
    for _ in range(draw(st.integers(2, 14))):
        kind = draw(st.sampled_from(["binary"] * 4 + ["neg", "sqrt", "sum", "view"]))
        a, a_shape = nodes[draw(st.integers(0, len(nodes) - 1))]
        if kind == "binary":
            b, b_shape = nodes[draw(st.integers(0, len(nodes) - 1))]
            op = draw(st.sampled_from(["+", "-", "*", "/"]))
            node = {"+": a + b, "-": a - b, "*": a * b, "/": a / (b * b + 0.5)}[op]
            shape = FULL if FULL in (a_shape, b_shape) else ROW if ROW in (a_shape, b_shape) \
                else "number"
        elif kind == "neg":
            node, shape = -a, a_shape
        elif kind == "sqrt":
            node, shape = bg.sqrt(a * a + 0.25), a_shape
        elif a_shape != FULL:
            continue
        elif kind == "sum":
            reduce = draw(st.sampled_from([bg.sum, bg.mean]))
            node, shape = reduce(a, axis=0, keepdims=draw(st.booleans())), ROW
        else:
            node, shape = bg.reshape(a, shape=(R, C)), FULL
        nodes.append((node, shape))
    fulls = [n for n, shape in nodes[3:] if shape == FULL] or [nodes[0][0] * 2.0]
    g.output(fulls[-1].named("y"))
    if len(fulls) > 1 and draw(st.booleans()):
        g.output(fulls[draw(st.integers(0, len(fulls) - 2))].named("z"))
    return g, inputs


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(row_graphs())  # (numba compiles each graph's loops: about 2 s each)
def test_random_graphs_in_row_passes_are_the_interpreters(case: Any) -> None:
    """Row passes of any size, compiled before their first run: two runs in a row
    equal the interpreter bit for bit."""
    graph, inputs = case
    with quietly_patched() as patch:
        patch.setattr(row_ops, "MIN_BYTES", 0)
        patch.setattr(row_ops, "MIN_WIDTH", 1)
        patch.setattr(row_ops, "MIN_ROW", 1)  # (steps over one row make lines)
        patch.setattr(rows, "COMPILE_AFTER", 0)
        reference = interpreted(graph, inputs)
        want = reference.backward()
        for _ in range(2):
            run = graph.forward(inputs)
            for name, value in reference.outputs.items():
                assert_same(run.outputs[name], value, f"output {name}")
            got = run.backward()
            assert run.stats.compiled  # (no step fell back to the interpreter)
            for name, value in want.items():
                assert_same(got[name], value, f"gradient of {name}")
