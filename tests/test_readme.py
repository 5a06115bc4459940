"""The README's Python examples run as written (each block as a script of its own)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)


def test_the_readme_has_python_examples() -> None:
    assert len(BLOCKS) >= 2


@pytest.mark.dot  # the drawing example renders SVG
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index: int, tmp_path: Path) -> None:
    script = tmp_path / f"example_{index}.py"
    script.write_text(BLOCKS[index])
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr


def _without_bngraph(path: str) -> str:
    """PATH without any folder that holds a ``bngraph`` command: a fresh shell's."""
    return os.pathsep.join(d for d in path.split(os.pathsep) if not (Path(d) / "bngraph").exists())


@pytest.mark.dot  # the tour renders an SVG
def test_the_quick_tour_works_as_written_after_make(tmp_path: Path) -> None:
    """Run in the project folder by someone who has just run `make demo` or `make test`:
    `bngraph` is in .venv/bin, not on PATH, until the tour activates the environment."""
    tour = re.search(r"### Quick tour\n\n.*?```sh\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert tour, "the README has a quick tour"
    activate = Path(sys.prefix) / "bin" / "activate"
    assert activate.is_file(), "the tests run from the .venv that make test creates"
    folder = tmp_path / "bngraph"  # stands for the project folder: its .venv is this one
    folder.mkdir()
    (folder / ".venv").symlink_to(sys.prefix)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {key: value for key, value in os.environ.items() if key != "VIRTUAL_ENV"}
    env.update(PATH=_without_bngraph(os.environ["PATH"]), TMPDIR=str(scratch))
    assert subprocess.run(["bash", "-c", "command -v bngraph"], env=env).returncode != 0
    result = subprocess.run(["bash", "-e", "-c", tour.group(1)], capture_output=True, text=True,
                            cwd=folder, env=env, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    written = {path.name for path in scratch.rglob("*")}
    assert {"batchnorm_backward.svg", "scaled_tanh.bng", "run.npz"} <= written
    assert "scaled_tanh: check passed" in result.stdout
    assert "graphs 'batchnorm' and 'batchnorm_composite' agree" in result.stdout
    assert sorted(p.name for p in folder.iterdir()) == [".venv"]  # nothing written in the project
