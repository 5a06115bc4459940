"""The library's graphs are .bng files read through the parser, equal to their Python builders."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

import bngraph as bg
from bngraph import library, reference
from bngraph.dsl import differences
from bngraph.library import batchnorm


def test_every_library_graph_is_read_from_a_text_file() -> None:
    for name in library.names():
        assert library._entry(name).filename == f"{name}.bng"
        assert library.source(name) is not None


def test_batchnorm_is_read_from_its_text_file() -> None:
    entry = library._entry("batchnorm")
    assert entry.filename == "batchnorm.bng"
    text = resources.files("bngraph.library").joinpath("batchnorm.bng").read_text()
    assert library.source("batchnorm") == text
    assert text.startswith("# Batch normalization in the nine stages")
    assert differences(library.get("batchnorm"), bg.parse(text)) == []


@pytest.mark.parametrize("name", library.names())
def test_each_text_graph_equals_its_python_builder(name: str) -> None:
    assert differences(library.get(name), library._entry(name).build()) == []


def test_other_build_parameters_go_through_the_python_builder() -> None:
    assert library.build("groupnorm", groups=4).spec("xg").params["parts"] == 4
    assert differences(library.build("groupnorm"), library.get("groupnorm")) == []


def test_the_shipped_file_is_the_canonical_text_under_its_comment() -> None:
    text = library.source("batchnorm")
    assert text is not None
    comment, rest = text.split("\n", 1)
    canonical = library.get("batchnorm").to_dsl()
    # the file writes sqrt(var + eps) on one line; the canonical text names add_1
    assert rest == canonical.replace(
        "    add_1 = var + eps\n    sqrtvar = sqrt(add_1)\n", "    sqrtvar = sqrt(var + eps)\n"
    )


def test_the_text_graph_runs_to_the_closed_form_on_the_example() -> None:
    inputs = library.example("batchnorm")
    run = library.get("batchnorm").forward(**inputs)
    dout = run.outputs["out"].copy()
    grads = run.backward(dout)
    x = inputs["x"]
    gamma = np.full(4, inputs["gamma"])
    beta = np.full(4, inputs["beta"])
    out, cache = reference.batchnorm_forward(x, gamma, beta, inputs["eps"])
    expected = reference.batchnorm_backward(dout, cache)
    np.testing.assert_allclose(run.outputs["out"], out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(grads["x"], expected["x"], rtol=1e-9, atol=1e-12)
    # gamma was given as a scalar: its gradient is the sum over the broadcast
    np.testing.assert_allclose(grads["gamma"], expected["gamma"].sum(), rtol=1e-9, atol=1e-12)


def test_a_text_entry_is_one_line() -> None:
    entry = library.text_entry("batchnorm.bng", "again", batchnorm.build, batchnorm.example)
    assert entry.name == "batchnorm" and entry.filename == "batchnorm.bng"
    assert differences(library._load(entry), batchnorm.build()) == []


def test_a_python_entry_has_no_source() -> None:
    entry = library.Entry("py", "built in Python", batchnorm.build, batchnorm.example)
    assert entry.filename is None


def test_every_entry_is_filed_under_its_own_name() -> None:
    for name in library.names():
        assert library._entry(name).name == name
