"""Ops of your own everywhere: --plugin MODULE on the command line (a module name or a
.py file, repeatable), and the entry point group bngraph.ops that the command line
and bg.load load."""

from __future__ import annotations

import importlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from cli_run import assert_one_line_error, bngraph_command

import bngraph as bg
from bngraph.errors import PluginError
from bngraph.plugins import ENTRY_POINT_GROUP, import_plugin, load_entry_points

PLUGIN = '''
import numpy as np
import bngraph as bg

@bg.op(vjps=[lambda g, out, x: g * out * (1 - out)], saves=["out"])
def {name}(x):
    """The logistic function."""
    return 1 / (1 + np.exp(-x))
'''

GRAPH = "graph gate\ninput x[N]\ny = {name}(x)\noutput y\n"


def _write(folder: Path, module: str, op: str) -> Path:
    (folder / f"{module}.py").write_text(PLUGIN.format(name=op))
    path = folder / f"{op}.bng"
    path.write_text(GRAPH.format(name=op))
    return path


def _run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([*bngraph_command(), *args], capture_output=True, text=True,
                          timeout=300, cwd=folder, env=env)


def test_without_the_plugin_the_op_is_unknown(tmp_path: Path) -> None:
    _write(tmp_path, "plugin_one_ops", "plugin_one_sigmoid")
    result = _run(tmp_path, "check", "plugin_one_sigmoid.bng", "--dim", "N=4")
    assert_one_line_error(result, 2, "unknown op 'plugin_one_sigmoid'")


@pytest.mark.parametrize("spelling", ["plugin_two_ops", "plugin_two_ops.py"])
def test_plugin_by_module_name_in_the_current_folder_or_by_file(tmp_path: Path, spelling) -> None:
    _write(tmp_path, "plugin_two_ops", "plugin_two_sigmoid")
    result = _run(tmp_path, "check", "plugin_two_sigmoid.bng", "--dim", "N=4",
                  "--plugin", spelling)
    assert result.returncode == 0, result.stderr
    assert "check passed" in result.stdout


def test_plugin_is_repeatable_for_every_command(tmp_path: Path) -> None:
    _write(tmp_path, "plugin_three_a", "plugin_three_f")
    (tmp_path / "plugin_three_b.py").write_text(PLUGIN.format(name="plugin_three_g"))
    (tmp_path / "both.bng").write_text(
        "graph both\ninput x[N]\ny = plugin_three_f(x)\nz = plugin_three_g(y)\noutput z\n")
    plugins = ["--plugin", "plugin_three_a", "--plugin", "plugin_three_b"]
    for command in (["run", "both.bng", "--dim", "N=3"], ["check", "both.bng", "--dim", "N=3"],
                    ["render", "both.bng", "-o", "both.dot"]):
        result = _run(tmp_path, *command, *plugins)
        assert result.returncode == 0, (command, result.stderr)


def test_a_plugin_that_fails_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "plugin_broken.py").write_text("raise RuntimeError('no luck')\n")
    result = _run(tmp_path, "list", "--plugin", "plugin_broken")
    assert_one_line_error(result, 2, "plugin 'plugin_broken' could not be imported",
                          "RuntimeError: no luck")
    result = _run(tmp_path, "list", "--plugin", "missing_plugin_module")
    assert_one_line_error(result, 2, "No module named 'missing_plugin_module'")
    with pytest.raises(PluginError, match="no such file"):
        import_plugin(str(tmp_path / "nowhere.py"))


def _distribution(folder: Path, name: str, entry: str) -> None:
    info = folder / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{entry}\n")


def test_an_entry_point_module_is_loaded_by_bg_load(tmp_path: Path, monkeypatch) -> None:
    path = _write(tmp_path, "plugin_entry_ops", "plugin_entry_sigmoid")
    _distribution(tmp_path, "plugin_entry", "gates = plugin_entry_ops")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert "plugin_entry_sigmoid" not in bg.ops.op_names()
    g = bg.load(path)
    assert g.forward(x=np.zeros(2)).outputs["y"].tolist() == [0.5, 0.5]
    assert load_entry_points() == []  # each entry point is loaded once


def test_an_entry_point_function_is_called_and_the_command_line_loads_it(tmp_path: Path) -> None:
    (tmp_path / "plugin_entry_fn.py").write_text(
        "import bngraph as bg\n"
        "def register():\n"
        "    bg.define_op('plugin_entry_double', lambda x: 2 * x, vjps=[lambda g, out, x: 2 * g])\n")
    _distribution(tmp_path, "plugin_fn", "double = plugin_entry_fn:register")
    (tmp_path / "double.bng").write_text("input x[N]\ny = plugin_entry_double(x)\noutput y\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run([*bngraph_command(), "check", "double.bng", "--dim", "N=2", "--quiet"],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr


def test_a_broken_entry_point_names_itself(tmp_path: Path, monkeypatch) -> None:
    _distribution(tmp_path, "plugin_bad", "bad = plugin_no_such_module")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    with pytest.raises(PluginError, match=r"entry point 'bad' \(plugin_no_such_module\)"):
        load_entry_points()
