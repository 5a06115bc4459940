"""The command line, end to end through the installed console script."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bngraph.reference import batchnorm_backward, batchnorm_forward

COMMANDS = ["demo", "list", "run", "render", "check", "compare"]


def bngraph_command() -> list[str]:
    """The installed ``bngraph`` script next to this interpreter (the package's entry point)."""
    script = Path(sys.executable).with_name("bngraph")
    found = str(script) if script.exists() else shutil.which("bngraph")
    assert found, "the bngraph console script is not installed (run make test)"
    return [found]


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*bngraph_command(), *args], capture_output=True, text=True,
                          timeout=300, cwd=cwd)


def assert_one_line_error(result: subprocess.CompletedProcess[str], code: int, *parts: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for part in parts:
        assert part in lines[0], lines[0]


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
    result = run_cli("run", "batchnorm", "--input", "gamma=gamma.npy", cwd=tmp_path)
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
