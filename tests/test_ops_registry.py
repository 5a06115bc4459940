"""The op record: how an op is defined, redefined, documented and described."""

from __future__ import annotations

import inspect
import pydoc
from typing import Literal

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import ParamError
from bngraph.ops import get_op


def _define_here(factor: float) -> bg.Op:
    # one place of definition, as a notebook cell run twice
    return bg.define_op("registry_scaled", lambda x, *, k=1.0: x * k * factor,
                        vjps=[lambda g, out, x, *, k: g * k * factor])


def test_defining_again_from_the_same_place_replaces_quietly() -> None:
    first = _define_here(1.0)
    second = _define_here(2.0)
    assert get_op("registry_scaled") is second is not first
    g = bg.Graph("g")
    g.output(second(g.input("x"), k=3.0, name="y"))
    np.testing.assert_array_equal(g.forward(x=np.ones(2)).outputs["y"], [6.0, 6.0])


def test_another_definition_of_a_taken_name_needs_replace() -> None:
    _define_here(1.0)
    with pytest.raises(ParamError, match="already defined elsewhere; pass replace=True"):
        bg.define_op("registry_scaled", lambda x: x, vjps=[lambda g, out, x: g])
    with pytest.raises(ParamError, match="already defined"):
        bg.define_op("mean", lambda x: x, vjps=[lambda g, out, x: g])
    replaced = bg.define_op("registry_scaled", lambda x: -x, vjps=[lambda g, out, x: -g],
                            replace=True)
    assert get_op("registry_scaled") is replaced


def test_a_rule_list_that_does_not_match_the_operands_is_refused_at_definition() -> None:
    with pytest.raises(ParamError, match=r"takes 2 operand\(s\) \(a, b\) but 1 vector-Jacobian"):
        bg.define_op("registry_two", lambda a, b: a + b, vjps=[lambda g, out, a, b: g])
    with pytest.raises(ParamError, match=r"takes 1 operand\(s\) \(a\) but 2"):
        bg.define_op("registry_one", lambda a, scale=1.0: a * scale,
                     vjps=[lambda g, out, a: g, lambda g, out, a: g])


def test_parameters_are_keyword_only_or_have_defaults() -> None:
    op = bg.define_op("registry_kw", lambda x, *, axis, scale=2.0: x * scale,
                      vjps=[lambda g, out, x, *, axis, scale: g * scale])
    assert op.params[0][0] == "axis" and op.params[1] == ("scale", 2.0)
    g = bg.Graph("g")
    with pytest.raises(ParamError, match="needs the parameter 'axis'"):
        op(g.input("x"))


def test_rules_receive_every_parameter_with_defaults_filled_in() -> None:
    seen: list[dict[str, object]] = []

    def rule(g: object, out: object, x: object, **params: object) -> object:
        seen.append(params)
        return g

    op = bg.define_op("registry_seen", lambda x, *, a=1, b=(2,): x, vjps=[rule])
    g = bg.Graph("g")
    g.output(op(g.input("x"), a=5, name="y"))
    g.forward(x=np.ones(2)).backward()
    assert seen == [{"a": 5, "b": (2,)}]


def test_help_shows_the_op_own_signature_and_docstring() -> None:
    text = pydoc.render_doc(bg.mean, renderer=pydoc.plaintext)
    assert "mean(x, /, *, axis=None, keepdims=False, name=None)" in text
    assert "The mean of x over" in text and "generic" not in text

    @bg.op(vjps=[lambda g, out, x: g * out * (1 - out)], saves=["out"])
    def registry_sigmoid(x: np.ndarray) -> np.ndarray:
        """The logistic function 1 / (1 + exp(-x))."""
        return 1 / (1 + np.exp(-x))

    assert str(inspect.signature(registry_sigmoid)) == "(x, /, *, name=None)"
    assert "The logistic function" in pydoc.render_doc(registry_sigmoid, renderer=pydoc.plaintext)


def test_rule_texts_name_the_operands() -> None:
    assert get_op("mul").rule(0, ["xmu", "ivar"], "xhat", {}) == "g × ivar"
    assert get_op("div").rule(1, ["1", "sqrtvar"], "ivar", {}) == "−g × ivar ÷ sqrtvar"
    assert get_op("pow").rule(0, ["xmu"], "sq", {"exponent": 2}) == "g × 2·xmu"
    assert get_op("mean").rule(0, ["x"], "mu", {"axis": 0}) == "g/N broadcast back over axis 0"
    user = bg.define_op("registry_plain", lambda x: x, vjps=[lambda g, out, x: g])
    assert user.rule(0, ["x"], "y", {}) == "vjp"
    with pytest.raises(ParamError, match="rules must be 1 text"):
        bg.define_op("registry_badrules", lambda x: x, vjps=[lambda g, out, x: g],
                     rules=["g", "g"])


def test_operands_without_a_rule_get_no_gradient() -> None:
    assert get_op("reshape_like").no_grad == {1} and get_op("broadcast_like").no_grad == {1}
    assert get_op("mul").no_grad == frozenset()
    # an op none of whose operands gets a gradient (a mask, a one-hot) stops the backward pass
    mask = bg.define_op("registry_mask", lambda x: (x > 0) * 1.0, vjps=[None])
    g = bg.Graph("g")
    x = g.input("x")
    g.output((mask(x) * x).named("y"))
    np.testing.assert_array_equal(g.forward(x=np.array([-1.0, 2.0])).backward()["x"], [0.0, 1.0])


def test_parameters_with_defaults_may_follow_the_operands_positionally() -> None:
    op = bg.define_op("registry_affine", lambda x, scale=1.0, shift=0.0, *, flip=False:
                      (-1 if flip else 1) * (x * scale + shift),
                      vjps=[lambda g, out, x, *, scale, shift, flip: g * scale * (-1 if flip else 1)])
    assert str(inspect.signature(op)) == "(x, /, scale=1.0, shift=0.0, *, flip=False, name=None)"
    g = bg.Graph("g")
    x = g.input("x")
    y = op(x, 2.0, 1.0, name="y")
    assert dict(y.params) == {"scale": 2.0, "shift": 1.0}
    with pytest.raises(ParamError, match="given twice"):
        op(x, 2.0, scale=3.0)
    with pytest.raises(bg.errors.ArityError, match="give flip= by keyword"):
        op(x, 2.0, 1.0, True)
    with pytest.raises(bg.errors.ArityError, match="takes 1 operand"):
        op(x, x)


def test_required_parameters_and_choices() -> None:
    def forward(x: np.ndarray, size: int = bg.ops.REQUIRED,
                mode: Literal["up", "down"] = "up") -> np.ndarray:
        return x * size if mode == "up" else x / size

    op = bg.define_op("registry_choice", forward, vjps=[lambda g, out, x, *, size, mode: g])
    assert str(inspect.signature(op)) == "(x, /, size, mode='up', *, name=None)"
    assert op.choices == {"mode": ("up", "down")}
    g = bg.Graph("g")
    x = g.input("x")
    assert dict(op(x, 3, "down").params) == {"size": 3, "mode": "down"}
    with pytest.raises(ParamError, match="needs the parameter 'size'"):
        op(x)
    with pytest.raises(ParamError, match=r"mode='sideways' is not one of 'up', 'down'"):
        op(x, 2, mode="sideways")
    with pytest.raises(ParamError, match="not a literal"):
        bg.mean(x, axis="0")


def test_a_parameter_annotated_as_a_number_takes_only_numbers() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with pytest.raises(ParamError, match=r"op pow: parameter exponent=\(1,\) must be a number"):
        bg.pow(x, exponent=(1,))
    with pytest.raises(ParamError, match="op softmax: parameter axis=1.5 must be an int"):
        bg.softmax(x, axis=1.5)
    assert bg.pow(x, exponent=0.5).params == {"exponent": 0.5}
