"""The committed pictures in renders/ match what the code draws now (regenerate: make renders)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import bngraph as bg
from bngraph.viz.library_pictures import (
    EXTRAS,
    VIEWS,
    example_run,
    extra_sources,
    screenshot,
    sources,
    write_renders,
)

RENDERS = Path(__file__).resolve().parent.parent / "renders"


@pytest.mark.parametrize("name", bg.library.names())
def test_committed_dot_sources_are_up_to_date(name: str) -> None:
    for file_name, text in sources(name).items():
        path = RENDERS / file_name
        assert path.exists(), f"{path.name} is missing: run `make renders` and commit renders/"
        assert path.read_text("utf-8") == text, (
            f"renders/{file_name} is stale: run `make renders` and commit renders/"
        )
        svg = path.with_suffix(".svg")
        assert svg.exists(), f"{svg.name} is missing: run `make renders` and commit renders/"
        ET.parse(svg)


def test_the_other_committed_pictures_are_up_to_date() -> None:
    for file_name, text in extra_sources().items():
        path = RENDERS / file_name
        assert path.exists(), f"{path.name} is missing: run `make renders` and commit renders/"
        assert path.read_text("utf-8") == text, (
            f"renders/{file_name} is stale: run `make renders` and commit renders/"
        )
        ET.parse(path.with_suffix(".svg"))


def expected_files() -> set[str]:
    stems = [f"{n}_{v}" for n in bg.library.names() for v in VIEWS] + list(EXTRAS)
    return {f"{stem}.{ext}" for stem in stems for ext in ("dot", "svg")}


def test_every_library_graph_has_its_views_and_nothing_else_is_left_over() -> None:
    committed = {p.name for p in RENDERS.iterdir() if p.suffix in (".dot", ".svg")}
    assert committed == expected_files()
    assert (RENDERS / "viewer.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_example_run_seeds_dout_with_out() -> None:
    run = example_run("batchnorm")
    inputs = bg.library.example("batchnorm")
    again = bg.library.get("batchnorm").forward(**inputs)
    grads = again.backward(again.outputs["out"])
    for name, grad in grads.items():
        assert (run.grad(name) == grad).all()


@pytest.mark.dot
def test_write_renders_writes_what_sources_says(tmp_path: Path) -> None:
    written = write_renders(tmp_path)
    assert {p.name for p in written} == expected_files()
    for name in bg.library.names():
        for file_name, text in sources(name).items():
            assert (tmp_path / file_name).read_text("utf-8") == text
    for file_name, text in extra_sources().items():
        assert (tmp_path / file_name).read_text("utf-8") == text


@pytest.mark.dot
def test_the_viewer_screenshot_is_a_1440_by_900_picture(tmp_path: Path) -> None:
    import struct

    shot = screenshot(tmp_path / "viewer.png")
    assert shot is not None, "chromium is missing: run `make test` (it installs it)"
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (1440, 900)
