"""The IR and the Python builder: names, stages, ordered operand edges, validation."""

from __future__ import annotations

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import (
    ArityError,
    CycleError,
    DuplicateNameError,
    FrozenGraphError,
    GraphDefinitionError,
    OutputError,
    UndefinedNameError,
    UnknownOpError,
)
from bngraph.graph import NodeSpec


def square_graph() -> bg.Graph:
    g = bg.Graph("sq")
    x = g.input("x")
    g.output((x * x).named("y"))
    return g


def test_operand_edges_are_ordered_and_kept_twice() -> None:
    ir = square_graph().to_networkx()
    assert sorted(ir.edges(keys=True)) == [("x", "y", 0), ("x", "y", 1)]
    assert ir.nodes["y"]["op"] == "mul"


def test_to_networkx_is_a_copy() -> None:
    g = square_graph()
    copy = g.to_networkx()
    copy.remove_node("y")
    assert "y" in g.to_networkx()


def test_builder_records_names_ops_params_and_stages() -> None:
    g = bg.Graph("g")
    x = g.input("x", shape=("N", "D"))
    with g.stage("1 mean"):
        mu = bg.mean(x, axis=0, name="mu")
    with g.stage("2 center"):
        xmu = (x - mu).named("xmu")
    g.output(xmu)
    assert g.spec("mu") == NodeSpec("mu", "mean", ("x",), {"axis": 0}, "1 mean")
    assert g.spec("xmu") == NodeSpec("xmu", "sub", ("x", "mu"), {}, "2 center")
    assert g.spec("x").params == {"shape": ("N", "D")}
    assert g.stages == ("1 mean", "2 center")
    assert g.inputs == ("x",) and g.outputs == ("xmu",)


def test_default_params_are_not_stored() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    assert bg.mean(x, axis=None, keepdims=False).params == {}


def test_python_numbers_on_either_side_are_literal_operands() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    a, b, c, d = 1 - x, x * 2, 3 / x, 2 + x
    assert g.spec(a.name).operands == (1.0, "x")
    assert g.spec(b.name).operands == ("x", 2.0)
    assert g.spec(c.name).operands == (3.0, "x")
    assert g.spec(d.name).operands == (2.0, "x")
    assert np.float64(2.0) * x is not None  # numpy scalars defer to the node


def test_pow_takes_a_constant_exponent() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    assert (x ** 2).params == {"exponent": 2}
    with pytest.raises(GraphDefinitionError, match="constant exponent"):
        x ** x  # noqa: B018
    with pytest.raises(GraphDefinitionError, match="constant exponent"):
        2 ** x  # noqa: B018


def test_auto_names_are_stable_and_give_way_to_user_names() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    s = x + 1
    assert s.name == "add_1"
    t = (x + 2).named("add_1")  # the user's name wins; the unnamed node moves
    assert t.name == "add_1" and s.name == "add_3"


def test_named_renames_and_rejects_duplicates() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    (x * 2).named("y")
    with pytest.raises(DuplicateNameError, match="already has a node named 'y'"):
        (x * 3).named("y")
    with pytest.raises(DuplicateNameError):
        g.input("x")


def test_stages_do_not_nest() -> None:
    g = bg.Graph("g")
    with g.stage("a"), pytest.raises(GraphDefinitionError, match="do not nest"), g.stage("b"):
        pass


def test_arrays_are_not_operands() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with pytest.raises(GraphDefinitionError, match="declare arrays as inputs"):
        x + np.ones(3)


def test_operands_from_two_graphs_are_rejected() -> None:
    a, b = bg.Graph("a"), bg.Graph("b")
    with pytest.raises(GraphDefinitionError, match="belongs to graph 'b'"):
        a.input("x") + b.input("y")


def test_arity_is_checked() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with pytest.raises(ArityError, match="op mean takes 1 operand"):
        bg.mean(x, x)


def test_a_graph_freezes_when_run() -> None:
    g = square_graph()
    g.forward(x=1.0)
    with pytest.raises(FrozenGraphError, match="frozen"):
        g.input("z")
    with pytest.raises(FrozenGraphError):
        g["y"].named("z")


def test_a_graph_needs_outputs() -> None:
    g = bg.Graph("g")
    g.input("x")
    with pytest.raises(OutputError, match="no outputs"):
        g.forward(x=1.0)


def test_output_must_exist() -> None:
    g = bg.Graph("g")
    g.input("x")
    with pytest.raises(OutputError, match="no node 'y'"):
        g.output("y")


def test_from_specs_validates_unknown_ops_and_lists_them() -> None:
    with pytest.raises(UnknownOpError, match="unknown op 'sqr'.*known ops: .*square"):
        bg.Graph.from_specs("g", [NodeSpec("x", "input"), NodeSpec("y", "sqr", ("x",))], ["y"])


def test_from_specs_validates_arity() -> None:
    with pytest.raises(ArityError, match="node 'y': op add takes 2 operand"):
        bg.Graph.from_specs("g", [NodeSpec("x", "input"), NodeSpec("y", "add", ("x",))], ["y"])


def test_from_specs_validates_duplicate_names() -> None:
    with pytest.raises(DuplicateNameError, match="'x' is defined twice"):
        bg.Graph.from_specs("g", [NodeSpec("x", "input"), NodeSpec("x", "input")], ["x"])


def test_from_specs_validates_undefined_names_with_a_hint() -> None:
    specs = [NodeSpec("gamma", "input"), NodeSpec("y", "neg", ("gama",))]
    with pytest.raises(UndefinedNameError, match="'y' uses 'gama'.*did you mean 'gamma'"):
        bg.Graph.from_specs("g", specs, ["y"])


def test_from_specs_prints_a_cycle() -> None:
    specs = [NodeSpec("x", "input"), NodeSpec("a", "add", ("x", "b")), NodeSpec("b", "neg", ("a",))]
    with pytest.raises(CycleError, match=r"has a cycle: (a -> b -> a|b -> a -> b)"):
        bg.Graph.from_specs("g", specs, ["b"])


def test_from_specs_prints_a_self_loop() -> None:
    specs = [NodeSpec("x", "input"), NodeSpec("y", "add", ("x", "y"))]
    with pytest.raises(CycleError, match="y -> y"):
        bg.Graph.from_specs("g", specs, ["y"])


def test_from_specs_validates_outputs() -> None:
    with pytest.raises(OutputError, match="output 'z' is not a node"):
        bg.Graph.from_specs("g", [NodeSpec("x", "input")], ["z"])


def test_from_specs_accepts_operands_defined_later() -> None:
    specs = [NodeSpec("y", "mul", ("x", 2.0)), NodeSpec("x", "input")]
    g = bg.Graph.from_specs("g", specs, ["y"])
    assert g.order == ("x", "y")
    assert g.forward(x=np.array([1.0])).outputs["y"].tolist() == [2.0]


def test_signature_lists_inputs() -> None:
    assert bg.library.get("batchnorm").signature() == "x[N, D], gamma[D], beta[D], eps = 1e-05"
