"""Running the command line in tests: the installed script in a subprocess, or ``main``
in this process (faster, for the many one-line refusals)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bngraph.cli import main


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


def main_cli(capsys: pytest.CaptureFixture[str], *args: str) -> subprocess.CompletedProcess[str]:
    """``bngraph ARGS`` run in this process, as a ``CompletedProcess``."""
    try:
        code = main(list(args))
    except SystemExit as stop:  # argparse's usage errors and --help
        code = stop.code if isinstance(stop.code, int) else 2
    captured = capsys.readouterr()
    return subprocess.CompletedProcess(["bngraph", *args], code, captured.out, captured.err)
