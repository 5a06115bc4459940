"""`make install` and the interpreter: checked with stand-in interpreters, so that nothing
is really installed. A stand-in answers the version query, makes a "virtual environment"
of stand-ins, and logs every call (pip's included)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

STAND_IN = """#!/bin/sh
echo "$(basename "$0") $*" >> "$LOG"
case "$1" in
    -c) echo "{version} $(readlink -f "$0")" ;;
    -m) if [ "$2" = venv ]; then
            mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && echo "home = stand-in" > "$3/pyvenv.cfg"
        fi ;;
esac
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the Makefile and its scripts, and stand-ins for four interpreters."""
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "scripts", tmp_path / "scripts")
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    stand_ins = [("python3.10", "3.10.4"), ("python3.12", "3.12.1"), ("python3.13", "3.13.0"),
                 ("python3.12-too", "3.12.1")]
    for name, version in stand_ins:
        (bin_dir / name).write_text(STAND_IN.format(version=version))
        (bin_dir / name).chmod(0o755)
    return tmp_path


def make(project: Path, python: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """``make install PYTHON=python``; the result and the calls the stand-ins logged."""
    log = project / "calls.log"
    log.write_text("")
    env = {**os.environ, "LOG": str(log), "PATH": f"{project / 'fake-bin'}:{os.environ['PATH']}"}
    env.pop("MAKEFLAGS", None)
    result = subprocess.run(["make", "--no-print-directory", "install", f"PYTHON={python}"],
                            cwd=project, env=env, capture_output=True, text=True, timeout=60)
    return result, log.read_text().splitlines()


def test_an_interpreter_that_is_not_installed_is_named(project: Path) -> None:
    """It said 'needs Python 3.11 or newer' for an interpreter that is simply missing."""
    result, calls = make(project, "python3.99")
    assert result.returncode != 0
    assert "python3.99 not found" in result.stderr and "3.11 or newer" in result.stderr
    assert "needs Python" not in result.stderr and not (project / ".venv").exists()


def test_an_interpreter_that_is_too_old_is_refused(project: Path) -> None:
    result, calls = make(project, "python3.10")
    assert result.returncode != 0
    assert "bngraph needs Python 3.11 or newer; python3.10 is 3.10.4" in result.stderr
    assert not (project / ".venv").exists()


def test_the_environment_is_rebuilt_when_the_interpreter_changes(project: Path) -> None:
    """`make test PYTHON=python3.12` silently reused a .venv made by another interpreter."""
    first, calls = make(project, "python3.12")
    assert first.returncode == 0, first.stderr
    assert "python3.12 -m venv .venv" in calls and any("-m pip install" in c for c in calls)
    record = (project / ".venv" / ".bngraph-python").read_text()
    assert record.startswith("3.12.1 ") and record.rstrip().endswith("fake-bin/python3.12")

    again, calls = make(project, "python3.12")
    assert again.returncode == 0 and not any("venv" in c or "pip" in c for c in calls), calls

    other, calls = make(project, "python3.13")
    assert other.returncode == 0, other.stderr
    assert "Rebuilding .venv for python3.13 (3.13.0): it was made by 3.12.1" in other.stdout
    assert "python3.13 -m venv .venv" in calls and any("-m pip install" in c for c in calls)
    assert (project / ".venv" / ".bngraph-python").read_text().startswith("3.13.0 ")

    same_version, calls = make(project, "python3.12-too")  # another file, another interpreter
    assert "Rebuilding .venv" in same_version.stdout and "python3.12-too -m venv .venv" in calls


def test_a_changed_pyproject_reinstalls_without_rebuilding(project: Path) -> None:
    make(project, "python3.12")
    stamp = project / ".venv" / ".bngraph-installed"
    os.utime(project / "pyproject.toml", (stamp.stat().st_mtime + 10,) * 2)
    result, calls = make(project, "python3.12")
    assert result.returncode == 0
    assert not any("-m venv" in c for c in calls) and any("-m pip install" in c for c in calls)


def test_an_environment_made_before_the_record_is_kept_for_the_same_version(project: Path) -> None:
    make(project, "python3.12")
    (project / ".venv" / ".bngraph-python").unlink()
    kept, calls = make(project, "python3.12")
    assert kept.returncode == 0 and not any("-m venv" in c for c in calls)
    assert (project / ".venv" / ".bngraph-python").read_text().startswith("3.12.1 ")
    (project / ".venv" / ".bngraph-python").unlink()
    rebuilt, calls = make(project, "python3.13")
    assert "python3.13 -m venv .venv" in calls
