"""Value summaries: whole arrays when small, statistics otherwise, never numpy's global options."""

from __future__ import annotations

import numpy as np

from bngraph.formatting import format_number
from bngraph.viz.summary import BRIEF_CHARS, SMALL, brief, full_text, summarize


def test_small_arrays_are_shown_whole() -> None:
    assert summarize(np.array([[1.0, 2.0], [3.0, 4.5]])) == "[[1, 2], [3, 4.5]]"
    assert summarize(np.ones(SMALL)) == "[" + ", ".join(["1"] * SMALL) + "]"
    assert summarize(np.float64(2.0)) == "2"


def test_large_arrays_show_shape_and_statistics_of_the_values() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=(7, 3))
    expected = f"(7, 3) min {a.min():.4g} mean {a.mean():.4g} max {a.max():.4g}"
    assert summarize(a) == expected


def test_one_line_summaries_for_nodes_and_edges() -> None:
    rng = np.random.default_rng(1)
    a = rng.normal(size=(7, 3))
    assert brief(a) == f"{a.min():.4g} to {a.max():.4g}, mean {a.mean():.4g}"
    assert brief(a, mean=False) == f"{a.min():.4g} to {a.max():.4g}"
    assert brief(np.full((3, 3), -0.25)) == "all -0.25"
    assert brief(np.array([1.0, 2.0])) == "[1, 2]"  # small and short: whole
    # small but too long for one line: its range
    long = np.array([1.234567, 2.345678, 3.456789, 4.567891, 5.678912, 6.789123])
    assert len(summarize(long)) > BRIEF_CHARS and brief(long) == "1.235 to 6.789, mean 4.012"
    assert brief(np.array([1 + 2j, 3j])) == "(2,) complex"


def test_negative_zero_prints_as_zero() -> None:
    assert format_number(-0.0) == "0"
    assert summarize(np.array([-0.0, 1.0])) == "[0, 1]"


def test_summaries_ignore_numpy_print_options() -> None:
    a = np.linspace(0, 1, 9).reshape(3, 3)
    before = (summarize(a), full_text(a))
    with np.printoptions(precision=1, threshold=2, linewidth=10, sign="+"):
        assert (summarize(a), full_text(a)) == before


def test_full_text_is_bounded() -> None:
    text = full_text(np.arange(150.0), limit=100)
    assert len(text) == 100 and text.endswith("…")
    assert full_text(np.arange(4.0)) == "[0., 1., 2., 3.]"
