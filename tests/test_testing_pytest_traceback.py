"""A failing check, as a user's pytest session shows it: the report, not bngraph's source."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

USER_TEST = '''
import numpy as np
import bngraph as bg


def test_my_wrong_rule():
    cube = bg.define_op("user_cube", lambda x: x ** 3,
                        vjps=[lambda g, out, x: g * 6 * x ** 2], replace=True)  # 3 x^2 is right
    g = bg.Graph("cube")
    x = g.input("x", shape=("N",))
    g.output(cube(x, name="y"))
    bg.testing.gradcheck(g, {"x": np.array([0.5, -1.0, 2.0])})


def test_my_mismatch():
    g1 = bg.parse("graph a\\ninput x[N]\\ny = x * 2\\noutput y")
    g2 = bg.parse("graph b\\ninput x[N]\\ny = x * 3\\noutput y")
    bg.testing.assert_graphs_match(g1, g2, {"x": np.arange(3.0)})


def test_seed(bngraph_seed):
    g = bg.library.get("layernorm")
    report = bg.testing.gradcheck(g, bg.library.example("layernorm"), fast=True)
    print("SEED", bngraph_seed, report.seed, report.rows[0].analytic)
'''


@pytest.fixture
def session(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makepyfile(test_user=USER_TEST)
    return pytester


def test_a_failing_gradcheck_shows_its_table_without_bngraphs_source(
    session: pytest.Pytester,
) -> None:
    result = session.runpytest("-k", "wrong_rule")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "gradcheck of graph 'cube' FAILED" in out and "max abs err" in out
    assert "node 'y' (op user_cube), operand 0 ('x')" in out
    # the frames of gradcheck are hidden: none of its lines is quoted
    assert "gradcheck.py" not in out and "raise GradcheckError" not in out
    assert "__tracebackhide__" not in out and "rng = np.random.default_rng" not in out


def test_a_failing_graph_comparison_shows_its_table_without_bngraphs_source(
    session: pytest.Pytester,
) -> None:
    result = session.runpytest("-k", "mismatch")
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "graphs 'a' and 'b' DIFFER" in out
    assert "compare.py" not in out and "raise GraphsDifferError" not in out


def test_gradcheck_takes_the_tests_seed_and_the_seed_option_changes_it(
    session: pytest.Pytester,
) -> None:
    def seen(*args: str) -> list[str]:
        result = session.runpytest("-s", "-k", "test_seed", *args)
        result.assert_outcomes(passed=1)
        line = next(line for line in result.outlines if "SEED " in line)
        return line.split("SEED ", 1)[1].split()

    first, again = seen("--bngraph-seed=3"), seen("--bngraph-seed=3")
    other = seen("--bngraph-seed=4")
    assert first == again and first[0] == first[1]  # the report's seed is the test's seed
    assert other[0] == other[1] and other != first
