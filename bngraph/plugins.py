"""Ops of your own, everywhere: modules that register ops, named on the command line
(``bngraph check my.bng --plugin my_ops``) or declared by installed packages in the
entry point group ``bngraph.ops``, which the command line and ``bg.load`` load.

An entry point names a module (importing it registers its ops) or a function of no
arguments that registers them::

    # pyproject.toml of a package of ops
    [project.entry-points."bngraph.ops"]
    my_ops = "my_package.ops"

>>> import_plugins(["bngraph.ops.unary"])      # already imported: nothing happens again
['bngraph.ops.unary']
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from types import ModuleType

from .errors import PluginError

__all__ = [
    "ENTRY_POINT_GROUP", "PluginError", "import_plugin", "import_plugins", "load_entry_points",
]

ENTRY_POINT_GROUP = "bngraph.ops"
"""The entry point group in which packages declare modules that register ops."""

_LOADED: set[str] = set()
_LOCK = threading.Lock()


def _from_file(path: Path) -> ModuleType:
    name = f"bngraph_plugin_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"plugin {str(path)!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def import_plugin(name: str) -> ModuleType:
    """Import the module ``name`` (a dotted name, looked up in the current folder too,
    or a path to a ``.py`` file) so that the ops it defines are registered."""
    try:
        if name.endswith(".py") or "/" in name or "\\" in name:
            path = Path(name)
            if not path.is_file():
                raise PluginError(f"plugin {name!r}: no such file")
            return _from_file(path.resolve())
        if "" not in sys.path and str(Path.cwd()) not in sys.path:
            sys.path.insert(0, str(Path.cwd()))  # as `python -m` would find it
        return importlib.import_module(name)
    except PluginError:
        raise
    except Exception as error:  # noqa: BLE001 - any failure of the plugin's own code
        raise PluginError(
            f"plugin {name!r} could not be imported: {type(error).__name__}: {error}"
        ) from error


def import_plugins(names: Iterable[str]) -> list[str]:
    """Import every module of ``names`` in order; return their names."""
    names = list(names)
    for name in names:
        import_plugin(name)
    return names


def load_entry_points(group: str = ENTRY_POINT_GROUP) -> list[str]:
    """Load every entry point of ``group`` not loaded yet (a module is imported, a
    function called); return the names of those loaded now."""
    loaded = []
    with _LOCK:
        for entry in metadata.entry_points(group=group):
            key = f"{group}:{entry.name}={entry.value}"
            if key in _LOADED:
                continue
            _LOADED.add(key)
            try:
                target = entry.load()
                if callable(target) and not isinstance(target, ModuleType):
                    target()
            except Exception as error:  # noqa: BLE001 - any failure of the plugin's own code
                raise PluginError(
                    f"entry point {entry.name!r} ({entry.value}) of group {group!r} could not "
                    f"be loaded: {type(error).__name__}: {error}"
                ) from error
            loaded.append(entry.name)
    return loaded
