"""The layering of the package, read from its source: IR -> plan -> run -> views.

Only the builders import the builder (``graph.py``, and the columns it writes; the op
layer names the builder's ``Node`` type in annotations only); module-level imports form no cycle;
no module imports another's private names; no module grows past 450 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "bngraph"
MODULES = sorted(PACKAGE.rglob("*.py"))

BUILDERS = {
    "bngraph", "bngraph.graph", "bngraph.node", "bngraph.layers", "bngraph.notebook",
    "bngraph.dsl.parser", "bngraph.dsl.expressions", "bngraph.dsl.files",
    "bngraph.testing.graphs",
}
"""The modules that build graphs: the Python builder, the text parser and file loader,
the library, the layer, the notebook's graph and the test graphs (and the package's
facade, which exports the builder)."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def imports(path: Path, *, runtime_only: bool) -> list[tuple[str, list[str]]]:
    """``(module, names)`` imported by ``path``: every import, or (``runtime_only``)
    only those run when the module is imported (module level, outside TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here if is_package(path) else here.rpartition(".")[0]
    found = []
    nodes = _module_level(tree.body) if runtime_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(node.level - 1):
                base = base.rpartition(".")[0]
            target = (f"{base}.{node.module}" if node.module else base) if node.level else (
                node.module or "")
            names = [alias.name for alias in node.names]
            # "from . import ops" imports the module bngraph.ops
            found += [(f"{target}.{n}", []) for n in names if node.module is None]
            found.append((target, names))
        elif isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
    return [(m, n) for m, n in found if m.startswith("bngraph")]


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    statements = []
    for node in body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.If, ast.Try)):
            statements += _module_level(node.body)
            continue
        statements.append(node)
    return statements


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_only_the_builders_import_the_builder(path: Path) -> None:
    if module_name(path) in BUILDERS or module_name(path).startswith("bngraph.library"):
        return
    imported = {m for m, _ in imports(path, runtime_only=False)}
    assert "bngraph.graph" not in imported and "bngraph.draft" not in imported


def test_module_level_imports_form_no_cycle() -> None:
    known = {module_name(p) for p in MODULES}
    graph: nx.DiGraph[str] = nx.DiGraph()
    for path in MODULES:
        for target, _ in imports(path, runtime_only=True):
            while target not in known and "." in target:
                target = target.rpartition(".")[0]
            here = module_name(path)
            # a package importing its own submodules is how packages are built, not a cycle
            if target in known and target != here and not target.startswith(here + "."):
                graph.add_edge(here, target)
    cycles = [c for c in nx.simple_cycles(graph) if len(c) > 1]
    assert cycles == [], cycles[:5]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_a_private_name_of_another(path: Path) -> None:
    private = [
        (module, name) for module, names in imports(path, runtime_only=False)
        for name in names if name.startswith("_") and not name.startswith("__")
    ]
    assert private == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_is_longer_than_450_lines(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= 450, f"{module_name(path)} has {lines} lines"
