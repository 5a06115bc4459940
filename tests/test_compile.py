"""Compiled plans against the interpreter: same numbers, same contract.

The interpreter reference is built here from its public parts (``bind_inputs``,
``forward_pass``, ``Run``), so that nothing in it can take the compiled path.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from graph_strategies import graphs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bngraph as bg
from bngraph.binding import bind_inputs
from bngraph.errors import OpError, RunStateError
from bngraph.execute import forward_pass
from bngraph.run import Run


def interpreted(graph: bg.Graph, inputs: dict[str, Any]) -> Run:
    """A run made by the interpreter alone."""
    plan = graph.plan
    bound = bind_inputs(plan, inputs)
    forward_pass(plan, bound.values, bound.shapes, release=True, check_finite=False,
                 float_dtype=bound.float_dtype)
    return Run(graph, bound, keep_values=False, forward_seconds=0.0)


def assert_same(a: Any, b: Any, what: str) -> None:
    """Bit for bit: same type, dtype, shape and every element (NaNs in the same places),
    and the same signs of zeros. Not the sign of a NaN: IEEE 754 gives it no meaning, and
    it follows the order of operands (x86 makes a NaN negative; -x of one flips it; a sum
    of two keeps the first's), which a compiled plan may swap (``a * (-c)`` for
    ``(-a) * c``)."""
    assert type(a) is type(b), (what, type(a), type(b))
    assert np.shape(a) == np.shape(b), (what, np.shape(a), np.shape(b))
    assert np.asarray(a).dtype == np.asarray(b).dtype, (what, a, b)
    assert np.array_equal(a, b, equal_nan=True), (what, a, b)
    parts = (np.real, np.imag) if np.iscomplexobj(b) else (np.asarray,)
    for part in parts:
        number = ~np.isnan(part(b))
        assert np.array_equal(np.signbit(part(a))[number], np.signbit(part(b))[number]), (
            what, a, b)


def assert_runs_agree(graph: bg.Graph, inputs: dict[str, Any], **seeds: Any) -> Run:
    compiled, reference = graph.forward(inputs), interpreted(graph, inputs)
    assert compiled.stats.compiled and not reference.stats.compiled
    for name, value in reference.outputs.items():
        assert_same(compiled.outputs[name], value, f"output {name}")
    got, want = compiled.backward(**seeds), reference.backward(**seeds)
    assert compiled.stats.compiled
    for name, value in want.items():
        assert_same(got[name], value, f"gradient of {name}")
    return compiled


def in_dtype(inputs: dict[str, Any], dtype: type) -> dict[str, Any]:
    return {k: v.astype(dtype) if isinstance(v, np.ndarray) and v.dtype.kind == "f" else v
            for k, v in inputs.items()}


@pytest.mark.parametrize("name", bg.library.names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_library_graph_compiled_equals_interpreted_bit_for_bit(name: str,
                                                                     dtype: type) -> None:
    graph = bg.library.get(name)
    inputs = in_dtype(bg.library.example(name), dtype)
    graph.forward(inputs)  # a first run may teach the plan the layout a foreign op gives
    run = assert_runs_agree(graph, inputs)
    rng = np.random.default_rng(5)
    seeds = {out: rng.standard_normal(np.shape(value)).astype(dtype)
             for out, value in run.outputs.items()}
    graph.forward(inputs).backward(**seeds)  # and what a foreign rule gives for these seeds
    assert_runs_agree(graph, inputs, **seeds)
    # the next run of a signature reuses the arena of the one before
    assert_runs_agree(graph, {k: v * 2 if k in ("x", "logits", "q") else v
                              for k, v in inputs.items()}, **seeds)


@pytest.mark.parametrize("name", ["batchnorm", "batchnorm_composite", "batchnorm_spatial",
                                  "layernorm", "groupnorm"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_normalizations_with_scalar_parameters_compiled_equal_interpreted(
    name: str, dtype: type, norm_inputs: Any
) -> None:
    shape = (6, 4) if name in ("batchnorm", "batchnorm_composite", "layernorm") else (3, 4, 2, 3)
    inputs = norm_inputs(shape, dtype, scalar_params=True)
    assert_runs_agree(bg.library.get(name), inputs)
    assert_runs_agree(bg.library.get(name), inputs, out=np.ones(shape, dtype))


@st.composite
def graph_and_inputs(draw: Any) -> tuple[bg.Graph, dict[str, Any]]:
    """A random graph and values for its inputs: declared symbols bound once, other
    inputs drawn as Python floats, 0-d or small arrays; one dtype for all arrays."""
    graph = draw(graphs())
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    dims: dict[str, int] = {}
    inputs: dict[str, Any] = {}
    for name in graph.inputs:
        params = graph.spec(name).params
        declared = params.get("shape")
        if declared is None:
            choice = draw(st.sampled_from(["float", "default", (), (3,), (2, 3)]))
            if choice == "default" and "default" in params:
                continue
            if choice in ("float", "default"):
                inputs[name] = draw(st.floats(-3, 3))
                continue
            shape: tuple[int, ...] = choice  # type: ignore[assignment]
        else:
            shape = tuple(dims.setdefault(d, draw(st.integers(1, 3))) if isinstance(d, str)
                          else d for d in declared)
        values = np.random.default_rng(draw(st.integers(0, 2**16))).standard_normal(shape)
        if draw(st.booleans()):
            values = np.abs(values) + 0.1
        inputs[name] = np.asarray(values, dtype)
    return graph, inputs


@contextlib.contextmanager
def quietly_patched() -> Iterator[pytest.MonkeyPatch]:
    """A monkeypatch for one hypothesis example, with numpy's floating-point warnings
    and every other warning silenced (random graphs overflow and divide by zero)."""
    with np.errstate(all="ignore"), warnings.catch_warnings(), \
            pytest.MonkeyPatch.context() as patch:
        warnings.simplefilter("ignore")
        yield patch


def outcome(call: Any) -> tuple[Any, ...]:
    try:
        return ("ok", call())
    except Exception as error:  # noqa: BLE001 - both sides must fail alike
        return ("error", type(error), str(error))


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(graph_and_inputs())
def test_random_graphs_compiled_equal_interpreted_bit_for_bit(case: Any) -> None:
    graph, inputs = case
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = outcome(lambda: interpreted(graph, inputs))
        got = outcome(lambda: graph.forward(inputs))
        assert got[0] == want[0] and got[2:] == want[2:], (got, want)
        if want[0] == "error":
            return
        reference, run = want[1], got[1]
        for name, value in reference.outputs.items():
            assert_same(run.outputs[name], value, f"output {name}")
        want, got = outcome(reference.backward), outcome(run.backward)
        assert got[0] == want[0] and got[2:] == want[2:], (got, want)
        if want[0] == "ok":
            for name, value in want[1].items():
                assert_same(got[1][name], value, f"gradient of {name}")


def test_constants_equal_but_of_opposite_sign_stay_apart() -> None:
    """``-0.0`` and ``0`` are equal and hash alike; sharing one register for both turned
    ``A / 0`` into ``A / -0.0`` (``-inf`` where the interpreter gives ``+inf``)."""
    graph = bg.parse("input A\np = A ** -0.0\nq = A / 0\nr = A * -0.0\noutput p, q, r\n")
    with np.errstate(divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        inputs = {"A": np.array(0.125)}
        run, reference = graph.forward(inputs), interpreted(graph, inputs)
    for name, value in reference.outputs.items():  # the outputs of the compiled plan (the
        assert_same(run.outputs[name], value, name)  # warning then replays the interpreter)
    assert type(run).__name__ == "CompiledRun"
    assert run.outputs["q"] == np.inf and np.signbit(run.outputs["r"])


def test_a_reshape_that_fails_while_the_arena_is_made_names_its_node() -> None:
    """The views of a new arena are made before the run: a reshape that cannot be made
    escaped from there as numpy's bare ValueError."""
    graph = bg.parse("input x[3, 2]\ny = -3 / x\nz = reshape(y, shape=(-1, -2))\n"
                     "w = x * 2\noutput w\n")
    with pytest.raises(OpError, match="node 'z' \\(op reshape\\)"):
        graph.forward(x=np.ones((3, 2)))


def test_a_rule_that_hands_back_its_gradient_keeps_it_from_being_overwritten() -> None:
    """add's rule hands ``g`` itself to a Python-float operand (S); the plan then summed
    e's other gradient into g's buffer in place, and S's gradient changed with it."""
    graph = bg.parse("input S\ninput e[]\nneg_1 = -S\nA = (S + e) ** 0\nz = sin(e) * 2\n"
                     "output z, neg_1, A\n")
    run = assert_runs_agree(graph, {"S": 1.1026414160810587, "e": np.array(0.12573022)})
    assert run.grads["S"] == -1.0  # from neg_1 alone: (S + e) ** 0 sends 0


def test_a_gradient_copied_out_keeps_its_buffer_to_the_end() -> None:
    """B's gradient is a view of a buffer that A's, computed next, took over: the copy
    made at the end read A's numbers."""
    graph = bg.parse("input A[M]\ninput B[2]\nmean_1 = mean(A, keepdims=True)\n"
                     "mean_2 = mean(B, keepdims=True)\noutput mean_1, mean_2\n")
    run = assert_runs_agree(graph, {"A": np.array([0.125]), "B": np.array([0.125, -0.25])})
    assert run.grads["B"].tolist() == [0.5, 0.5]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
@pytest.mark.parametrize("expression", ["x + e", "e + x", "x - e", "e - x", "x * e", "e * x",
                                        "x / e", "e / x", "(x * e + e) * e"])
def test_the_gradient_of_a_python_float_beside_arrays_is_the_interpreters(
        expression: str, shape: tuple[int, ...], dtype: type) -> None:
    """A Python float meeting arrays (eps in ``var + eps``) has its gradient summed from
    the rule's calls by the plan: the same bits, dtype and type as the interpreter's sum,
    seeded by backward() and by an array."""
    graph = bg.parse(f"input x\ninput e\ny = {expression}\noutput y\n")
    x = np.random.default_rng(3).uniform(0.5, 2.0, shape).astype(dtype)
    inputs = {"x": x, "e": 0.3}
    run = assert_runs_agree(graph, inputs)
    assert run.grads["e"].shape == () and run.grads["e"].dtype == dtype
    assert_runs_agree(graph, inputs, y=np.linspace(-1, 1, x.size).reshape(shape).astype(dtype))


def test_a_foreign_rule_that_gives_another_dtype_teaches_the_next_backward() -> None:
    """A float32 seed for a float64 output: matmul's rule gives float32 where the plan
    assumed float64. That backward pass goes to the interpreter; the next is compiled
    knowing the dtype (it used to go to the interpreter for good), and both agree."""
    graph = bg.parse("input a[2, 3]\ninput b[3, 2]\ny = a @ b\noutput y\n")
    inputs = {"a": np.ones((2, 3), np.float32), "b": np.arange(6.0).reshape(3, 2)}
    seed = np.full((2, 2), 0.5, np.float32)
    first = graph.forward(inputs)
    want = interpreted(graph, inputs).backward(y=seed)
    got = first.backward(y=seed)
    assert not first.stats.compiled  # this one went to the interpreter
    for name, value in want.items():
        assert_same(got[name], value, f"gradient of {name}")
    assert_runs_agree(graph, inputs, y=seed)  # this one is compiled (asserted there)


def test_compiled_plans_are_dropped_with_their_graph() -> None:
    """The caches of compiled plans were kept in a table by plan: every graph ever run,
    and the buffers of its runs, stayed in memory."""
    import gc
    import weakref

    def run_one() -> weakref.ref[Any]:
        graph = bg.parse("input x[N]\ny = x * 2\noutput y\n")
        run = graph.forward(x=np.ones(3))
        run.backward()
        assert run.stats.compiled
        return weakref.ref(graph.plan)

    plans = [run_one() for _ in range(3)]
    gc.collect()
    assert [plan() for plan in plans] == [None, None, None]


def test_random_graphs_mostly_take_the_compiled_path() -> None:
    """The comparison above is not vacuous: graphs that run at all run compiled, but for
    values a plan cannot foresee (a complex power) and shapes whose op's shape rule
    refuses what numpy accepts (``reshape(x, shape=(1, -2))``)."""
    compiled = total = 0

    @settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck),
              database=None)
    @given(graph_and_inputs())
    def count(case: Any) -> None:
        nonlocal compiled, total
        graph, inputs = case
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                run = graph.forward(inputs)
            except bg.BngraphError:
                return
        total += 1
        compiled += run.stats.compiled

    count()
    assert total >= 20 and compiled >= 0.75 * total, (compiled, total)


def batchnorm_inputs(n: int = 16, d: int = 5, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    return {"x": rng.standard_normal((n, d)), "gamma": rng.standard_normal(d),
            "beta": rng.standard_normal(d)}


def test_outputs_and_gradients_of_one_run_survive_the_next() -> None:
    g = bg.library.get("batchnorm")
    first = g.forward(batchnorm_inputs(seed=1))
    out = first.outputs["out"]
    kept = out.copy()
    grads = first.backward(np.ones_like(out))
    kept_grads = {k: np.array(v) for k, v in grads.items()}
    del first  # its arena goes back to the pool: the next run reuses it
    second = g.forward(batchnorm_inputs(seed=2))
    second.backward(np.full_like(out, 3.0))
    np.testing.assert_array_equal(out, kept)
    for name, value in grads.items():
        np.testing.assert_array_equal(value, kept_grads[name])
        assert not np.shares_memory(value, second.outputs["out"])


def test_a_saved_value_read_from_a_run_survives_the_next() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(batchnorm_inputs(seed=1))
    xhat = run.value("xhat")
    kept = xhat.copy()
    del run
    g.forward(batchnorm_inputs(seed=2))
    np.testing.assert_array_equal(xhat, kept)


def in_threads(work: Any, count: int) -> None:
    """``work(k)`` for k in ``range(count)``, each in a thread of its own, to the end."""
    threads = [threading.Thread(target=work, args=(k,)) for k in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_threads_sharing_a_graph_stay_independent() -> None:
    g = bg.library.get("batchnorm")
    cases = [batchnorm_inputs(n=32, d=6, seed=k) for k in range(6)]
    expected = [interpreted(g, c).backward(np.ones((32, 6)))["x"] for c in cases]
    failures: list[str] = []
    barrier = threading.Barrier(len(cases))

    def work(k: int) -> None:
        barrier.wait()
        for _ in range(40):
            run = g.forward(cases[k])
            if not run.stats.compiled:
                failures.append("not compiled")
            got = run.backward(np.ones((32, 6)))["x"]
            if not np.array_equal(got, expected[k]):
                failures.append(f"thread {k} got another run's gradient")

    in_threads(work, len(cases))
    assert not failures, failures[:3]


def test_keep_values_runs_keep_every_value_and_contributions() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(batchnorm_inputs(), keep_values=True)
    assert not run.stats.compiled and run.released() == ()
    run.backward()
    assert len(run.contributions("x")) == 2
    np.testing.assert_array_equal(run.value("mu"), batchnorm_inputs()["x"].mean(axis=0))


def test_backward_twice_with_different_seeds() -> None:
    g = bg.library.get("batchnorm")
    inputs = batchnorm_inputs()
    run, reference = g.forward(inputs), interpreted(g, inputs)
    for seed in (np.ones((16, 5)), np.arange(80.0).reshape(16, 5), 2.0):
        got, want = run.backward(seed), reference.backward(seed)
        for name in want:
            assert_same(got[name], want[name], name)
    # a gradient handed out by the first call is not overwritten by the second
    first = run.backward(np.ones((16, 5)))["x"]
    kept = first.copy()
    run.backward(np.arange(80.0).reshape(16, 5))
    np.testing.assert_array_equal(first, kept)


def test_reading_a_compiled_run_like_an_interpreted_one() -> None:
    g = bg.library.get("batchnorm")
    inputs = batchnorm_inputs()
    run, reference = g.forward(inputs), interpreted(g, inputs)
    assert run.released() == reference.released() == ("mu", "sq", "var", "add_1", "gammax")
    with pytest.raises(RunStateError, match="'mu' was released"):
        run.value("mu")
    assert_same(run.value("xhat"), reference.value("xhat"), "xhat")
    with pytest.raises(RunStateError, match="call run.backward"):
        run.grad("xmu")
    seed = np.arange(80.0).reshape(16, 5)
    run.backward(seed)
    reference.backward(seed)
    for name in ("xmu", "ivar", "x"):
        assert_same(run.grad(name), reference.grad(name), name)
    assert run.step("mu") == reference.step("mu") and run.step("out") == (10, 1)
    assert run.shape("var") == (5,) and run.dims == {"N": 16, "D": 5}


def test_stats_report_the_compiled_plan() -> None:
    g = bg.library.get("batchnorm")
    inputs = batchnorm_inputs(n=64, d=8)
    run = g.forward(inputs)
    run.backward()
    stats = run.stats
    array = 64 * 8 * 8
    assert stats.compiled and stats.forward_seconds > 0 and stats.backward_seconds is not None
    # it holds the inputs, its arena (xmu, xhat and the buffers of smaller values) and
    # the output; at most a few more arrays once the backward pass has run
    assert stats.retained_bytes >= array * 4
    assert stats.retained_bytes <= stats.peak_bytes <= array * 9


def test_an_op_the_compiler_does_not_know_is_called_as_it_is() -> None:
    calls: list[Any] = []

    def softsign(x: Any) -> Any:
        calls.append(type(x))
        return x / (1 + np.abs(x))

    op = bg.define_op("test_compile_softsign", softsign,
                      [lambda g, out, x: g / (1 + np.abs(x)) ** 2], saves=[0], replace=True)
    g = bg.Graph("soft")
    x = g.input("x")
    g.output((op(x * 2.0, name="s") + 1.0).named("y"))
    inputs = {"x": np.linspace(-2, 2, 7)}
    run = assert_runs_agree(g, inputs)
    assert run.stats.compiled and calls


def test_an_op_declared_with_out_writes_into_a_buffer() -> None:
    buffers: list[Any] = []

    def cube(x: Any, *, out: Any = None) -> Any:
        buffers.append(out)
        return np.multiply(np.multiply(x, x), x, out=out)

    op = bg.define_op("test_compile_cube", cube, [lambda g, out, x: g * 3 * x * x],
                      saves=[0], replace=True, out=True)
    assert op.writes_out and op.params == ()
    g = bg.Graph("cube")
    x = g.input("x")
    g.output(op(op(x + 0.5, name="c") * 2.0, name="y"))
    inputs = {"x": np.linspace(-1, 1, 6)}
    for _ in range(2):
        assert_runs_agree(g, inputs)
    # the inner node writes into an arena buffer, the output is allocated afresh
    assert any(isinstance(b, np.ndarray) for b in buffers) and any(b is None for b in buffers)
    with pytest.raises(bg.errors.ParamError, match="takes no out= parameter"):
        bg.define_op("test_compile_no_out", lambda x: x, [lambda g, out, x: g], out=True)


def test_an_op_returning_what_the_plan_did_not_foresee_falls_back_to_the_interpreter() -> None:
    wide = {"on": False}

    def shifty(x: Any) -> Any:
        return x.astype(np.float32) if wide["on"] else x + 0

    op = bg.define_op("test_compile_shifty", shifty, [lambda g, out, x: g], replace=True)
    g = bg.Graph("shifty")
    x = g.input("x")
    g.output((op(x, name="s") * 2.0).named("y"))
    inputs = {"x": np.arange(4.0)}
    assert g.forward(inputs).stats.compiled
    wide["on"] = True
    run = g.forward(inputs)  # float32 where float64 was assumed: the interpreter runs it
    assert not run.stats.compiled and run.outputs["y"].dtype == np.float32
    assert_same(run.backward()["x"], interpreted(g, inputs).backward()["x"], "x")


def test_errors_on_the_compiled_path_name_node_op_and_stage() -> None:
    g = bg.Graph("g")
    a = g.input("a")
    with g.stage("1 invert"):
        g.output((1 / a).named("inv"))
    assert g.forward(a=2.0).stats.compiled
    with pytest.raises(OpError, match=r"node 'inv' \(op div, stage '1 invert'\).*ZeroDivision"):
        g.forward(a=0.0)


def test_python_floats_stay_on_the_compiled_path() -> None:
    g = bg.Graph("chain")
    node = start = g.input("x")
    for k in range(30):
        node = bg.tanh(node * 0.9 + 0.1) if k % 2 else node * node + 0.25
    g.output(node.named("y"))
    run = assert_runs_agree(g, {"x": 0.3})
    assert type(run.outputs["y"]) is float and start.name == "x"
    assert run.backward()["x"].shape == ()


def assert_close(a: Any, b: Any, what: str) -> None:
    """A few ulps of the largest magnitude involved: a fused sum adds its tiles' partial
    sums, in another order than one sum over the whole axis."""
    assert type(a) is type(b) and np.shape(a) == np.shape(b), (what, a, b)
    assert np.asarray(a).dtype == np.asarray(b).dtype, (what, a, b)
    assert np.array_equal(np.isnan(a), np.isnan(b)), (what, a, b)
    finite = np.isfinite(b)
    scale = float(np.max(np.abs(np.asarray(b)[finite]), initial=1.0))
    eps = float(np.finfo(np.asarray(b).dtype).eps)
    np.testing.assert_allclose(a, b, rtol=0, atol=64 * eps * scale, err_msg=what)


@pytest.fixture
def fused_everywhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fuse arrays of any size, in tiles of a few rows (several tiles, a short last one)."""
    from bngraph.compile import fusion

    monkeypatch.setattr(fusion, "MIN_BYTES", 0)
    monkeypatch.setattr(fusion, "TILE_BYTES", 100)


@pytest.mark.parametrize(("shape", "axes"), [
    ((37, 5), (0,)), ((37, 3, 4), (0, 1)), ((37, 3, 4), (0,)), ((37, 4, 3, 2), (0, 2)),
    ((37, 6, 1), (0,)), ((37, 3, 4), (0, -1)), ((37, 5), None),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("keepdims", [False, True])
def test_a_fused_sum_over_the_tiled_axis_adds_as_numpy_does(
        shape: tuple[int, ...], axes: tuple[int, ...] | None, dtype: type, keepdims: bool,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Tiles of 4 rows (and a short last one): bit for bit where numpy adds row after
    row (the last axis longer than 1 kept), a few ulps where it sums that axis pairwise."""
    from bngraph.compile import fusion

    row = int(np.prod(shape[1:])) * np.dtype(dtype).itemsize
    monkeypatch.setattr(fusion, "TILE_BYTES", 4 * row)
    rng = np.random.default_rng(7)
    # magnitudes from 1e-4 to 1e4: adding in another order rounds differently
    a = (rng.standard_normal(shape) * 10.0 ** rng.integers(-4, 5, shape)).astype(dtype)
    b = rng.standard_normal(shape[1:]).astype(dtype)
    summed = tuple(range(len(shape))) if axes is None else axes
    normal = {k % len(shape) for k in summed}
    result = tuple(1 if k in normal else n for k, n in enumerate(shape) if keepdims
                   or k not in normal)
    kernel = fusion.Kernel([(np.multiply, (0, 1), 2)], [True, False], 1, shape,
                           np.dtype(dtype), result, summed, keepdims)
    for x in (a, -0.0 * np.abs(a)):  # and a sum of negative zeros keeps its sign
        want = np.asarray(np.add.reduce(np.multiply(x, b), axis=summed, keepdims=keepdims))
        got = kernel(x, b, np.empty(result, dtype))
        wide = [k for k, n in enumerate(shape) if n > 1]
        if wide[-1] in normal:
            assert_close(got, want, "a sum along the last axis too")
        else:
            assert kernel.carried
            assert_same(got, want, "a sum carried from tile to tile")


@pytest.mark.parametrize("name", bg.library.names())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_kernels_agree_with_the_interpreter(name: str, dtype: type,
                                                 fused_everywhere: None) -> None:
    graph = bg.Graph.from_ir(bg.library.get(name).ir)  # a plan of its own: made fused
    inputs = in_dtype(bg.library.example(name), dtype)
    graph.forward(inputs)
    run, reference = graph.forward(inputs), interpreted(graph, inputs)
    assert run.stats.compiled
    for out, value in reference.outputs.items():
        assert_same(run.outputs[out], value, out)
    got, want = run.backward(), reference.backward()
    for name_, value in want.items():
        assert_same(got[name_], value, name_)
    programs = [run._compiled.lowered.program,
                *(b.lowered.program for b in run._compiled._backward.values() if b)]
    kernels = sum(type(i.fn).__name__ == "Kernel" for p in programs for i in p.instrs)
    # a foreign op giving another layout than C (conv2d) leaves what follows to numpy
    assert kernels or name in ("softmax_cross_entropy", "mlp", "attention", "conv_bn_relu")


def test_a_fused_batchnorm_needs_no_full_temporary(fused_everywhere: None) -> None:
    """Forward and backward hold x-mu, xhat, the output and the gradient of x, and no
    other array of x's size (their peak, ``run.stats``, counts the arena)."""
    g = bg.Graph.from_ir(bg.library.get("batchnorm").ir)
    n, d = 64, 8
    run = g.forward(batchnorm_inputs(n=n, d=d))
    run.backward(np.ones((n, d)))
    array = n * d * 8
    inputs = array + 2 * d * 8
    assert run.stats.peak_bytes - inputs < 4 * array + 16 * d * 8


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(graph_and_inputs())
def test_random_graphs_fused_agree_with_the_interpreter(case: Any) -> None:
    from bngraph.compile import fusion

    graph, inputs = case
    with quietly_patched() as patch:
        patch.setattr(fusion, "MIN_BYTES", 0)
        patch.setattr(fusion, "TILE_BYTES", 8)
        want = outcome(lambda: interpreted(graph, inputs))
        got = outcome(lambda: graph.forward(inputs))
        assert got[0] == want[0], (got, want)
        if want[0] == "error":
            return
        for name, value in want[1].outputs.items():
            assert_close(got[1].outputs[name], value, f"output {name}")
        want, got = outcome(want[1].backward), outcome(got[1].backward)
        assert got[0] == want[0], (got, want)
        if want[0] == "ok":
            for name, value in want[1].items():
                assert_close(got[1][name], value, f"gradient of {name}")


@pytest.mark.parametrize("size", [6, 20_000])  # a BLAS dot product, then numpy's sum
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_quick_finiteness_check_misses_nothing_and_trusts_overflow_to_the_exact_one(
        size: int, dtype: type) -> None:
    from bngraph.errors import NonFiniteWarning

    g = bg.parse("input x[N]\ny = x * 2.0\noutput y")
    huge = np.full(size, np.finfo(dtype).max / 4, dtype)  # finite; its sums overflow
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = g.forward(x=huge)
        assert run.stats.compiled and np.isfinite(run.outputs["y"]).all()
        run.backward()
        g.forward(x=huge, keep_values=True).backward()  # and the interpreter's check
    for bad in (np.nan, np.inf, -np.inf):
        values = np.ones(size, dtype)
        values[size // 2] = bad
        with np.errstate(all="ignore"), pytest.warns(NonFiniteWarning, match="the output y"):
            g.forward(x=values)


@pytest.mark.parametrize("where", ["forward", "backward"])
def test_a_non_finite_result_warns_once_from_numpy_and_once_naming_the_node(where: str) -> None:
    """The interpreter's replay (to name the node) does not repeat numpy's warnings."""
    from bngraph.errors import NonFiniteWarning

    g = bg.parse("input x[N]\ny = log(x)\noutput y" if where == "forward"
                 else "input x[N]\ny = sqrt(x)\noutput y")
    x = np.array([1.0, -1.0, 2.0]) if where == "forward" else np.array([1.0, 0.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = g.forward(x=x)
        assert type(run).__name__ == "CompiledRun"
        run.backward()
    kinds = [w.category for w in caught]
    assert kinds.count(NonFiniteWarning) == 1, kinds
    assert kinds.count(RuntimeWarning) == 1, [str(w.message) for w in caught]
