"""The project documents itself: its pages run as written and point only inside it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT_FILES = [
    path for folder in ("bngraph", "tests", "benchmarks", "scripts", "docs")
    for path in (ROOT / folder).rglob("*") if path.suffix in {".py", ".md", ".bng", ".sh", ".txt"}
] + [ROOT / "README.md", ROOT / "Makefile", ROOT / "pyproject.toml"]
DOC_BLOCKS = [(page.name, block) for page in PAGES if page.parent.name == "docs"
              for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.DOTALL)]


def test_there_is_a_batchnorm_page_and_the_readme_links_it() -> None:
    assert (ROOT / "docs" / "batchnorm.md").is_file()
    assert "(docs/batchnorm.md)" in (ROOT / "README.md").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
        if re.match(r"[a-z]+://", target):
            continue
        resolved = (page.parent / target).resolve()
        assert resolved.exists(), f"{page.name} links {target}, which does not exist"
        assert resolved.is_relative_to(ROOT), f"{page.name} links {target}, outside the project"


def test_nothing_points_to_documents_outside_the_project() -> None:
    """The demo and bngraph.reference sent readers to a design page that is not shipped."""
    outside = re.compile(r"DESIGN" + r"\.md|design notes|/work/|\.\./shared")
    found = [f"{path.relative_to(ROOT)}:{n}" for path in TEXT_FILES
             if path.is_file() and path != Path(__file__).resolve()
             for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
             if outside.search(line)]
    assert found == []


def test_the_demo_names_the_page_of_its_closed_form() -> None:
    import io

    from bngraph.demo import run_demo

    out = io.StringIO()
    run_demo(out, folder=None)
    assert "against the closed form (docs/batchnorm.md):" in out.getvalue()


@pytest.mark.parametrize("index", range(len(DOC_BLOCKS)))
def test_the_docs_examples_run(index: int, tmp_path: Path) -> None:
    name, block = DOC_BLOCKS[index]
    script = tmp_path / f"{Path(name).stem}_{index}.py"
    script.write_text(block)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
