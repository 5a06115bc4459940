"""The text language: the nine-stage example and every construct of the language."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import bngraph as bg
from bngraph import reference
from bngraph.dsl import differences, same_graph
from bngraph.library import batchnorm

NINE_STAGES = '''\
# Batch normalization in the nine stages of its computational graph.
graph batchnorm

input x[N, D]
input gamma[D]
input beta[D]
input eps = 1e-5

stage "1 mean":
    mu = mean(x, axis=0)
stage "2 center":
    xmu = x - mu
stage "3 square":
    sq = xmu ** 2
stage "4 variance":
    var = mean(sq, axis=0)
stage "5 std":
    sqrtvar = sqrt(var + eps)
stage "6 invert":
    ivar = 1 / sqrtvar
stage "7 normalize":
    xhat = xmu * ivar
stage "8 scale":
    gammax = gamma * xhat
stage "9 shift":
    out = gammax + beta

output out
'''


def specs(graph: bg.Graph) -> list[tuple]:
    return [(s.name, s.op, s.operands, dict(s.params), s.stage) for s in graph.nodes]


def test_the_design_example_is_the_python_builder_graph_node_for_node() -> None:
    parsed = bg.parse(NINE_STAGES)
    built = batchnorm.build()
    assert specs(parsed) == specs(built)
    assert parsed.outputs == built.outputs == ("out",)
    assert parsed.name == "batchnorm"
    assert parsed.names[8] == "add_1"  # the automatic name of var + eps


def test_the_design_example_runs_to_the_closed_form() -> None:
    rng = np.random.default_rng(4)
    x, gamma, beta = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=3)
    dout = rng.normal(size=(6, 3))
    run = bg.parse(NINE_STAGES).forward(x=x, gamma=gamma, beta=beta)
    grads = run.backward(dout)
    out, cache = reference.batchnorm_forward(x, gamma, beta, 1e-5)
    expected = reference.batchnorm_backward(dout, cache)
    # the staged and closed forms round differently; 1e-10 is far above float64 rounding
    np.testing.assert_allclose(run.outputs["out"], out, rtol=1e-10, atol=1e-12)
    for name in ("x", "gamma", "beta"):
        np.testing.assert_allclose(grads[name], expected[name], rtol=1e-9, atol=1e-10)


def one(text: str) -> bg.NodeSpec:
    """The last node of a graph whose text ends with 'y = ...' and 'output y'."""
    graph = bg.parse(text)
    return graph.spec("y")


PRELUDE = "input x\ninput z\n"


@pytest.mark.parametrize(
    "expression, op, operands, params",
    [
        ("x + z", "add", ("x", "z"), {}),
        ("x - z", "sub", ("x", "z"), {}),
        ("x * z", "mul", ("x", "z"), {}),
        ("x / z", "div", ("x", "z"), {}),
        ("x @ z", "matmul", ("x", "z"), {}),
        ("x @ 2", "matmul", ("x", 2.0), {}),
        ("x ** 3", "pow", ("x",), {"exponent": 3}),
        ("x ** 2", "pow", ("x",), {"exponent": 2}),
        ("x ** 2.0", "pow", ("x",), {"exponent": 2.0}),
        ("x ** -0.5", "pow", ("x",), {"exponent": -0.5}),
        ("-x", "neg", ("x",), {}),
        ("x * -2", "mul", ("x", -2.0), {}),
        ("-2.5e-3 * x", "mul", (-0.0025, "x"), {}),
        ("1E3 - x", "sub", (1000.0, "x"), {}),
        ("x + - - 4", "add", ("x", 4.0), {}),
        ("(((x + z)))", "add", ("x", "z"), {}),
        ("+x * +3", "mul", ("x", 3.0), {}),
        ("mean(x)", "mean", ("x",), {}),
        ("mean(x, axis=0)", "mean", ("x",), {"axis": 0}),
        ("mean(x, axis=-1, keepdims=True)", "mean", ("x",), {"axis": -1, "keepdims": True}),
        ("sum(x, axis=(0, -2))", "sum", ("x",), {"axis": (0, -2)}),
        ("sum(x, axis=(1,))", "sum", ("x",), {"axis": (1,)}),
        ("sum(x, axis=None)", "sum", ("x",), {}),
        ("transpose(x, axes=(1, 0))", "transpose", ("x",), {"axes": (1, 0)}),
        ("reshape(x, shape=(-1,))", "reshape", ("x",), {"shape": (-1,)}),
        ("pow(x, exponent=0.5)", "pow", ("x",), {"exponent": 0.5}),
        ("add(x, 1)", "add", ("x", 1.0), {}),
        ("broadcast_like(x, z)", "broadcast_like", ("x", "z"), {}),
    ],
)
def test_each_expression_form_makes_the_node_python_would(
    expression: str, op: str, operands: tuple, params: dict
) -> None:
    spec = one(f"{PRELUDE}y = {expression}\noutput y")
    assert (spec.op, spec.operands, dict(spec.params)) == (op, operands, params)
    assert [type(o) for o in spec.operands] == [type(o) for o in operands]
    assert {k: type(v) for k, v in spec.params.items()} == {k: type(v) for k, v in params.items()}


def test_nested_expressions_get_the_builders_automatic_names_in_python_order() -> None:
    text = PRELUDE + "y = sqrt(exp(x) * (z + 1)) - mean(x, axis=0) / z\noutput y"
    g = bg.Graph("graph")
    x, z = g.input("x"), g.input("z")
    y = (bg.sqrt(bg.exp(x) * (z + 1)) - bg.mean(x, axis=0) / z).named("y")
    g.output(y)
    assert specs(bg.parse(text)) == specs(g)
    assert bg.parse(text).names == ("x", "z", "exp_1", "add_1", "mul_1", "sqrt_1",
                                    "mean_1", "div_1", "y")


def test_a_call_at_the_root_takes_the_name_like_name_equals() -> None:
    # bg.sqrt(x, name="r") consumes no automatic name, so a later sqrt is sqrt_1
    graph = bg.parse(PRELUDE + "r = sqrt(x)\ny = sqrt(x) + 1\noutput y")
    assert graph.names == ("x", "z", "r", "sqrt_1", "y")


def test_comments_blank_lines_and_trailing_spaces_are_ignored() -> None:
    text = "# head\n\n  # indented comment\ninput x   # the input\n\t\ny = -x # neg  \noutput y\n"
    assert specs(bg.parse(text)) == [("x", "input", (), {}, None), ("y", "neg", ("x",), {}, None)]


def test_windows_line_ends_are_accepted() -> None:
    assert bg.parse("input x\r\ny = -x\r\noutput y\r\n").names == ("x", "y")


@pytest.mark.parametrize(
    "declaration, params",
    [
        ("input x", {}),
        ("input x[N, D]", {"shape": ("N", "D")}),
        ("input x[3, M, 0]", {"shape": (3, "M", 0)}),
        ("input x[N]", {"shape": ("N",)}),
        ("input x[]", {"shape": ()}),
        ("input x[ ] = 2", {"shape": (), "default": 2.0}),
        ("input x = 1e-5", {"default": 1e-5}),
        ("input x = -3", {"default": -3.0}),
        ("input x = None", {}),
        ("input x[D] = 0.5", {"shape": ("D",), "default": 0.5}),
    ],
)
def test_input_declarations(declaration: str, params: dict) -> None:
    graph = bg.parse(f"{declaration}\ny = -x\noutput y")
    assert dict(graph.spec("x").params) == params


def test_graph_name_forms() -> None:
    assert bg.parse("graph bn\ninput x\ny = -x\noutput y").name == "bn"
    assert bg.parse('graph "two words"\ninput x\ny = -x\noutput y').name == "two words"
    assert bg.parse("input x\ny = -x\noutput y").name == "graph"


def test_a_file_without_a_graph_line_is_named_after_the_file(tmp_path: Path) -> None:
    path = tmp_path / "scaled.bng"
    path.write_text("input x\ny = 2 * x\noutput y\n")
    assert bg.load(path).name == "scaled"


def test_stage_blocks_inline_stages_and_repeated_labels() -> None:
    text = """\
input x
stage "1 a": y1 = -x
stage "2 b":
  y2 = y1 * 2  # comment
  y3 = y2 + y1
stage "1 a":
  input w
  y = y3 * w
output y
"""
    graph = bg.parse(text)
    assert [(s.name, s.stage) for s in graph.nodes] == [
        ("x", None), ("y1", "1 a"), ("y2", "2 b"), ("y3", "2 b"), ("w", "1 a"), ("y", "1 a"),
    ]
    assert graph.stages == ("1 a", "2 b")


def test_stage_labels_read_quotes_escapes_and_hashes() -> None:
    text = 'input x\nstage \'it\\\'s "5" # std\\n\': y = -x\noutput y'
    assert bg.parse(text).spec("y").stage == 'it\'s "5" # std\n'


def test_tab_indented_blocks() -> None:
    graph = bg.parse('input x\nstage "s":\n\ty = -x\n\tz = -y\noutput z')
    assert graph.spec("z").stage == "s"


def test_outputs_in_order_over_several_lines() -> None:
    graph = bg.parse("input x\na = -x\nb = exp(x)\nc = a + b\noutput c, a\noutput (b)")
    assert graph.outputs == ("c", "a", "b")


def test_keyword_like_names_that_are_not_keywords_are_names() -> None:
    graph = bg.parse("input inputs\nstaged = -inputs\ngraphs = staged * 2\noutput graphs")
    assert graph.names == ("inputs", "staged", "graphs")


def test_an_op_name_can_name_a_node_since_calls_and_names_are_apart() -> None:
    graph = bg.parse("input x\nmean = mean(x, axis=0)\ny = mean(mean)\noutput y")
    assert graph.spec("y").operands == ("mean",)


def test_user_defined_ops_are_callable_with_their_parameters() -> None:
    bg.define_op(
        "dsl_test_scale",
        lambda x, factor=1.0, shift=0: x * factor + shift,
        vjps=[lambda g, out, x, factor=1.0, shift=0: g * factor],
        replace=True,
    )
    graph = bg.parse("input x\ny = dsl_test_scale(x, factor=3.0, shift=1)\noutput y")
    assert dict(graph.spec("y").params) == {"factor": 3.0, "shift": 1}
    run = graph.forward(x=np.array([1.0, 2.0]))
    np.testing.assert_array_equal(run.outputs["y"], [4.0, 7.0])
    np.testing.assert_array_equal(run.backward()["x"], [3.0, 3.0])


def test_unicode_names_and_columns() -> None:
    graph = bg.parse("input é\nstage \"5 √\":\n    ÿ = é * 2\noutput ÿ")
    assert graph.spec("ÿ").stage == "5 √"


def test_parse_returns_an_open_graph_that_can_grow() -> None:
    graph = bg.parse("input x\ny = -x\noutput y")
    z = bg.exp(graph["y"], name="z")
    graph.output(z)
    assert graph.outputs == ("y", "z")


def test_parse_wants_text() -> None:
    with pytest.raises(TypeError, match="str"):
        bg.parse(b"input x")  # type: ignore[arg-type]


def test_same_graph_reports_what_differs() -> None:
    a = bg.parse("input x\ny = x * 2\noutput y")
    assert same_graph(a, bg.parse("input x\ny = 2.0 * x\noutput y")) is False
    assert differences(a, bg.parse("input x\ny = x * 2.0\noutput y")) == []
    assert differences(a, bg.parse("graph h\ninput x\ny = x * 2\nz = -y\noutput y, z")) == [
        "graph name 'graph' != 'h'",
        "node 'z' only in the second graph",
        "outputs ('y',) != ('y', 'z')",
    ]
    assert differences(a, bg.parse("input x\ny = x * -0.0\noutput y"))[0].startswith(
        "node 'y': operands"
    )


def test_a_byte_order_mark_is_ignored() -> None:
    assert bg.parse("\ufeffgraph g\ninput x\ny = -x\noutput y").name == "g"


def test_matmul_with_a_number_prints_as_a_call() -> None:
    g = bg.Graph("g")
    g.output(bg.matmul(2.0, g.input("x"), name="y"))
    assert "y = matmul(2, x)" in g.to_dsl()
    assert differences(g, bg.parse(g.to_dsl())) == []
