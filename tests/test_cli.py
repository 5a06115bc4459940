"""The command line, end to end through the installed console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_run import assert_one_line_error, run_cli

from bngraph.reference import batchnorm_backward, batchnorm_forward

COMMANDS = ["demo", "list", "run", "render", "check", "compare"]


def test_python_dash_m_runs_the_same_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "bngraph", "--version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("bngraph ")


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = run_cli(command, "--help")
    assert result.returncode == 0
    assert "example: bngraph " + command in result.stdout


def test_no_command_prints_help_and_exits_2() -> None:
    result = run_cli()
    assert result.returncode == 2 and "COMMAND" in result.stdout


def test_list_shows_every_library_graph_with_description_and_inputs() -> None:
    import bngraph as bg

    result = run_cli("list")
    assert result.returncode == 0
    for name in bg.library.names():
        assert f"{name}\n    {bg.library.describe(name)}\n" in result.stdout
    assert "inputs: x[N, D], gamma[D], beta[D], eps = 1e-05" in result.stdout


def test_run_writes_outputs_and_gradients_that_match_the_closed_form(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    x, gamma, beta = rng.standard_normal((6, 3)), rng.standard_normal(3), rng.standard_normal(3)
    dout = rng.standard_normal((6, 3))
    np.savez(tmp_path / "in.npz", x=x, gamma=gamma, beta=beta)
    np.savez(tmp_path / "seed.npz", out=dout)
    result = run_cli("run", "batchnorm", "--inputs", "in.npz", "--set", "eps=0.01",
                     "--seed-grad", "seed.npz", "-o", "out.npz", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "wrote out.npz" in result.stdout
    saved = np.load(tmp_path / "out.npz")
    out, cache = batchnorm_forward(x, gamma, beta, 0.01)
    expected = batchnorm_backward(dout, cache)
    # float64 throughout: a few ulps apart; 1e-12 catches any real difference
    np.testing.assert_allclose(saved["out"], out, atol=1e-12, rtol=0)
    for name in ("x", "gamma", "beta", "eps"):
        np.testing.assert_allclose(saved[f"grad_{name}"], expected[name], atol=1e-12, rtol=0)


def test_run_with_random_inputs_and_json(tmp_path: Path) -> None:
    result = run_cli("run", "batchnorm", "--dim", "N=64", "--dim", "D=16", "--random-seed", "0",
                     "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["outputs"]["out"]["shape"] == [64, 16]
    assert report["gradients"]["gamma"]["shape"] == [16]
    assert abs(report["outputs"]["out"]["mean"]) < 1.0


def test_run_quiet_prints_nothing() -> None:
    result = run_cli("run", "batchnorm", "--quiet")
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""


def test_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = run_cli("run", "batchnorm", "--inputs", "nothing.npz", cwd=tmp_path)
    assert_one_line_error(result, 2, "no such file: nothing.npz")


def test_a_malformed_npz_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "bad.npz").write_bytes(b"this is not a zip archive")
    result = run_cli("run", "batchnorm", "--inputs", "bad.npz", cwd=tmp_path)
    assert_one_line_error(result, 2, "cannot read bad.npz")


def test_a_name_the_graph_does_not_have_is_one_line_and_exit_2(tmp_path: Path) -> None:
    np.savez(tmp_path / "in.npz", gama=np.ones(3))
    result = run_cli("run", "batchnorm", "--inputs", "in.npz", cwd=tmp_path)
    assert_one_line_error(result, 2, "no input 'gama'", "did you mean 'gamma'")


def test_a_shape_that_does_not_fit_is_one_line_and_exit_2(tmp_path: Path) -> None:
    np.save(tmp_path / "gamma.npy", np.ones(3))
    result = run_cli("run", "batchnorm", "--example", "--input", "gamma=gamma.npy", cwd=tmp_path)
    assert_one_line_error(result, 2, "input 'gamma' has shape (3,)", "D = 4")


def test_an_unknown_graph_is_one_line_and_exit_2() -> None:
    result = run_cli("run", "batchnrm")
    assert_one_line_error(result, 2, "'batchnrm' is neither a library graph",
                          "did you mean 'batchnorm'")


def test_a_bad_option_value_is_a_usage_error() -> None:
    assert_one_line_error(run_cli("run", "batchnorm", "--set", "eps=tiny"), 2, "not a number")
    assert_one_line_error(run_cli("run", "batchnorm", "--dim", "N"), 2, "expects NAME=VALUE")
    assert_one_line_error(run_cli("run", "batchnorm", "--view", "x"), 2, "unrecognized arguments")


def test_debug_shows_the_traceback() -> None:
    result = run_cli("--debug", "run", "batchnrm")
    assert result.returncode != 0 and "Traceback" in result.stderr


BAD_RELU = """\
# relu has no derivative at 0: central differences see 1/2 there, the rule 0
graph kink
input x[N]
stage "1 kink": y = relu(x)
output y
"""

DOUBLE = "graph twice\ninput x[N]\ny = x * 2\noutput y\n"
TRIPLE = "graph thrice\ninput x[N]\ny = x * 3\noutput y\n"


@pytest.mark.dot
def test_render_draws_a_library_graph_with_its_example(tmp_path: Path) -> None:
    result = run_cli("render", "batchnorm", "--example", "--view", "backward", "-o", "bn.svg",
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    svg = (tmp_path / "bn.svg").read_text()
    assert svg.startswith("<?xml") and "xmu" in svg and "grad" in svg


@pytest.mark.dot
def test_render_without_inputs_draws_the_structure_and_names_the_file(tmp_path: Path) -> None:
    result = run_cli("render", "layernorm", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "wrote layernorm_forward.svg"
    assert (tmp_path / "layernorm_forward.svg").exists()


def test_render_to_dot_needs_no_run(tmp_path: Path) -> None:
    result = run_cli("render", "batchnorm", "-o", "bn.dot", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "bn.dot").read_text().startswith("digraph")


def test_check_passes_on_a_library_graph_with_its_closed_form() -> None:
    result = run_cli("check", "groupnorm")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "gradcheck of graph 'groupnorm' passed" in result.stdout
    assert "'closed form' agree" in result.stdout
    assert result.stdout.rstrip().endswith("groupnorm: check passed")


def test_check_fails_with_exit_1_and_a_table(tmp_path: Path) -> None:
    (tmp_path / "kink.bng").write_text(BAD_RELU)
    np.save(tmp_path / "x.npy", np.array([-1.0, 0.0, 2.0]))
    result = run_cli("check", "kink.bng", "--input", "x=x.npy", cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "CHECK FAILED" in result.stdout and "(1,)" in result.stdout  # the worst index
    json_result = run_cli("check", "kink.bng", "--input", "x=x.npy", "--json", cwd=tmp_path)
    assert json_result.returncode == 1 and json.loads(json_result.stdout)["ok"] is False


def test_compare_agrees_and_reports_in_json() -> None:
    result = run_cli("compare", "batchnorm", "batchnorm_composite", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] is True


def test_compare_exits_1_when_graphs_differ(tmp_path: Path) -> None:
    (tmp_path / "twice.bng").write_text(DOUBLE)
    (tmp_path / "thrice.bng").write_text(TRIPLE)
    result = run_cli("compare", "twice.bng", "thrice.bng", "--dim", "N=4", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "differ" in result.stdout
    assert run_cli("compare", "twice.bng", "thrice.bng", "--dim", "N=4", "--quiet",
                   cwd=tmp_path).stdout == ""


def test_a_bng_error_is_one_line_with_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.bng").write_text("graph bad\ninput x\ny = x.real\noutput y\n")
    result = run_cli("run", "bad.bng", "--set", "x=1", cwd=tmp_path)
    assert_one_line_error(result, 2, "bad.bng:3:5:", "attribute access")


def test_a_missing_bng_file_is_one_line() -> None:
    assert_one_line_error(run_cli("check", "nowhere.bng"), 2, "no such file: nowhere.bng")


@pytest.mark.dot
def test_demo_tells_the_whole_story_and_writes_its_files(tmp_path: Path) -> None:
    result = run_cli("demo", "--out", "pictures", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for stage in ("1 mean", "2 center", "3 square", "4 variance", "5 std", "6 invert",
                  "7 normalize", "8 scale", "9 shift"):
        assert f"\n{stage}\n" in out
    for node in ("mu", "xmu", "sq", "var", "sqrtvar", "ivar", "xhat", "gammax", "out"):
        assert f"\n  {node}  [" in out
    assert "agrees (tolerance 1e-12)" in out
    assert "gradcheck of graph 'batchnorm' passed" in out
    assert "graphs 'batchnorm' and 'batchnorm_composite' agree" in out
    assert "graphs 'notebook' and 'batchnorm_composite' DIFFER" in out
    assert "they first part at node 'gamma_x_norm'" in out
    assert "xmu, x_norm, gamma_x_norm" in out and "both bugs caught" in out
    assert out.rstrip().endswith("every check holds.")
    for name in ("batchnorm_forward.svg", "batchnorm_backward.svg", "player/index.html"):
        assert (tmp_path / "pictures" / name).is_file(), name
        assert f"pictures/{name}" in out


def test_a_single_npy_given_as_inputs_is_read_by_its_name(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.arange(12.0).reshape(4, 3))
    result = run_cli("run", "batchnorm", "--inputs", "x.npy", "--set", "gamma=1", "--set", "beta=0",
                     "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["outputs"]["out"]["shape"] == [4, 3]


def test_an_output_file_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    result = run_cli("run", "batchnorm", "-o", "missing/folder/out.npz", cwd=tmp_path)
    assert_one_line_error(result, 2, "No such file or directory")
