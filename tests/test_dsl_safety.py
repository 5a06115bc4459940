"""Hostile texts: nothing is ever evaluated, and no input makes the parser crash or hang.

Each hostile input must end in a clear ``DSLSyntaxError`` or in a correct graph,
never in ``RecursionError``, ``MemoryError`` or a crash. (How fast is measured
in ``benchmarks/bench_dsl_hostile.py``, not here: tests are not timed.)
"""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import pytest

import bngraph as bg
from bngraph.dsl import DSLLimitError, DSLNameError, DSLSyntaxError, parse
from bngraph.dsl.frame import MAX_CHARS

PAYLOADS = [
    'y = __import__("os").system("touch CANARY")',
    'y = open("CANARY", "w").write("x")',
    'y = print("EVALUATED")',
    'y = exec("open(\'CANARY\', \'w\')")',
    'y = eval("print(\'EVALUATED\')")',
    'y = x + (lambda: open("CANARY", "w"))()',
    'y = [open("CANARY", "w") for _ in (1,)]',
    'y = f"{open(\'CANARY\', \'w\')}"',
    'y = x.__class__.__bases__[0].__subclasses__()',
    'import os; os.system("touch CANARY")',
    'from os import system',
    'y = mean(x, axis=print("EVALUATED"))',
    'y = x ** print("EVALUATED")',
    'y = x * breakpoint()',
    'input w = open("CANARY", "w")',
    'output print("EVALUATED")',
    'graph print("EVALUATED")',
]


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Work in an empty folder with eval and exec disarmed: calling them fails the test."""
    monkeypatch.chdir(tmp_path)

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("the parser called eval or exec")

    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    return tmp_path


@pytest.mark.parametrize("payload", PAYLOADS)
def test_code_in_a_file_is_rejected_and_never_run(
    payload: str, sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = sandbox / "evil.bng"
    path.write_text(f"input x\n{payload}\noutput x\n")
    with pytest.raises(DSLSyntaxError) as caught:
        bg.load(path)
    assert caught.value.line == 2
    assert sorted(p.name for p in sandbox.iterdir()) == ["evil.bng"]
    assert capsys.readouterr() == ("", "")


def test_code_in_strings_and_comments_stays_text(
    sandbox: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        'graph "__import__(\'os\').system(\'touch CANARY\')"\n'
        '# open("CANARY", "w")\n'
        "input x\n"
        'stage "{open(\'CANARY\', \'w\')}": y = -x  # print("EVALUATED")\n'
        "output y\n"
    )
    graph = parse(text)
    assert graph.name == "__import__('os').system('touch CANARY')"
    assert graph.spec("y").stage == "{open('CANARY', 'w')}"
    assert list(sandbox.iterdir()) == []
    assert capsys.readouterr() == ("", "")


def test_the_language_package_never_evaluates_or_unpickles() -> None:
    """No call of eval/exec/compile/__import__ and no pickle or marshal in bngraph.dsl."""
    folder = Path(bg.dsl.__file__).parent
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in {"eval", "exec", "compile", "__import__"}, path
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                assert not {"pickle", "marshal", "shelve", "dill"} & set(names), path


# ---------------------------------------------------------------- hostile sizes and depths


def test_ten_thousand_nested_parentheses_are_a_clear_error() -> None:
    text = "input x\ny = " + "(" * 10_000 + "x" + ")" * 10_000 + "\noutput y"
    with pytest.raises(DSLLimitError) as caught:
        parse(text)
    assert (caught.value.line, caught.value.column) == (2, 1)
    assert "too many nested parentheses" in caught.value.msg


def test_ten_thousand_nested_calls_are_a_clear_error() -> None:
    text = "input x\ny = " + "neg(" * 10_000 + "x" + ")" * 10_000 + "\noutput y"
    with pytest.raises(DSLLimitError, match="nested"):
        parse(text)


def test_nesting_within_the_parsers_limits_gives_the_graph() -> None:
    depth = 150
    text = "input x\ny = " + "neg(" * depth + "x" + ")" * depth + "\noutput y"
    graph = parse(text)
    assert len(graph) == depth + 1
    assert graph.spec("y").operands == (f"neg_{depth - 1}",)


@pytest.mark.parametrize(
    "line",
    [
        "y = " + "-" * 100_000 + "x",                      # the parser runs out of stack
        "y = " + " + ".join(["x"] * 33_000),               # its tree is too deep to build
        "y = x * " + "(" * 50_000 + "1" + ")" * 50_000,    # too many nested parentheses
        "input w = " + "-" * 100_000 + "1",
    ],
    ids=["unary minus", "long sum", "parentheses", "default"],
)
def test_a_100000_character_line_is_a_clear_error(line: str) -> None:
    assert len(line) >= 100_000
    with pytest.raises(DSLLimitError) as caught:
        parse(f"input x\n{line}\noutput y")
    assert caught.value.line == 2
    assert len(str(caught.value)) < 400  # the message shows a window of the line


def test_a_100000_character_line_that_is_valid_gives_the_graph() -> None:
    line = "y = mean(x, axis=0)" + " " * 100_000 + "# long"
    assert parse(f"input x\n{line}\noutput y").spec("y").params["axis"] == 0


def test_a_100000_character_name_is_reported_shortly() -> None:
    with pytest.raises(DSLNameError) as caught:
        parse("input x\ny = x + " + "q" * 100_000 + "\noutput y")
    assert len(caught.value.msg) < 300 and "...(100000)" in caught.value.msg


def test_a_long_flat_expression_is_built_without_recursion() -> None:
    terms = 1500
    graph = parse("input x\ny = " + " + ".join(["x"] * terms) + "\noutput y")
    assert len(graph) == terms  # one input and terms - 1 additions
    assert graph.spec("y").operands == (f"add_{terms - 2}", "x")


def test_many_unary_minus_signs_fold_or_build_iteratively() -> None:
    graph = parse("input x\ny = x * " + "-" * 501 + "2\nz = " + "-" * 300 + "y\noutput z")
    assert graph.spec("y").operands == ("x", -2.0)
    assert len(graph) == 2 + 300


def test_a_multi_megabyte_text_is_refused_at_once() -> None:
    text = "input x\n" + "# padding\n" * 300_000 + "y = -x\noutput y\n"
    assert len(text) > 3_000_000
    with pytest.raises(DSLLimitError) as caught:
        parse(text, "big.bng")
    assert caught.value.one_line().startswith("big.bng:1:1: the text has 3,000,")


def test_a_multi_megabyte_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.bng"
    with path.open("w") as handle:
        handle.write("input x\n")
        handle.write("y = -x\n" * 1_000_000)
    with pytest.raises(DSLLimitError, match="bytes, more than the limit"):
        bg.load(path)


def test_a_text_just_under_the_limit_is_a_correct_graph() -> None:
    lines = ["input x"] + [f"y{i} = y{i - 1} * 2 + x" for i in range(1, 100_000)]
    lines[1] = "y1 = x * 2 + x"
    text = ""
    count = 0
    for count, line in enumerate(lines):  # noqa: B007 - count is read after the loop
        if len(text) + len(line) + 40 > MAX_CHARS:
            break
        text += line + "\n"
    last = count - 1
    graph = parse(text + f"output y{last}\n")
    assert len(graph) == 1 + 2 * last
    assert graph.outputs == (f"y{last}",)


def test_the_limit_can_be_raised() -> None:
    text = "input x\ny = -x\noutput y\n" + "#" * 100
    with pytest.raises(DSLLimitError):
        parse(text, max_chars=50)
    assert parse(text, max_chars=200).names == ("x", "y")


def test_deeply_nested_parameter_tuples_are_rejected() -> None:
    with pytest.raises(DSLSyntaxError, match="a tuple holds only ints"):
        parse("input x\ny = sum(x, axis=" + "(" * 50 + "0," + ")," * 49 + "))\noutput y")
