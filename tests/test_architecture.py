"""Module structure rules checked on the source text (ast): no import cycles among onevox's modules, and no
module reaching into another's private names.

Importing a submodule runs the packages above it, so `onevox.hotkey` importing `onevox.inject.session`
depends on onevox/inject/__init__.py too. An import inside a function counts: it runs on the first call
and a cycle through it breaks the same way, only later (a partly initialised module, an ImportError at a
user's first dictation). Imports under `if TYPE_CHECKING:` do not count: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "onevox"


@dataclass(frozen=True)
class Import:
    importer: str
    target: str  # the module whose code the import runs (a package's __init__ for a name it defines)
    names: tuple[str, ...]  # for `from X import a, b`: the names taken from X itself (not submodules)
    line: int


def module_files() -> dict[str, Path]:
    modules = {}
    for path in sorted((SRC / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node except those under `if TYPE_CHECKING:` (its else branch does run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        base = base[:-(node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(module: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    found.append(Import(module, alias.name, (), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, is_package, node)
            if source.split(".")[0] != PACKAGE:
                continue
            names = []
            for alias in node.names:
                submodule = f"{source}.{alias.name}"
                if submodule in modules:  # `from pkg import submodule` runs the submodule
                    found.append(Import(module, submodule, (), node.lineno))
                else:
                    names.append(alias.name)
            if names:
                found.append(Import(module, source, tuple(names), node.lineno))
    return found


def all_imports() -> list[Import]:
    modules = module_files()
    return [imp for module, path in modules.items() for imp in imports_of(module, path, modules)]


def runs(imp: Import) -> set[str]:
    """The modules an import runs: its target, and the packages above the target that the importer is not
    inside (`import onevox.inject.session` from onevox.hotkey runs onevox/inject/__init__.py first)."""
    parts = imp.target.split(".")
    parents = {".".join(parts[:i]) for i in range(2, len(parts))}
    return {imp.target} | {p for p in parents if not (imp.importer == p or imp.importer.startswith(p + "."))}


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {module: set() for module in module_files()}
    for imp in all_imports():
        graph[imp.importer] |= {module for module in runs(imp) if module != imp.importer and module in graph}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted, with one of its
    cycles spelled out so that the message shows where to cut."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_one_cycle(graph, set(component)) for component in sorted(components)]


def _one_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:  # breadth first: the shortest way back to the start
        node = frontier.pop(0)
        for nxt in sorted(graph[node] & component):
            if nxt == start:
                return [*paths[node], start]
            if nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                frontier.append(nxt)
    return sorted(component)  # pragma: no cover - a component always has a cycle through each member


def test_the_checker_sees_every_module() -> None:
    modules = module_files()
    assert "onevox.vad" in modules and "onevox.vad.segmenter" in modules
    assert any(imp.importer == "onevox.vad" and imp.target == "onevox.vad.segmenter" for imp in all_imports())


def test_importing_a_submodule_runs_the_packages_above_it() -> None:
    def targets(importer: str, target: str) -> set[str]:
        return runs(Import(importer, target, (), 1))

    assert targets("onevox.hotkey", "onevox.inject.session") == {"onevox.inject.session", "onevox.inject"}
    assert targets("onevox.inject.paste", "onevox.inject.session") == {"onevox.inject.session"}
    assert targets("onevox.inject", "onevox.inject.base") == {"onevox.inject.base"}
    assert targets("onevox.cli", "onevox.config") == {"onevox.config"}


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


def test_no_import_cycles() -> None:
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in found)


def test_no_private_names_imported_across_modules() -> None:
    bad = [f"{imp.importer}:{imp.line} takes {name} from {imp.target}"
           for imp in sorted(all_imports(), key=lambda imp: (imp.importer, imp.line))
           if imp.target != imp.importer
           for name in imp.names if name.startswith("_") and not name.startswith("__")]
    assert not bad, "private names used from another module:\n" + "\n".join(bad)
