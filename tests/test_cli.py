"""The command line, end to end through the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def bngraph_command() -> list[str]:
    """The installed ``bngraph`` script next to this interpreter (the package's entry point)."""
    script = Path(sys.executable).with_name("bngraph")
    found = str(script) if script.exists() else shutil.which("bngraph")
    assert found, "the bngraph console script is not installed (run make test)"
    return [found]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*bngraph_command(), *args], capture_output=True, text=True,
                          timeout=120)


def test_demo_prints_every_stage_and_the_closed_form_check() -> None:
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for stage in ("1 mean", "2 center", "3 square", "4 variance", "5 std", "6 invert",
                  "7 normalize", "8 scale", "9 shift"):
        assert f"\n{stage}\n" in out
    for node in ("mu", "xmu", "sq", "var", "sqrtvar", "ivar", "xhat", "gammax", "out"):
        assert f"\n  {node}  [" in out
    assert "bngraph agrees with the closed form" in out
    assert "Traceback" not in result.stderr


def test_python_dash_m_runs_the_same_command_line() -> None:
    result = subprocess.run([sys.executable, "-m", "bngraph", "--version"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("bngraph ")
