"""Runs on another array library than numpy, checked with array_api_strict: a small,
strict implementation of the Python Array API standard, so that anything the engine or
an op does outside the standard fails here. The rules of numpy runs hold: dtypes, weak
numbers, the broadcast rule, outputs that editing cannot corrupt, gradients that never
alias the caller's arrays."""

from __future__ import annotations

import warnings

import array_api_strict as xs
import numpy as np
import pytest
from backend_cases import NUMPY_ONLY, RUNS_ANYWHERE, assert_same, convert, numpy_run

import bngraph as bg
from bngraph.errors import InputError, NonFiniteError, NonFiniteWarning, OpError
from bngraph.ops.arrays import NamespaceError

rng = np.random.default_rng(20261201)


StrictArray = type(xs.asarray(0.0))


def strict(array: np.ndarray) -> StrictArray:
    return xs.asarray(array)


@pytest.mark.parametrize("name", RUNS_ANYWHERE)
def test_library_graphs_give_numpy_s_numbers(name: str) -> None:
    inputs = bg.library.example(name)
    outputs, grads = numpy_run(name, inputs)
    run = bg.library.get(name).forward(convert(inputs, strict))
    got = run.backward(**run.outputs)
    assert all(isinstance(a, StrictArray) for a in (*run.outputs.values(), *got.values()))
    # the same float64 operations in the same order as numpy's: equal to the last bit
    assert_same(dict(run.outputs), outputs, rtol=0)
    assert_same(got, grads, rtol=0)


@pytest.mark.parametrize("name", sorted(NUMPY_ONLY))
def test_an_op_that_runs_on_numpy_only_is_named_before_anything_runs(name: str) -> None:
    calls = []
    spy = bg.define_op("spy_calls", lambda x: calls.append(1) or x, [lambda g, out, x: g],
                       replace=True)
    graph = bg.library.get(name)
    inputs = convert(bg.library.example(name), strict)
    with pytest.raises(NamespaceError) as error:
        graph.forward(inputs)
    op = NUMPY_ONLY[name]
    assert f"(op {op}, stage" in str(error.value)
    assert f"does not run on array_api_strict arrays: op {op} runs on numpy only" in str(
        error.value)
    g = bg.Graph("spied")
    x = g.input("x", shape=("N", "C", "H", "W"))
    g.output(bg.conv2d(spy(x), g.input("w"), name="y"))
    with pytest.raises(NamespaceError, match="node 'y' .op conv2d.*runs on numpy only"):
        g.forward(x=strict(np.ones((1, 1, 3, 3))), w=strict(np.ones((1, 1, 2, 2))))
    assert not calls  # refused before the first node ran


def test_two_libraries_in_one_run_are_refused() -> None:
    import dask.array as da

    g = bg.library.get("batchnorm")
    with pytest.raises(NamespaceError, match="'x' is an array_api_strict array and 'gamma' is "
                       "a dask array"):
        g.forward(x=strict(np.ones((3, 2))), gamma=da.ones(2), beta=0.0)
    with pytest.raises(NamespaceError, match="input 'gamma' is a numpy array but 'x' is an "
                       "array_api_strict array"):
        g.forward(x=strict(np.ones((3, 2))), gamma=np.ones(2), beta=0.0)
    with pytest.raises(NamespaceError, match=r"numpy float64 scalar \(float\(...\) makes it"):
        g.forward(x=strict(np.ones((3, 2))), gamma=np.float64(2.0), beta=0.0)


def test_the_dtype_table_holds() -> None:
    g = bg.parse("input x[N]\ninput labels[N] const\ninput eps = 1e-5\n"
                 "y = x * 2 + eps\nz = expand_dims(labels, axis=0)\noutput y, z")
    run = g.forward(x=xs.asarray([1, 2, 3]), labels=xs.asarray([0, 1, 2]))
    assert run.outputs["y"].dtype == xs.float64  # integer inputs become float64
    assert run.outputs["z"].dtype == xs.int64  # a constant's integers stay integers
    run32 = g.forward(x=xs.asarray([1.0, 2.0], dtype=xs.float32), labels=xs.asarray([0, 1]))
    assert run32.outputs["y"].dtype == xs.float32  # the weak eps does not widen it
    assert run32.backward()["x"].dtype == xs.float32
    with pytest.raises(InputError, match="complex128 values: bngraph computes real gradients"):
        g.forward(x=xs.asarray([1j]), labels=xs.asarray([0]))


def test_a_value_that_broadcasts_to_its_declared_shape_gets_a_gradient_of_its_shape() -> None:
    g = bg.library.get("batchnorm")
    x = rng.standard_normal((5, 3))
    expected = g.forward(x=x, gamma=np.full((1,), 2.0), beta=1.0).backward()
    run = g.forward(x=strict(x), gamma=xs.asarray([2.0]), beta=1.0)
    grads = run.backward()
    assert tuple(grads["gamma"].shape) == (1,) and tuple(grads["beta"].shape) == ()
    assert_same(grads, expected, rtol=0)


def test_editing_an_output_in_place_cannot_change_the_backward_pass() -> None:
    g = bg.parse("input x[N]\ny = sqrt(x)\noutput y")  # sqrt's rule reads its output
    x = np.array([1.0, 4.0])
    run = g.forward(x=strict(x))
    run.outputs["y"][...] = 100.0
    np.testing.assert_array_equal(np.asarray(run.backward()["x"]), 0.5 / np.sqrt(x))
    value = run.value("y")
    value[0] = -1.0
    assert float(run.value("y")[0]) == 1.0


def test_a_gradient_never_aliases_an_array_the_caller_passed() -> None:
    g = bg.parse("input x[N, D]\ny = reshape(x, shape=(-1,))\noutput y")
    seed = strict(np.arange(6.0))
    run = g.forward(x=strict(np.ones((2, 3))))
    grads = run.backward(seed)
    grads["x"][...] = -1.0  # the gradient is the seed reshaped: it must be a copy
    np.testing.assert_array_equal(np.asarray(seed), np.arange(6.0))


def test_check_finite_names_the_node_and_the_index() -> None:
    g = bg.parse("input x[N]\ny = log(x)\nz = y * 2\noutput z")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(NonFiniteError, match=r"node 'y' \(op log\) produced a non-finite "
                           r"forward value: nan at index \(1,\)"):
            g.forward(x=strict(np.array([1.0, -1.0])), check_finite=True)


def test_a_nan_output_warns_naming_the_node_that_made_it() -> None:
    g = bg.parse("input x[N]\ny = log(x)\nz = y * 2\noutput z")
    warnings.simplefilter("ignore", RuntimeWarning)  # numpy's own, under array_api_strict
    with pytest.warns(NonFiniteWarning, match="the output z holds NaN.*node 'y' .op log."):
        g.forward(x=strict(np.array([1.0, -1.0])))


def test_user_ops_receive_the_run_s_arrays_and_must_return_them() -> None:
    seen = []

    def double(x):
        seen.append(type(x))
        return x * 2

    twice = bg.define_op("strict_twice", double, [lambda g, out, x: g * 2], replace=True)
    g = bg.Graph("twice")
    g.output(twice(g.input("x"), name="y"))
    run = g.forward(x=strict(np.ones(2)))
    assert seen == [StrictArray] and isinstance(run.outputs["y"], StrictArray)
    to_numpy = bg.define_op("strict_to_numpy", lambda x: np.ones(2), [lambda g, out, x: g],
                            replace=True)
    h = bg.Graph("numpy inside")
    h.output(to_numpy(h.input("x"), name="y"))
    with pytest.raises(OpError, match="node 'y' .op strict_to_numpy.: forward returned a "
                       "numpy.ndarray on a run of array_api_strict arrays"):
        h.forward(x=strict(np.ones(2)))


def test_an_op_declared_for_numpy_is_refused_elsewhere() -> None:
    only = bg.define_op("numpy_only_sum", lambda x: np.sum(x), [lambda g, out, x: g],
                        namespaces=["numpy"], replace=True)
    g = bg.Graph("only")
    g.output(only(g.input("x"), name="s"))
    assert float(g.forward(x=np.ones(3)).outputs["s"]) == 3.0
    with pytest.raises(NamespaceError, match="node 's' .op numpy_only_sum. does not run on "
                       "array_api_strict arrays"):
        g.forward(x=strict(np.ones(3)))


def test_weak_numbers_alone_stay_weak_and_take_the_run_s_dtype_as_arrays() -> None:
    g = bg.parse("input x[N]\ninput a = 2\nb = a * 3\nc = broadcast_like(b, x)\n"
                 "y = x * b + c\noutput y, c")
    run = g.forward(x=xs.asarray([1.0, 2.0], dtype=xs.float32))
    assert run.outputs["c"].dtype == xs.float32
    np.testing.assert_array_equal(np.asarray(run.outputs["y"]), [12.0, 18.0])
    grads = run.backward()
    # seeded with ones: y = 3a·x + 3a and c = 3a, so d/da = 3·Σx + 3·2 + 3·2 = 21
    assert float(grads["a"]) == 21.0 and tuple(grads["a"].shape) == ()


@pytest.mark.parametrize("op", ["sigmoid", "softplus", "tanh", "sin", "cos", "exp2", "abs",
                                "relu", "log1p", "expm1"])
def test_every_elementwise_op_matches_numpy(op: str) -> None:
    g = bg.parse(f"input x[N]\ny = {op}(x)\noutput y")
    x = rng.uniform(-0.9, 2, 7)  # inside every op's domain (log1p's: x > -1)
    expected = g.forward(x=x)
    run = g.forward(x=strict(x))
    np.testing.assert_allclose(np.asarray(run.outputs["y"]), expected.outputs["y"], rtol=1e-15)
    np.testing.assert_allclose(np.asarray(run.backward()["x"]), expected.backward()["x"],
                               rtol=1e-15)


@pytest.mark.parametrize("line", [
    "y = sum(x * x, axis=1)", "y = prod(x, axis=0)", "y = max(x, axis=1, keepdims=True)",
    "y = min(x)", "y = var(x, axis=0, correction=1)", "y = std(x, axis=1)",
    "y = logsumexp(x, axis=1)", "y = softmax(x, axis=0)", "y = log_softmax(x)",
    "y = transpose(x)", "y = transpose(x, axes=(1, 0)) @ x", "y = pad(x, pad_width=1, value=2)",
    "y = flip(x, axis=0)", "y = expand_dims(x, axis=(0, 2))", "y = squeeze(x[0:1, :])",
    "y = x[1:, ::2]", "y = concat([x, x * 2], axis=1)", "y = stack([x, x], axis=1)",
    "y = clip(x, -0.5, 0.5)", "y = where(greater(x, 0), x, x * 3)", "y = maximum(x, 0.1)",
    "y = gelu(x, approximate=\"tanh\")", "y = split_axis(x, axis=1, parts=2)",
    "y = reshape_like(x, transpose(x))", "y = broadcast_to(sum(x, axis=0), shape=(2, 3, 4))",
])
def test_every_op_of_the_standard_matches_numpy(line: str) -> None:
    g = bg.parse(f"input x[N, D]\n{line}\noutput y")
    x = rng.uniform(-2, 2, (3, 4))
    expected = g.forward(x=x)
    run = g.forward(x=strict(x))
    np.testing.assert_allclose(np.asarray(run.outputs["y"]), expected.outputs["y"], rtol=1e-14)
    seed = rng.standard_normal(np.shape(expected.outputs["y"]))
    np.testing.assert_allclose(np.asarray(run.backward(strict(seed))["x"]),
                               expected.backward(seed)["x"], rtol=1e-13, atol=1e-15)


def test_erf_names_the_libraries_it_runs_on() -> None:
    g = bg.parse("input x[N]\ny = erf(x)\noutput y")
    with pytest.raises(OpError, match="erf has no implementation for array_api_strict arrays.*"
                       "it runs on numpy, dask, torch, cupy, jax"):
        g.forward(x=strict(np.ones(2)))


def test_a_number_an_op_returns_from_arrays_becomes_a_0d_array_as_on_numpy() -> None:
    total = bg.define_op("strict_total", lambda x: float(np.sum(np.asarray(x))),
                         [lambda g, out, x: g * (x * 0 + 1)], replace=True)
    g = bg.Graph("total")
    g.output(total(g.input("x"), name="s"))
    on_numpy = g.forward(x=np.ones(3)).outputs["s"]
    run = g.forward(x=strict(np.ones(3)))
    assert isinstance(run.outputs["s"], StrictArray) and run.outputs["s"].dtype == xs.float64
    assert float(run.outputs["s"]) == float(on_numpy) == 3.0
    np.testing.assert_array_equal(np.asarray(run.backward()["x"]), np.ones(3))
