"""Every error of the text language: its class, line, column and message."""

from __future__ import annotations

import pytest

import bngraph as bg
from bngraph.dsl import (
    DSLGraphError,
    DSLNameError,
    DSLNotAllowedError,
    DSLSyntaxError,
)

P = "input x\ninput z\n"  # two lines of inputs before the statement under test

CASES = [
    # (id, text, class, line, column, part of the message)
    ("attribute", P + "y = x.real\noutput y", DSLNotAllowedError, 3, 5,
     "attribute access (a.b) is not allowed"),
    ("attribute call", P + "y = os.system(x)\noutput y", DSLNotAllowedError, 3, 5,
     "only registered ops can be called; attribute access (a.b) is not allowed"),
    ("subscript by a node", P + "y = x[x]\noutput y", DSLNotAllowedError, 3, 7,
     "an index holds ints, slices of ints and ..., not the name 'x'; to index with the "
     "values of a node, use take or take_along_axis"),
    ("subscript by a float", P + "y = x[1:2.5]\noutput y", DSLNotAllowedError, 3, 9,
     "an index holds ints, slices of ints and ..., not 2.5"),
    ("subscript of a number", P + "y = 2[0]\noutput y", DSLNotAllowedError, 3, 5,
     "only a node can be indexed"),
    ("lambda", P + "y = (lambda: x)()\noutput y", DSLNotAllowedError, 3, 6,
     "only registered ops can be called; lambdas are not allowed"),
    ("lambda operand", P + "y = x + (lambda: 1)\noutput y", DSLNotAllowedError, 3, 10,
     "lambdas are not allowed"),
    ("list comprehension", P + "y = sum([x for x in z])\noutput y", DSLNotAllowedError, 3, 9,
     "comprehensions are not allowed"),
    ("generator", P + "y = sum(x for x in z)\noutput y", DSLNotAllowedError, 3, 8,
     "comprehensions are not allowed"),
    ("dict comprehension", P + "y = x * {k: 1 for k in z}\noutput y", DSLNotAllowedError, 3, 9,
     "comprehensions are not allowed"),
    ("import", P + "import os\noutput x", DSLNotAllowedError, 3, 1, "imports are not allowed"),
    ("from import", P + "from os import system\noutput x", DSLNotAllowedError, 3, 1,
     "imports are not allowed"),
    ("f-string", P + 'y = f"{x}"\noutput y', DSLNotAllowedError, 3, 5, "f-strings are not allowed"),
    ("string operand", P + 'y = x + "a"\noutput y', DSLNotAllowedError, 3, 9,
     "strings are not allowed in expressions"),
    ("underscore call", P + "y = __import__(x)\noutput y", DSLNotAllowedError, 3, 5,
     "names starting with '_' are not allowed ('__import__')"),
    ("underscore name", P + "y = x + _z\noutput y", DSLNotAllowedError, 3, 9,
     "names starting with '_' are not allowed ('_z')"),
    ("underscore target", P + "_y = -x\noutput x", DSLNotAllowedError, 3, 1,
     "names starting with '_' are not allowed ('_y')"),
    ("underscore input", "input _x\n", DSLNotAllowedError, 1, 7,
     "names starting with '_' are not allowed"),
    ("builtin call", P + "y = print(x)\noutput y", DSLNameError, 3, 5, "unknown op 'print'"),
    ("unknown op", P + "y = maen(x, axis=0)\noutput y", DSLNameError, 3, 5,
     "unknown op 'maen' (did you mean 'mean'?); known ops: abs, add,"),
    ("node called", P + "y = x(z)\noutput y", DSLNameError, 3, 5,
     "'x' is a node, not an op; only registered ops can be called"),
    ("call of call", P + "y = mean(x)(z)\noutput y", DSLNotAllowedError, 3, 5,
     "calling a call's result is not allowed"),
    ("undefined", P + "y = mean(xx)\noutput y", DSLNameError, 3, 10,
     "undefined name 'xx' (did you mean 'x'?); a name must be defined before it is used"),
    ("used before defined", P + "y = w + x\nw = -x\noutput y", DSLNameError, 3, 5,
     "undefined name 'w'"),
    ("self reference", P + "y = y + x\noutput y", DSLNameError, 3, 5, "undefined name 'y'"),
    ("op as value", P + "y = x + mean\noutput y", DSLNameError, 3, 9,
     "'mean' is an op, not a node: call it, mean(...)"),
    ("defined twice", P + "y = -x\ny = -z\noutput y", DSLNameError, 4, 1,
     "'y' is already defined on line 3; each name is assigned once"),
    ("input twice", P + "input x\noutput x", DSLNameError, 3, 7, "'x' is already defined on line 1"),
    ("alias", P + "y = x\noutput y", DSLSyntaxError, 3, 5,
     "y = x would only give node 'x' a second name"),
    ("plus alias", P + "y = +x\noutput y", DSLSyntaxError, 3, 5,
     "would only give node 'x' a second name"),
    ("number only", P + "y = 3\noutput y", DSLSyntaxError, 3, 5,
     "y = 3: an assignment must apply an op to a node"),
    ("numbers only", P + "y = 2 * 3\noutput y", DSLNotAllowedError, 3, 5,
     "arithmetic on numbers alone (2 * 3) is not allowed"),
    ("bool operand", P + "y = x * True\noutput y", DSLNotAllowedError, 3, 9,
     "True is only allowed as an op parameter value"),
    ("none operand", P + "y = x * None\noutput y", DSLNotAllowedError, 3, 9,
     "None is only allowed as an op parameter value"),
    ("infinite number", P + "y = x * 1e999\noutput y", DSLSyntaxError, 3, 9,
     "the number inf is not a finite float"),
    ("huge int", P + "y = x * 1" + "0" * 400 + "\noutput y", DSLSyntaxError, 3, 9,
     "is not a finite float"),
    # a constant that is not a finite float is refused where it is read (it used to be
    # accepted, then to_dsl() and every drawing raised OverflowError)
    ("huge exponent", P + "y = x ** 1" + "0" * 400 + "\noutput y", DSLSyntaxError, 3, 10,
     "an integer of 401 digits is not a finite float"),
    ("huge negative exponent", P + "y = x ** -1" + "0" * 400 + "\noutput y", DSLSyntaxError, 3, 10,
     "an integer of 401 digits is not a finite float"),
    ("infinite exponent", P + "y = x ** 1e400\noutput y", DSLSyntaxError, 3, 10,
     "the number inf is not a finite float"),
    ("infinite default", "input x\ninput e = -1e400\ny = x * e\noutput y", DSLSyntaxError, 2, 11,
     "the number -inf is not a finite float"),
    ("huge default", "input x\ninput e = 1" + "0" * 400 + "\ny = x * e\noutput y", DSLSyntaxError,
     2, 11, "an integer of 401 digits is not a finite float"),
    ("infinite parameter", P + "y = pow(x, exponent=1e400)\noutput y", DSLSyntaxError, 3, 21,
     "the number inf is not a finite float"),
    ("huge parameter", P + "y = mean(x, axis=1" + "0" * 400 + ")\noutput y", DSLSyntaxError, 3, 18,
     "an integer of 401 digits is not a finite float"),
    ("huge tuple parameter", P + "y = mean(x, axis=(0, 1" + "0" * 400 + "))\noutput y",
     DSLSyntaxError, 3, 22, "an integer of 401 digits is not a finite float"),
    ("complex", P + "y = x * 2j\noutput y", DSLNotAllowedError, 3, 9, "complex numbers are not allowed"),
    ("floor division", P + "y = x // z\noutput y", DSLNotAllowedError, 3, 5,
     "the operator // is not allowed; operators: + - * / ** @ and unary -"),
    ("modulo", P + "y = x % 2\noutput y", DSLNotAllowedError, 3, 5, "the operator % is not allowed"),
    ("invert", P + "y = ~x\noutput y", DSLNotAllowedError, 3, 5, "the operator ~ is not allowed"),
    ("not", P + "y = not x\noutput y", DSLNotAllowedError, 3, 5, "the operator not is not allowed"),
    ("comparison", P + "y = x < z\noutput y", DSLNotAllowedError, 3, 5, "comparisons are not allowed"),
    ("and", P + "y = x and z\noutput y", DSLNotAllowedError, 3, 5, "'and' and 'or' are not allowed"),
    ("if expression", P + "y = x if z else x\noutput y", DSLNotAllowedError, 3, 5,
     "conditional expressions (a if c else b) are not allowed"),
    ("walrus", P + "y = (w := x)\noutput y", DSLNotAllowedError, 3, 6,
     "assignment expressions (:=) are not allowed"),
    ("tuple value", P + "y = x, z\noutput y", DSLNotAllowedError, 3, 5, "tuples (outside op parameters)"),
    ("list value", P + "y = [x]\noutput y", DSLNotAllowedError, 3, 5, "lists are not allowed"),
    ("dict value", P + "y = {}\noutput y", DSLNotAllowedError, 3, 5, "dicts are not allowed"),
    ("starred", P + "y = add(*x)\noutput y", DSLNotAllowedError, 3, 9, "unpacking (*args) is not allowed"),
    ("double starred", P + "y = mean(x, **z)\noutput y", DSLNotAllowedError, 3, 15,
     "unpacking (**kwargs) is not allowed"),
    ("name keyword", P + 'y = mean(x, name="m")\noutput y', DSLNotAllowedError, 3, 18,
     "name= is not a parameter here"),
    ("node exponent", P + "y = x ** z\noutput y", DSLGraphError, 3, 10,
     "** takes a constant exponent, not the node 'z'"),
    ("number base", P + "y = 2 ** x\noutput y", DSLGraphError, 3, 10,
     "** takes a constant exponent, not the node 'x'"),
    ("expression exponent", P + "y = x ** (1 + 1)\noutput y", DSLSyntaxError, 3, 11,
     "the exponent of ** must be a number"),
    ("arity", P + "y = add(x)\noutput y", DSLGraphError, 3, 5, "op add takes 2 operand(s), got 1"),
    ("no node operand", P + "y = sqrt(2.0)\noutput y", DSLGraphError, 3, 5,
     "sqrt(...) needs at least one node operand"),
    ("unknown parameter", P + "y = mean(x, axs=0)\noutput y", DSLGraphError, 3, 5,
     "op mean has no parameter 'axs' (did you mean 'axis'?); its parameters: axis, keepdims"),
    ("string parameter", P + 'y = mean(x, axis="0")\noutput y', DSLNotAllowedError, 3, 18,
     "parameter axis= takes a literal (int, float, bool, None or a tuple of ints), not the str '0'"),
    ("node parameter", P + "y = mean(x, axis=z)\noutput y", DSLNotAllowedError, 3, 18,
     "not the name 'z'"),
    ("list parameter", P + "y = mean(x, axis=[0])\noutput y", DSLNotAllowedError, 3, 18,
     "not lists"),
    ("float tuple parameter", P + "y = mean(x, axis=(0, 1.5))\noutput y", DSLNotAllowedError, 3, 22,
     "parameter axis=: a tuple holds only ints, not 1.5"),
    ("negative bool", P + "y = mean(x, keepdims=-True)\noutput y", DSLNotAllowedError, 3, 22,
     "takes a literal"),
    ("chained assignment", P + "y = w = -x\noutput y", DSLNotAllowedError, 3, 5,
     "chained assignment (a = b = ...) is not allowed"),
    ("unpacking target", P + "y, w = x, z\noutput y", DSLNotAllowedError, 3, 1,
     "unpacking (a, b = ...) is not allowed"),
    ("attribute target", P + "x.y = -x\noutput x", DSLNotAllowedError, 3, 1,
     "attribute access (a.b) is not allowed"),
    ("augmented", P + "x += 1\noutput x", DSLNotAllowedError, 3, 1,
     "augmented assignment (+=) is not allowed"),
    ("annotation", P + "y: int = 1\noutput x", DSLNotAllowedError, 3, 1, "annotations are not allowed"),
    ("bare expression", P + "mean(x)\noutput x", DSLNotAllowedError, 3, 1,
     "an expression alone does nothing"),
    ("def", P + "def f(): pass\noutput x", DSLNotAllowedError, 3, 1,
     "function definitions are not allowed"),
    ("for", P + "for i in x: pass\noutput x", DSLNotAllowedError, 3, 1, "loops are not allowed"),
    ("pass", P + "pass\noutput x", DSLNotAllowedError, 3, 1, "pass is not allowed"),
    ("del", P + "del x\noutput x", DSLNotAllowedError, 3, 1, "del is not allowed"),
    ("with", P + "with x: pass\noutput x", DSLNotAllowedError, 3, 1, "with statements are not allowed"),
    ("two statements", P + "y = -x; w = -z\noutput y", DSLSyntaxError, 3, 9,
     "one statement per line: ';' is not allowed"),
    ("syntax", P + "y = x +\noutput y", DSLSyntaxError, 3, 8, "invalid syntax"),
    ("unclosed", P + "y = mean(x,\noutput y", DSLSyntaxError, 3, 9, "'(' was never closed"),
    ("unicode column", "input é\ny = é + + * 2\noutput y", DSLSyntaxError, 2, 11, "invalid syntax"),
    ("unicode attribute", "input é\ny = 2 * é.real\noutput y", DSLNotAllowedError, 2, 9,
     "attribute access"),
    ("keyword target", P + "input = -x\noutput x", DSLSyntaxError, 3, 1,
     "'input' is a keyword of the language and cannot name a node"),
    ("keyword name", P + "y = -x\nstage_ = -y\noutput = y", DSLSyntaxError, 5, 1,
     "'output' is a keyword of the language"),
    ("keyword used", P + "y = x + graph\noutput y", DSLSyntaxError, 3, 9,
     "'graph' is a keyword of the language and cannot be used as a value"),
    ("graph without name", "graph\ninput x", DSLSyntaxError, 1, 6, "'graph' needs the graph's name"),
    ("graph bad name", "graph 3\ninput x", DSLSyntaxError, 1, 7, "a graph name is a name or a quoted string"),
    ("graph late", "input x\ngraph g\n", DSLSyntaxError, 2, 7,
     "'graph NAME' must come before every other statement"),
    ("graph twice", "graph g\ngraph h\n", DSLSyntaxError, 2, 7, "the graph is already named on line 1"),
    ("input without name", "input\n", DSLSyntaxError, 1, 6, "'input' needs an input name"),
    ("input expression", "input x + 1\n", DSLSyntaxError, 1, 7, "expected input NAME, input NAME[dims]"),
    ("input bad dim", "input x[N, 1.5]\n", DSLSyntaxError, 1, 12, "a shape holds symbol names and sizes"),
    ("input negative dim", "input x[-1]\n", DSLSyntaxError, 1, 9, "a shape holds symbol names"),
    ("input underscore dim", "input x[_N]\n", DSLNotAllowedError, 1, 9, "names starting with '_'"),
    ("input node default", "input z\ninput x = z\n", DSLSyntaxError, 2, 11,
     "an input's default must be a number, not the name 'z'"),
    ("input string default", 'input x = "a"\n', DSLSyntaxError, 1, 11,
     "an input's default must be a number, not the str 'a'"),
    ("output nothing", P + "output\n", DSLSyntaxError, 3, 7, "'output' needs one or more node names"),
    ("output undefined", P + "output y\n", DSLNameError, 3, 8, "undefined name 'y'"),
    ("output misspelled", P + "yy = -x\noutput yy, y\n", DSLNameError, 4, 12,
     "undefined name 'y' (did you mean 'yy'?)"),
    ("output expression", P + "output x + z\n", DSLSyntaxError, 3, 8, "output takes node names"),
    ("output twice", P + "output x\noutput z, x\n", DSLSyntaxError, 4, 11, "'x' is already an output"),
    ("no output", P + "y = -x\n", DSLSyntaxError, 3, 1, "the graph has no output"),
    ("empty text", "", DSLSyntaxError, 1, 1, "the graph has no output"),
    ("stage without label", P + "stage:\n  y = -x\n", DSLSyntaxError, 3, 6,
     'a stage needs a quoted label: stage "LABEL":'),
    ("stage unquoted", P + "stage one:\n  y = -x\n", DSLSyntaxError, 3, 7, "a stage needs a quoted label"),
    ("stage without colon", P + 'stage "a"\n  y = -x\n', DSLSyntaxError, 3, 10,
     "expected ':' after the stage label 'a'"),
    ("stage empty label", P + 'stage "":\n  y = -x\n', DSLSyntaxError, 3, 7, "a stage label cannot be empty"),
    ("stage bad escape", P + 'stage "\\N{nope}":\n  y = -x\n', DSLSyntaxError, 3, 7,
     "the stage label is not a valid string"),
    ("stage f-string", P + 'stage f"a":\n  y = -x\n', DSLSyntaxError, 3, 7, "a stage needs a quoted label"),
    ("empty stage", P + 'stage "a":\noutput x\n', DSLSyntaxError, 3, 1,
     "stage 'a' has an empty block"),
    ("empty stage at end", P + 'output x\nstage "a":  # nothing\n', DSLSyntaxError, 4, 1,
     "stage 'a' has an empty block"),
    ("stray indent", P + "  y = -x\noutput y\n", DSLSyntaxError, 3, 1,
     "unexpected indentation: only the statements of a stage block are indented"),
    ("indent after inline", P + 'stage "a": y = -x\n  w = -y\noutput w\n', DSLSyntaxError, 4, 1,
     "stage 'a' on line 3 already has its statement on the same line"),
    ("mixed indent", P + 'stage "a":\n    y = -x\n  w = -y\noutput w\n', DSLSyntaxError, 5, 1,
     "inconsistent indentation in stage 'a': its block is indented with 4 space(s), "
     "this line with 2 space(s)"),
    ("stage in block", P + 'stage "a":\n  stage "b":\n', DSLSyntaxError, 4, 3,
     "'stage' is not allowed inside a stage block"),
    ("output in block", P + 'stage "a":\n  output x\n', DSLSyntaxError, 4, 3,
     "'output' is not allowed inside a stage block"),
    ("inline output", P + 'stage "a": output x\n', DSLSyntaxError, 3, 12,
     "'output' is not allowed inside a stage block"),
    ("null byte", P + "y = -x\x00\noutput y", DSLSyntaxError, 3, 1, "null"),
]


@pytest.mark.parametrize(
    "text, cls, line, column, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_error_class_place_and_message(
    text: str, cls: type, line: int, column: int, message: str
) -> None:
    with pytest.raises(cls) as caught:
        bg.parse(text, filename="case.bng")
    error = caught.value
    assert (error.filename, error.line, error.column) == ("case.bng", line, column), error.one_line()
    assert message in error.msg
    assert isinstance(error, bg.BngraphError) and isinstance(error, DSLSyntaxError)


def test_the_message_shows_the_line_with_a_caret_under_the_column() -> None:
    with pytest.raises(DSLSyntaxError) as caught:
        bg.parse("input x\nstage \"1\":\n    mu = maen(x, axis=0)\noutput mu", "bn.bng")
    assert str(caught.value).splitlines() == [
        "bn.bng:3:10: unknown op 'maen' (did you mean 'mean'?); known ops: "
        + ", ".join(bg.ops.op_names()),
        "    mu = maen(x, axis=0)",
        "         ^",
    ]
    assert caught.value.one_line() == str(caught.value).splitlines()[0]
    assert "\n" not in caught.value.one_line()


def test_a_long_line_is_shown_as_a_window_around_the_column() -> None:
    line = "y = x" + " " * 5000 + "+ q"
    with pytest.raises(DSLNameError) as caught:
        bg.parse("input x\n" + line + "\noutput y")
    error = caught.value
    assert error.column == len(line)
    shown, caret = str(error).splitlines()[1:]
    assert len(shown) < 100 and shown.startswith("...")
    assert shown[caret.index("^")] == "q"


def test_tabs_keep_the_caret_under_the_column() -> None:
    with pytest.raises(DSLNameError) as caught:
        bg.parse('input x\nstage "s":\n\ty = -q\noutput y')
    shown, caret = str(caught.value).splitlines()[1:]
    assert caught.value.column == 7 and shown[caret.index("^")] == "q"


def test_errors_of_the_builder_keep_their_location() -> None:
    # a name that the builder's automatic naming also produced is fine; a duplicate input is not
    graph = bg.parse("input x\nw = sqrt(x) + 1\nsqrt_1 = -x\noutput w, sqrt_1")
    assert graph.names == ("x", "sqrt_2", "w", "sqrt_1")


def test_load_reports_the_path(tmp_path) -> None:
    path = tmp_path / "bad.bng"
    path.write_text("input x\ny = x.T\noutput y\n")
    with pytest.raises(DSLNotAllowedError) as caught:
        bg.load(path)
    assert caught.value.one_line() == f"{path}:2:5: attribute access (a.b) is not allowed"


def test_a_file_that_is_not_utf8_is_an_error(tmp_path) -> None:
    path = tmp_path / "latin.bng"
    path.write_bytes("input \xe9\n".encode("latin-1"))
    with pytest.raises(DSLSyntaxError, match="not UTF-8"):
        bg.load(path)
