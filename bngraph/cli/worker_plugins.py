"""``--plugin`` modules on a cluster's workers: their source travels to every worker and is
imported there under the module name it has here, so that functions of a plugin found in
a task (pickled by reference, as functions are) resolve on the worker.

>>> plugin = PluginSources({})
>>> plugin.setup(worker=None)  # nothing to import
"""

from __future__ import annotations

import sys
import types
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

__all__ = ["PluginSources"]


class PluginSources(WorkerPlugin):  # type: ignore[misc]  # distributed is untyped here
    """Plugin modules by name, as ``(file name, source text)``, imported on each worker."""

    name = "bngraph-plugins"

    def __init__(self, sources: dict[str, tuple[str, str]]) -> None:
        self.sources = sources

    def setup(self, worker: Any) -> None:
        for name, (filename, source) in self.sources.items():
            if name in sys.modules:
                continue
            module = types.ModuleType(name)
            module.__file__ = filename
            sys.modules[name] = module
            exec(compile(source, filename, "exec"), module.__dict__)  # noqa: S102 - the user's plugin
