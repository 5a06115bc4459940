"""Where the command line's inputs come from: given, default, example or random, and said so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import assert_one_line_error, main_cli

from bngraph.reference import batchnorm_forward

X = np.arange(12.0).reshape(4, 3)
EXAMPLE_X = np.arange(20.0).reshape(5, 4)  # bg.library.example("batchnorm"): gamma 2, beta 1


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    np.savez(tmp_path / "x_only.npz", x=X)
    return tmp_path


def notes(result) -> list[str]:
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(f"bngraph {result.args[1]}: ") for line in lines), result.stderr
    return [line.split(": ", 1)[1] for line in lines]


def written(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "out.npz") as saved:
        return {name: saved[name] for name in saved.files}


def test_missing_inputs_are_not_filled_from_the_example_unasked(folder, capsys) -> None:
    """It ran with gamma = 2, beta = 1 and eps = 0.1 from the example, without a word."""
    result = main_cli(capsys, "run", "batchnorm", "--inputs", "x_only.npz")
    assert_one_line_error(result, 2, "missing input(s) 'gamma', 'beta'", "--example",
                          "--dim SYMBOL=SIZE")


def test_with_example_the_declared_default_wins_and_stderr_says_where_each_came_from(
    folder: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    result = main_cli(capsys, "run", "batchnorm", "--inputs", "x_only.npz", "--example",
                      "-o", "out.npz")
    assert result.returncode == 0, result.stderr
    assert notes(result) == ["inputs: x given (x_only.npz); gamma, beta from the example of "
                             "'batchnorm'; eps = 1e-05 by default"]
    expected, _ = batchnorm_forward(X, 2.0, 1.0, 1e-5)  # eps: its default, not the example's 0.1
    np.testing.assert_allclose(written(folder)["out"], expected, rtol=0, atol=1e-12)


def test_no_input_at_all_takes_the_example_but_not_over_a_default(folder, capsys) -> None:
    result = main_cli(capsys, "run", "batchnorm", "-o", "out.npz")
    assert result.returncode == 0, result.stderr
    assert notes(result) == ["inputs: x, gamma, beta from the example of 'batchnorm'; "
                             "eps = 1e-05 by default"]
    expected, _ = batchnorm_forward(EXAMPLE_X, 2.0, 1.0, 1e-5)
    # float64, the same operations in the same order: a few ulps of values of order 3
    np.testing.assert_allclose(written(folder)["out"], expected, rtol=0, atol=1e-12)


def test_given_values_win_and_random_draws_fill_the_rest(folder, capsys) -> None:
    np.save(folder / "x.npy", X)
    result = main_cli(capsys, "run", "batchnorm", "--input", "x=x.npy", "--set", "eps=0.5",
                      "--random-seed", "3", "--json")
    assert result.returncode == 0, result.stderr
    assert notes(result) == [
        "inputs: x given (x.npy); gamma, beta random (seed 3); eps given (--set)"]
    assert json.loads(result.stdout)["inputs"] == {
        "x": "given (x.npy)", "gamma": "random (seed 3)", "beta": "random (seed 3)",
        "eps": "given (--set)"}
    assert json.loads(result.stdout)["gradients"]["gamma"]["shape"] == [3]  # D bound by x


def test_quiet_says_nothing_on_stderr(folder, capsys) -> None:
    result = main_cli(capsys, "run", "batchnorm", "--inputs", "x_only.npz", "--example", "--quiet")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_check_says_where_its_inputs_came_from(folder, capsys) -> None:
    result = main_cli(capsys, "check", "layernorm", "--dim", "N=3", "--dim", "D=4", "--fast")
    assert result.returncode == 0, result.stdout
    assert notes(result) == ["inputs: x, gamma, beta random (seed 0); eps = 1e-05 by default"]


def test_compare_gives_both_graphs_the_same_values_and_says_so(folder, capsys) -> None:
    (folder / "two.bng").write_text("graph two\ninput x[N]\ninput a = 2\ny = x * a\noutput y\n")
    (folder / "three.bng").write_text("graph three\ninput x[N]\ninput a = 3\ny = x * a\noutput y\n")
    result = main_cli(capsys, "compare", "two.bng", "three.bng", "--dim", "N=4")
    assert result.returncode == 0, result.stdout + result.stderr
    assert notes(result) == [
        "inputs: x random (seed 0); a = 2 by default",
        "both graphs get a = 2, the default of 'two' (in 'three' it is 3)",
    ]
    library = main_cli(capsys, "compare", "batchnorm", "batchnorm_composite", "--inputs",
                       "x_only.npz", "--example")
    assert library.returncode == 0, library.stdout
    assert notes(library) == ["inputs: x given (x_only.npz); gamma, beta from the example of "
                              "'batchnorm'; eps = 1e-05 by default"]


def test_render_with_the_example_keeps_the_declared_default(folder, capsys) -> None:
    result = main_cli(capsys, "render", "batchnorm", "--example", "-o", "bn.dot")
    assert result.returncode == 0, result.stderr
    assert notes(result) == ["inputs: x, gamma, beta from the example of 'batchnorm'; "
                             "eps = 1e-05 by default"]


@pytest.mark.parametrize(
    "args, message",
    [
        (["run", "batchnorm", "--example", "--dim", "N=3"],
         "--example and random inputs (--dim, --random-seed) exclude each other"),
        (["run", "kink.bng", "--example"], "graph 'kink' has no example inputs"),
        (["run", "kink.bng"], "graph 'kink': missing input(s) 'x'; give them with --inputs, "
         "--input or --set, draw them with --dim SYMBOL=SIZE (it expects x[N])"),
    ],
)
def test_example_misuse_is_one_line(folder, capsys, args, message) -> None:
    (folder / "kink.bng").write_text("graph kink\ninput x[N]\ny = relu(x)\noutput y\n")
    assert_one_line_error(main_cli(capsys, *args), 2, message)


# --dim names a symbol of the graph (item 3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dim", "Q=2", "--dim", "N=3", "--dim", "D=2"],
         "--dim Q: graph 'batchnorm' has no symbol 'Q'; its symbols: N, D (inputs x[N, D], "
         "gamma[D], beta[D], eps = 1e-05)"),
        (["--dim", "n=2"], "has no symbol 'n' (did you mean 'N'?); its symbols: N, D"),
        (["--inputs", "x_only.npz", "--dim", "N=5", "--dim", "D=3"],
         "--dim N=5, but input 'x' of shape (4, 3) gives N = 4"),
    ],
)
def test_a_dim_the_graph_does_not_have_is_refused(folder, capsys, args, message) -> None:
    """--dim Q=2 was silently ignored."""
    assert_one_line_error(main_cli(capsys, "run", "batchnorm", *args), 2, message)


def test_a_graph_without_symbols_says_so(folder, capsys) -> None:
    (folder / "plain.bng").write_text("graph plain\ninput x\ny = -x\noutput y\n")
    result = main_cli(capsys, "run", "plain.bng", "--dim", "N=3", "--set", "x=1")
    assert_one_line_error(result, 2, "has no symbol 'N'; it declares no symbolic dimension")


def test_a_constant_is_data_not_drawn_at_random(folder, capsys) -> None:
    dims = ["--dim", "N=8", "--dim", "D=3", "--dim", "H=4", "--dim", "K=5"]
    result = main_cli(capsys, "check", "mlp", *dims)
    assert result.returncode == 2
    assert "input 'labels' is a constant (labels, indices, a mask): data, not drawn" in (
        result.stderr)
    np.save(folder / "labels.npy", np.array([0, 4, 2, 1, 3, 3, 0, 2]))
    result = main_cli(capsys, "check", "mlp", *dims, "--input", "labels=labels.npy")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "labels given (labels.npy)" in result.stderr
