"""Runs: forward and backward, fan-out, seeds, dtypes, release of values, errors, threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import (
    InputError,
    MissingInputError,
    NonFiniteError,
    OpError,
    RunStateError,
    ShapeError,
    UnknownInputError,
)


def one_output(name: str, build) -> bg.Graph:  # noqa: ANN001 - a small builder callback
    g = bg.Graph(name)
    g.output(build(g).named("y"))
    return g


def test_x_times_x_has_gradient_2x() -> None:
    g = one_output("sq", lambda g: (x := g.input("x")) * x)
    x = np.array([1.0, -2.0, 3.0])
    assert g.forward(x=x).backward()["x"].tolist() == (2 * x).tolist()


def test_a_plus_a_has_gradient_2() -> None:
    g = one_output("double", lambda g: (a := g.input("a")) + a)
    assert g.forward(a=np.ones(3)).backward()["a"].tolist() == [2.0, 2.0, 2.0]


def test_three_consumers_sum_their_gradients() -> None:
    def build(g: bg.Graph) -> bg.Node:
        a = g.input("a")
        return bg.exp(a) + a * 3 + bg.square(a)

    g = one_output("three", build)
    a = np.array([0.5, -1.0])
    run = g.forward(a=a, keep_values=True)
    grads = run.backward()
    np.testing.assert_allclose(grads["a"], np.exp(a) + 3 + 2 * a, rtol=1e-15)
    contributions = run.contributions("a")
    assert [c[0] for c in contributions] == ["exp_1", "mul_1", "square_1"]
    np.testing.assert_allclose(sum(c[2] for c in contributions), grads["a"], rtol=1e-15)


def test_an_input_no_output_uses_gets_zeros_of_its_shape() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    g.input("unused")
    g.output((x * 2).named("y"))
    grads = g.forward(x=np.ones(2), unused=np.ones((3, 2), np.float32)).backward()
    assert grads["unused"].shape == (3, 2) and not grads["unused"].any()


def test_integer_inputs_become_float64_and_float32_stays_float32() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(x=np.arange(20).reshape(5, 4), gamma=2, beta=1, eps=0.1)
    assert run.outputs["out"].dtype == np.float64
    x32 = np.arange(20, dtype=np.float32).reshape(5, 4)
    run = g.forward(x=x32, gamma=np.full(4, 2, np.float32), beta=np.ones(4, np.float32))
    assert run.outputs["out"].dtype == np.float32  # eps=1e-5 (a Python number) is weak
    grads = run.backward()
    assert {name: grads[name].dtype for name in ("x", "gamma", "beta")} == dict.fromkeys(
        ("x", "gamma", "beta"), np.dtype(np.float32))


def test_a_value_that_broadcasts_to_the_declared_shape_gets_a_gradient_of_its_own_shape() -> None:
    g = bg.library.get("batchnorm")
    x = np.random.default_rng(0).standard_normal((6, 3))
    grads = g.forward(x=x, gamma=2.0, beta=np.ones(1)).backward()
    assert grads["gamma"].shape == () and grads["beta"].shape == (1,)
    assert grads["beta"].tolist() == [18.0]


def test_symbolic_dimensions_must_agree() -> None:
    g = bg.library.get("batchnorm")
    with pytest.raises(ShapeError) as info:
        g.forward(x=np.ones((5, 4)), gamma=np.ones(3), beta=1.0)
    message = str(info.value)
    assert "input 'gamma' has shape (3,)" in message
    assert "D = 4 (from input 'x' of shape (5, 4))" in message


def test_more_dimensions_than_declared_is_a_shape_error() -> None:
    g = bg.library.get("batchnorm")
    with pytest.raises(ShapeError, match=r"shape \(2, 5, 4\), which has more dimensions"):
        g.forward(x=np.ones((2, 5, 4)), gamma=1.0, beta=1.0)


def test_a_shape_error_inside_an_op_names_node_op_stage_and_both_shapes() -> None:
    g = bg.Graph("g")
    a, b = g.input("a"), g.input("b")
    with g.stage("1 add"):
        g.output((a + b).named("s"))
    with pytest.raises(ShapeError) as info:
        g.forward(a=np.ones((5, 4)), b=np.ones(3))
    assert str(info.value) == (
        "node 's' (op add, stage '1 add'): shapes (5, 4) and (3,) do not broadcast"
    )


def test_a_failing_op_names_node_and_op() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    g.output(bg.mean(x, axis=2, name="m"))
    with pytest.raises(ShapeError, match="node 'm' \\(op mean\\): axis 2 is out of range"):
        g.forward(x=np.ones((2, 2)))


def test_missing_inputs_are_listed_with_what_the_graph_expects() -> None:
    g = bg.library.get("batchnorm")
    with pytest.raises(MissingInputError) as info:
        g.forward(x=np.ones((2, 2)))
    assert str(info.value) == (
        "graph 'batchnorm': missing input(s) 'gamma', 'beta'; "
        "it expects x[N, D], gamma[D], beta[D], eps = 1e-05"
    )


def test_an_unknown_keyword_lists_the_valid_inputs() -> None:
    g = bg.library.get("batchnorm")
    with pytest.raises(UnknownInputError) as info:
        g.forward(x=np.ones((2, 2)), gama=1.0, beta=1.0)
    assert "no input 'gama' (did you mean 'gamma'?)" in str(info.value)
    assert "valid inputs: x, gamma, beta, eps" in str(info.value)


def test_inputs_must_be_numbers() -> None:
    g = one_output("neg", lambda g: -g.input("x"))
    with pytest.raises(InputError, match="must hold numbers"):
        g.forward(x=np.array(["a", "b"]))


def test_inputs_may_be_given_as_a_mapping_for_names_that_clash_with_options() -> None:
    g = one_output("k", lambda g: g.input("keep_values") * 2)
    assert g.forward({"keep_values": np.ones(1)}).outputs["y"].tolist() == [2.0]


def test_seeds_by_position_and_by_name() -> None:
    g = bg.Graph("two")
    x = g.input("x")
    g.output((x * 2).named("a"), (x * x).named("b"))
    run = g.forward(x=np.array([3.0]))
    assert run.backward()["x"].tolist() == [2.0 + 6.0]
    assert run.backward(b=np.array([1.0]))["x"].tolist() == [6.0]  # 'a' contributes nothing
    assert run.backward({"a": np.array([10.0])})["x"].tolist() == [20.0]
    with pytest.raises(InputError, match="needs exactly one output.*a, b"):
        run.backward(np.ones(1))
    with pytest.raises(UnknownInputError, match="no output 'c'"):
        run.backward(c=np.ones(1))


def test_a_seed_that_does_not_fit_the_output_is_a_shape_error() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(**bg.library.example("batchnorm"))
    with pytest.raises(ShapeError, match=r"seed for output 'out' has shape \(3,\).*\(5, 4\)"):
        run.backward(np.ones(3))


def test_a_returned_gradient_never_aliases_a_caller_array() -> None:
    g = bg.Graph("id")
    a, b = g.input("a"), g.input("b")
    g.output((a + b).named("y"))
    seed = np.ones(3)
    grads = g.forward(a=np.zeros(3), b=np.zeros(3)).backward(seed)
    assert not np.shares_memory(grads["a"], seed)
    assert not np.shares_memory(grads["a"], grads["b"])
    grads["a"][0] = 5.0
    assert seed[0] == 1.0 and grads["b"][0] == 1.0


def test_values_no_rule_needs_are_released_unless_kept() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(**bg.library.example("batchnorm"))
    assert run.released() == ("mu", "sq", "var", "add_1", "gammax")
    with pytest.raises(RunStateError, match="'mu' was released.*keep_values=True"):
        run.value("mu")
    assert run.shape("mu") == (4,)
    kept = g.forward(**bg.library.example("batchnorm"), keep_values=True)
    assert kept.released() == ()
    np.testing.assert_array_equal(kept.value("mu"), [8.0, 9.0, 10.0, 11.0])
    # releasing changes nothing in the results
    np.testing.assert_array_equal(run.backward()["x"], kept.backward()["x"])


def test_stats_count_the_bytes_released() -> None:
    g = bg.library.get("batchnorm")
    example = bg.library.example("batchnorm")
    released, kept = g.forward(example).stats, g.forward(example, keep_values=True).stats
    assert released.peak_bytes <= kept.peak_bytes
    assert released.retained_bytes < kept.retained_bytes


def test_grad_of_any_node_and_schedule_steps() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(**bg.library.example("batchnorm"))
    with pytest.raises(RunStateError, match="call run.backward"):
        run.grad("xmu")
    run.backward(run.outputs["out"])
    assert run.grad("xmu").shape == (5, 4)
    assert run.step("x") == (0, None)
    assert run.step("mu") == (1, 10)
    assert run.step("out") == (10, 1)


def test_check_finite_names_the_first_node_that_produced_a_nan() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with g.stage("1 root"):
        r = bg.sqrt(x, name="r")
    with g.stage("2 log"):
        g.output(bg.log(r, name="l"))
    with np.errstate(invalid="ignore"), pytest.warns(bg.errors.NonFiniteWarning,
                                                      match="node 'r' .* produced"):
        g.forward(x=np.array([-1.0]))  # unchecked: a warning, no error
        with pytest.raises(NonFiniteError, match="node 'r' \\(op sqrt, stage '1 root'\\)"):
            g.forward(x=np.array([-1.0]), check_finite=True)


def test_check_finite_in_backward_names_the_rule() -> None:
    g = one_output("s", lambda g: bg.sqrt(g.input("x"), name="r") * 1)
    run = g.forward(x=np.array([0.0]))
    with np.errstate(divide="ignore"), pytest.raises(NonFiniteError, match="node 'r'.*gradient"):
        run.backward(check_finite=True)


def test_a_custom_op_is_an_op_like_any_other() -> None:
    cube = bg.define_op("test_cube", lambda x: x**3, [lambda g, out, x: g * 3 * x**2],
                        shape=lambda x: x, label="x³", saves=[0], replace=True)
    g = one_output("c", lambda g: cube(g.input("x")))
    assert g.forward(x=np.array([2.0])).backward()["x"].tolist() == [12.0]
    assert cube.display({}) == "x³"


def test_a_custom_rule_reading_a_released_value_is_reported() -> None:
    bad = bg.define_op("test_forgetful", lambda x: x * 2, [lambda g, out, x: g * x * 0 + 2 * g],
                       saves=[], replace=True)
    g = one_output("f", lambda g: bad(g.input("x") + 1, name="b") * 1)
    run = g.forward(x=np.ones(2))
    with pytest.raises(OpError, match="node 'b'.*does not declare in saves"):
        run.backward()


def test_a_custom_rule_returning_the_wrong_shape_is_reported() -> None:
    bad = bg.define_op("test_badshape", lambda x: x, [lambda g, out, x: np.ones(7)],
                       replace=True)
    g = one_output("f", lambda g: bad(g.input("x"), name="b"))
    with pytest.raises(ShapeError, match=r"node 'y' \(op test_badshape\).*shape \(7,\).*\(2,\)"):
        g.forward(x=np.ones(2)).backward()


def test_the_decorator_registers_an_op() -> None:
    @bg.op(vjps=[lambda g, out, x: g * out * (1 - out)], saves=["out"], replace=True)
    def test_sigmoid(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))

    g = one_output("s", lambda g: test_sigmoid(g.input("x")))
    x = np.array([0.0, 1.0])
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(g.forward(x=x).backward()["x"], s * (1 - s), rtol=1e-15)


def test_redefining_an_op_needs_replace() -> None:
    with pytest.raises(bg.errors.ParamError, match="already defined"):
        bg.define_op("mean", lambda x: x, [lambda g, out, x: g])


def test_a_chain_of_100000_nodes_runs_forward_and_backward() -> None:
    g = bg.Graph("chain")
    node = g.input("x")
    for _ in range(100_000):
        node = node + 1.0
    g.output(node)
    run = g.forward(x=np.array([0.0]))
    assert run.outputs[node.name].tolist() == [100_000.0]
    assert run.backward()["x"].tolist() == [1.0]


def test_threads_running_one_graph_get_independent_results() -> None:
    g = bg.library.get("batchnorm")
    rng = np.random.default_rng(1)
    cases = [rng.standard_normal((64, 8)) * (k + 1) + k for k in range(8)]
    expected = [g.forward(x=x, gamma=1.5, beta=0.5).backward()["x"] for x in cases]
    results: dict[int, list[np.ndarray]] = {k: [] for k in range(8)}
    barrier = threading.Barrier(8)

    def work(k: int) -> None:
        barrier.wait()
        for _ in range(50):
            results[k].append(g.forward(x=cases[k], gamma=1.5, beta=0.5).backward()["x"])

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for k in range(8):
        assert len(results[k]) == 50  # a thread that raised would leave its list short
        for got in results[k]:
            np.testing.assert_array_equal(got, expected[k])
