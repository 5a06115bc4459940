"""Graph files: save and load by suffix."""

from __future__ import annotations

from pathlib import Path

import pytest

import bngraph as bg
from bngraph.dsl import GraphFileError, differences


@pytest.mark.parametrize("suffix", [".bng", ".json", ".BNG"])
def test_save_and_load_round_trip(tmp_path: Path, suffix: str) -> None:
    graph = bg.library.get("batchnorm")
    path = tmp_path / f"bn{suffix}"
    graph.save(path)
    assert differences(graph, bg.load(path)) == []
    expected = graph.to_json() if suffix == ".json" else graph.to_dsl()
    assert path.read_text(encoding="utf-8") == expected


def test_save_writes_utf8(tmp_path: Path) -> None:
    graph = bg.parse('graph "é"\ninput x\nstage "√": y = -x\noutput y')
    graph.save(tmp_path / "u.bng")
    assert 'stage "√":' in (tmp_path / "u.bng").read_bytes().decode("utf-8")
    assert bg.load(tmp_path / "u.bng").spec("y").stage == "√"


@pytest.mark.parametrize("name", ["graph.txt", "graph"])
def test_an_unknown_suffix_is_an_error_that_lists_the_formats(tmp_path: Path, name: str) -> None:
    graph = bg.library.get("batchnorm")
    with pytest.raises(GraphFileError, match=r"graph files end in \.bng or \.json"):
        graph.save(tmp_path / name)
    with pytest.raises(GraphFileError, match="unknown graph file suffix"):
        bg.load(tmp_path / name)


def test_a_missing_file_is_the_usual_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        bg.load(tmp_path / "missing.bng")
