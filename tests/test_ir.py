"""The IR as its own layer: plans and runs made from a plain literal record, no builder."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import FrozenGraphError, UndefinedNameError
from bngraph.ir import INPUT, IR, NodeSpec
from bngraph.run import forward
from bngraph.schedule import make_plan

SPECS = [
    NodeSpec("x", INPUT, params={"shape": ("N",)}),
    NodeSpec("y", "mul", ("x", "x"), stage="1 square"),
    NodeSpec("z", "add", ("y", 1.0), stage="2 shift"),
]


def literal_ir() -> IR:
    return IR.from_specs("literal", SPECS, ["z"])


def test_an_ir_reads_back_its_nodes() -> None:
    ir = literal_ir()
    assert ir.names == ("x", "y", "z") and ir.ops == (INPUT, "mul", "add")
    assert ir.operands == ((), (0, 0), (1, 1.0))
    assert ir.nodes == tuple(SPECS)
    assert (ir.inputs, ir.outputs, ir.stages) == (("x",), ("z",), ("1 square", "2 shift"))
    assert ir.signature() == "x[N]" and ir.describe(1) == "node 'y' (op mul, stage '1 square')"
    with pytest.raises(UndefinedNameError, match="no node 'zz'.*did you mean 'z'"):
        ir.lookup("zz")


def test_an_ir_is_immutable() -> None:
    ir = literal_ir()
    with pytest.raises(dataclasses.FrozenInstanceError):
        ir.names = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        ir.params[0]["shape"] = (3,)  # type: ignore[index]


def test_a_plan_and_a_run_need_no_builder() -> None:
    plan = make_plan(literal_ir())
    run = forward(plan, {"x": np.array([1.0, 2.0, 3.0])})
    np.testing.assert_array_equal(run.outputs["z"], [2.0, 5.0, 10.0])
    np.testing.assert_array_equal(run.backward()["x"], [2.0, 4.0, 6.0])
    assert run.graph is plan and run.dims == {"N": 3}
    assert plan.names_in_order == ("x", "y", "z") and plan.consumers("x") == ("y", "y")


def test_a_plan_is_immutable_and_keeps_no_run_state() -> None:
    plan = bg.library.get("batchnorm").plan
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.order = ()  # type: ignore[misc]
    assert not any(isinstance(getattr(plan, f.name), dict) for f in dataclasses.fields(plan))


def test_the_builder_writes_the_same_ir_as_the_specs() -> None:
    g = bg.Graph("literal")
    x = g.input("x", shape=("N",))
    with g.stage("1 square"):
        y = (x * x).named("y")
    with g.stage("2 shift"):
        z = (y + 1).named("z")
    g.output(z)
    assert bg.dsl.same_graph(g.ir, literal_ir())
    assert g.ir is g.plan.ir


def test_reading_order_while_building_does_not_freeze() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    y = (x * 2).named("y")
    assert g.order == ("x", "y") and g.consumers("x") == ("y",)
    assert g.spec("y").operands == ("x", 2.0) and g.signature() == "x"
    z = (y + 1).named("z")  # still open
    g.output(z)
    assert g.order == ("x", "y", "z")
    assert repr(g).endswith("open>")


@pytest.mark.parametrize(("read", "reason"), [
    (lambda g: g.plan, "its plan was read"),
    (lambda g: g.ir, "its plan was read"),
    (lambda g: g.forward(x=1.0), "it was run"),
    (lambda g: g.to_dsl(), "it was exported"),
])
def test_the_frozen_error_says_what_froze_the_graph(read, reason) -> None:
    g = bg.Graph("g")
    x = g.input("x")
    g.output((x * 2).named("y"))
    read(g)
    with pytest.raises(FrozenGraphError, match=f"graph 'g' was frozen when {reason}"):
        x + 1  # noqa: B018


def test_freezing_builds_no_networkx_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    import networkx as nx

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("freeze built a networkx graph")

    g = bg.Graph("g")
    x = g.input("x")
    g.output((x * x).named("y"))
    monkeypatch.setattr(nx, "MultiDiGraph", refuse)
    g.forward(x=np.ones(2)).backward()
    monkeypatch.undo()
    assert sorted(g.to_networkx().edges(keys=True)) == [("x", "y", 0), ("x", "y", 1)]


def test_run_step_reads_the_plan() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(**bg.library.example("batchnorm"))
    run.backward()
    assert [run.step(n)[0] for n in g.order] == [0, 0, 0, 0, *range(1, len(g) - 3)]
    assert run.step("out") == (len(g) - 4, 1) and run.step("x") == (0, None)
