"""Canonical printing: the text of a graph, its normal form, and round trips."""

from __future__ import annotations

import pytest
from graph_strategies import graphs
from hypothesis import HealthCheck, given, settings

import bngraph as bg
from bngraph.dsl import DSLPrintError, differences, parse, to_dsl
from bngraph.dsl.printer import number_literal, quote

CANONICAL_BATCHNORM = """\
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
    add_1 = var + eps
    sqrtvar = sqrt(add_1)
stage "6 invert":
    ivar = 1 / sqrtvar
stage "7 normalize":
    xhat = xmu * ivar
stage "8 scale":
    gammax = gamma * xhat
stage "9 shift":
    out = gammax + beta

output out
"""


def test_the_canonical_text_of_batchnorm() -> None:
    assert bg.library.get("batchnorm").to_dsl() == CANONICAL_BATCHNORM


@pytest.mark.parametrize("name", bg.library.names())
def test_every_library_graph_prints_parses_and_prints_the_same(name: str) -> None:
    graph = bg.library.get(name)
    text = graph.to_dsl()
    again = parse(text)
    assert differences(graph, again) == []
    assert again.to_dsl() == text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_round_trip_through_the_text(graph: bg.Graph) -> None:
    text = to_dsl(graph)
    again = parse(text)
    assert differences(graph, again) == [], text
    assert to_dsl(again) == text


def test_a_printed_graph_is_frozen_as_every_export() -> None:
    g = bg.Graph("g")
    g.output(bg.exp(g.input("x"), name="y"))
    g.to_dsl()
    with pytest.raises(bg.errors.FrozenGraphError):
        bg.neg(g["y"])


def test_stage_blocks_group_consecutive_nodes_and_blank_lines_separate_the_rest() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with g.stage("a"):
        y = (x * 2).named("y")
        w = g.input("w", shape=(3,))
    z = (y + w).named("z")
    with g.stage("a"):
        v = (-z).named("v")
    g.output(v, z)
    assert g.to_dsl() == (
        'graph g\n\ninput x\n\nstage "a":\n    y = x * 2\n    input w[3]\n\n'
        'z = y + w\n\nstage "a":\n    v = -z\n\noutput v, z\n'
    )


def test_numbers_are_normalised_and_keep_their_meaning() -> None:
    g = bg.Graph("g")
    x = g.input("x", default=2.0)
    a = (x * 1e-05).named("a")
    b = (-0.0 + a).named("b")
    c = (b ** 2.0).named("c")
    d = (c ** -1).named("d")
    e = (d / 3.0).named("e")
    f = bg.sum(e, axis=(1,), keepdims=True, name="f")
    h = bg.transpose(f, axes=(), name="h")
    k = (h - 1e300).named("k")
    g.output(k)
    assert g.to_dsl().split("\n\n")[1:2] == [
        "input x = 2\na = x * 1e-5\nb = -0.0 + a\nc = b ** 2.0\nd = c ** -1\ne = d / 3\n"
        "f = sum(e, axis=(1,), keepdims=True)\nh = transpose(f, axes=())\nk = h - 1e300",
    ]
    assert differences(g, parse(g.to_dsl())) == []


@pytest.mark.parametrize(
    "value, text",
    [(1e-05, "1e-5"), (2.5e-300, "2.5e-300"), (1e16, "1e16"), (1.5e+20, "1.5e20"),
     (0.1, "0.1"), (-3.0, "-3.0"), (7, "7"), (-7, "-7"), (5e-324, "5e-324")],
)
def test_number_literal(value: float, text: str) -> None:
    assert number_literal(value) == text
    assert float(text) == value


def test_quote_escapes_what_is_not_printable_and_reads_back() -> None:
    label = 'a "b" \\ c\n\t\x00\u2028é'
    quoted = quote(label)
    assert "\n" not in quoted and "\u2028" not in quoted and "é" in quoted
    g = bg.Graph("g")
    with g.stage(label):
        g.output(bg.neg(g.input("x"), name="y"))
    assert parse(g.to_dsl()).spec("y").stage == label


def test_a_graph_name_that_is_not_an_identifier_is_quoted() -> None:
    g = bg.Graph("batch norm: 2")
    g.output(bg.neg(g.input("x"), name="y"))
    assert g.to_dsl().startswith('graph "batch norm: 2"\n')
    assert parse(g.to_dsl()).name == "batch norm: 2"


@pytest.mark.parametrize(
    "name, why",
    [("a b", "it is not an identifier"), ("_y", "names starting with '_' are not allowed"),
     ("lambda", "it is a Python keyword"), ("stage", "it is a keyword of the language"),
     ("1y", "it is not an identifier"), ("\ufb00", "Python's parser reads it as 'ff'")],
)
def test_names_that_cannot_be_written_are_a_clear_error(name: str, why: str) -> None:
    g = bg.Graph("g")
    g.output(bg.neg(g.input("x"), name=name))
    with pytest.raises(DSLPrintError) as caught:
        g.to_dsl()
    assert str(caught.value) == (
        f"node {name!r} (op neg): the name {name!r} cannot be written in .bng text ({why}); "
        "rename the node to an identifier"
    )


def test_non_finite_literals_cannot_be_written() -> None:
    g = bg.Graph("g")
    g.output((g.input("x") * float("inf")).named("y"))
    with pytest.raises(DSLPrintError, match=r"node 'y' \(op mul\): the number inf cannot"):
        g.to_dsl()


def test_a_symbolic_dimension_that_is_not_a_name_cannot_be_written() -> None:
    g = bg.Graph("g")
    g.output(bg.neg(g.input("x", shape=("_N",)), name="y"))
    with pytest.raises(DSLPrintError, match="the dimension '_N' cannot be written"):
        g.to_dsl()


def test_an_exponent_that_is_not_a_number_is_refused_and_numbers_print_infix() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with pytest.raises(bg.errors.ParamError, match="exponent=True must be a number"):
        bg.pow(x, exponent=True)
    g.output(bg.pow(x, exponent=3, name="p"), bg.add(x, 1.5, name="q"))
    text = g.to_dsl()
    assert "p = x ** 3" in text and "q = x + 1.5" in text
    assert differences(g, parse(text)) == []
