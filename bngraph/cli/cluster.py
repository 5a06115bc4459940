"""``--scheduler``: the dask cluster a run of the command line computes on.

``local`` starts a ``LocalCluster`` sized to this machine (``local:4`` with 4 worker
processes; ``--memory-limit`` sets the memory of each), closed when the command
ends; any other value is the address of a running scheduler (``tcp://host:8786``,
started by hand, by dask-jobqueue on a batch system or by dask-kubernetes), which is
only connected to. The source of the modules given with ``--plugin`` is sent to every
worker and imported there, so that the workers need not have them.

>>> parse_scheduler("local:3"), parse_scheduler("local"), parse_scheduler("tcp://10.0.0.1:8786")
(('local', 3), ('local', None), ('tcp://10.0.0.1:8786', None))
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import InputError
from .numbers import format_bytes, parse_bytes, parse_size
from .stores import needs_dask

__all__ = ["parse_scheduler", "connect"]


def parse_scheduler(text: str) -> tuple[str, int | None]:
    """``local`` (workers: dask's choice for this machine), ``local:WORKERS``, or the
    address of a running scheduler."""
    if text == "local":
        return "local", None
    if text.startswith("local:"):
        return "local", parse_size(text.removeprefix("local:"), "--scheduler local:WORKERS")
    if not text.strip():
        raise InputError("--scheduler expects local, local:WORKERS or a scheduler's address")
    return text, None


@contextlib.contextmanager
def connect(scheduler: str | None, memory_limit: str | None, plugins: Sequence[str],
            notes: list[str]) -> Iterator[Any]:
    """A ``distributed.Client`` for the run (``None`` without ``--scheduler``), closed
    (with its local cluster) at the end."""
    if scheduler is None:
        if memory_limit is not None:
            raise InputError("--memory-limit sets the memory of each worker of a local "
                             "cluster: give --scheduler local too")
        yield None
        return
    where, workers = parse_scheduler(scheduler)
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise needs_dask("--scheduler") from None
    if where != "local":
        if memory_limit is not None:
            raise InputError("--memory-limit applies to --scheduler local; a running "
                             "cluster's workers have their own limits")
        with _client(Client, where, notes) as client:
            _send_plugins(client, plugins)
            yield client
        return
    limit: Any = "auto" if memory_limit is None else parse_bytes(memory_limit, "--memory-limit")
    with LocalCluster(n_workers=workers, threads_per_worker=1, memory_limit=limit,
                      dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            Client(cluster) as client:
        info = client.scheduler_info()["workers"].values()
        limits = {w.get("memory_limit") for w in info}
        each = f", {format_bytes(limits.pop())} each" if len(limits) == 1 and None not in limits \
            else ""
        notes.append(f"scheduler: a local cluster of {len(info)} worker(s){each}")
        _send_plugins(client, plugins)
        yield client


def _client(factory: Any, address: str, notes: list[str]) -> Any:
    try:
        client = factory(address, timeout="10s")
    except (OSError, TimeoutError, ValueError) as error:
        raise InputError(f"--scheduler {address}: cannot connect ({error})") from None
    notes.append(f"scheduler: {address}")
    return client


def _send_plugins(client: Any, plugins: Sequence[str]) -> None:
    """Import the ``--plugin`` modules on every worker, from their source here."""
    sources = {}
    for name in plugins:
        key = f"bngraph_plugin_{Path(name).stem}" if name.endswith(".py") or "/" in name \
            else name
        filename = getattr(sys.modules.get(key), "__file__", None)
        if filename is not None:
            sources[key] = (filename, Path(filename).read_text())
    if sources:
        from .worker_plugins import PluginSources

        client.register_plugin(PluginSources(sources))
