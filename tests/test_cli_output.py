"""What the command line writes: the file it says it wrote, standard JSON, and stderr
that stays one line per note when numpy warns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import assert_one_line_error, main_cli, run_cli


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_reports_the_path_it_wrote(folder, capsys) -> None:
    """-o result wrote result.npz and reported result."""
    result = main_cli(capsys, "run", "batchnorm", "-o", "result")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("wrote result.npz")
    assert (folder / "result.npz").is_file() and not (folder / "result").exists()
    as_json = main_cli(capsys, "run", "batchnorm", "-o", "again", "--json")
    assert json.loads(as_json.stdout)["file"] == "again.npz" and (folder / "again.npz").is_file()
    with np.load(folder / "result.npz") as saved:
        assert sorted(saved.files) == ["grad_beta", "grad_eps", "grad_gamma", "grad_x", "out"]


@pytest.mark.parametrize("target", ["pictures", "pictures/", "made/"])
def test_run_refuses_a_directory_for_its_output(folder, capsys, target) -> None:
    """-o DIR wrote DIR.npz beside the directory and exited 0."""
    (folder / "pictures").mkdir()
    result = main_cli(capsys, "run", "batchnorm", "-o", target)
    assert_one_line_error(result, 2,
                          f"-o {target}: is a directory; name the file to write, e.g. -o ")
    assert sorted(p.name for p in folder.iterdir()) == ["pictures"]


def _stderr_lines(result, command: str) -> list[str]:
    """stderr's lines, each checked to be one of bngraph's own."""
    lines = result.stderr.strip().splitlines()
    for line in lines:
        assert line.startswith(f"bngraph {command}: "), result.stderr
    assert "Warning:" not in result.stderr and "return " not in result.stderr, result.stderr
    return lines


def test_numpys_warnings_on_an_empty_batch_become_one_line_notes(folder) -> None:
    """An empty batch printed three lines, one of them a quoted line of bngraph's source."""
    np.savez(folder / "empty.npz", x=np.zeros((0, 4)), gamma=np.ones(4), beta=np.zeros(4))
    run = run_cli("run", "batchnorm", "--inputs", "empty.npz", cwd=folder)
    lines = _stderr_lines(run, "run")
    assert len(lines) <= 2  # where the inputs came from, and numpy's warnings in one line
    if run.returncode == 0:  # (or an error that refuses the empty batch: one line, above)
        assert any("warning: invalid value encountered" in line for line in lines), lines
    check = run_cli("check", "batchnorm", "--inputs", "empty.npz", cwd=folder)
    assert check.returncode != 0 and len(_stderr_lines(check, "check")) == 1  # the error alone
    quiet = run_cli("run", "batchnorm", "--inputs", "empty.npz", "--quiet", cwd=folder)
    assert quiet.returncode != 0 or quiet.stderr == ""


def test_complex_input_gives_no_python_warning_lines(folder) -> None:
    """Complex input printed six lines of ComplexWarning with the source lines that raised it."""
    np.savez(folder / "complex.npz", x=np.arange(20.0).reshape(5, 4) + 1j, gamma=np.ones(4),
             beta=np.zeros(4))
    run = run_cli("run", "batchnorm", "--inputs", "complex.npz", cwd=folder)
    assert len(_stderr_lines(run, "run")) <= 2
    if run.returncode == 0:  # bngraph's own summary does not pretend complex numbers are ordered
        assert "(complex)" in run.stdout
    check = run_cli("check", "batchnorm", "--inputs", "complex.npz", cwd=folder)
    lines = _stderr_lines(check, "check")
    assert len(lines) <= 2
    if check.returncode in (0, 1):
        assert any("discards the imaginary part (ComplexWarning)" in line for line in lines), lines


def test_compare_says_when_the_outputs_differ_in_shape(folder, capsys) -> None:
    """It printed `inf inf inf () nan nan NO`."""
    (folder / "summed.bng").write_text("graph summed\ninput x[N]\ny = sum(x)\noutput y\n")
    (folder / "doubled.bng").write_text("graph doubled\ninput x[N]\ny = x * 2\noutput y\n")
    result = main_cli(capsys, "compare", "summed.bng", "doubled.bng", "--dim", "N=3")
    assert result.returncode == 1
    said = "output 'y': the shapes differ, () in 'summed' against (3,) in 'doubled'"
    assert said in result.stdout
    assert "inf" not in result.stdout and "nan" not in result.stdout
    as_json = main_cli(capsys, "compare", "summed.bng", "doubled.bng", "--dim", "N=3", "--json")
    row = json.loads(as_json.stdout)["rows"][0]  # standard JSON: no Infinity, no NaN
    assert (row["first_shape"], row["second_shape"], row["max_abs"]) == ([], [3], None)


def test_json_stays_standard_when_values_are_not_finite(folder, capsys) -> None:
    (folder / "log.bng").write_text("graph logs\ninput x[N]\ny = log(x)\noutput y\n")
    np.save(folder / "x.npy", np.array([1.0, -1.0]))
    result = main_cli(capsys, "run", "log.bng", "--input", "x=x.npy", "--json")
    assert result.returncode == 0, result.stderr
    assert "NaN" not in result.stdout and json.loads(result.stdout)["outputs"]["y"]["max"] is None
    last = _stderr_lines(result, "run")[-1]
    assert "the output y holds NaN" in last and "node 'y' (op log)" in last
    assert last.endswith("(NonFiniteWarning)") and "RuntimeWarning" not in last
