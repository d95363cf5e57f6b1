"""The desktop layer sits below the hotkey and the injection stages: it imports neither, and they never
import each other."""

from __future__ import annotations

from tests.test_architecture import import_graph


def _reaches(graph: dict[str, set[str]], start: str, package: str) -> list[str]:
    seen: set[str] = set()
    stack = [start]
    while stack:
        node = stack.pop()
        for nxt in graph.get(node, set()):
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return sorted(m for m in seen if m == package or m.startswith(package + "."))


def test_desktop_imports_neither_hotkey_nor_inject() -> None:
    graph = import_graph()
    for module in [m for m in graph if m == "onevox.desktop" or m.startswith("onevox.desktop.")]:
        assert _reaches(graph, module, "onevox.hotkey") == [], module
        assert _reaches(graph, module, "onevox.inject") == [], module


def test_hotkey_and_inject_do_not_import_each_other() -> None:
    graph = import_graph()
    for module in graph:
        if module.startswith("onevox.hotkey"):
            assert _reaches(graph, module, "onevox.inject") == [], module
        if module.startswith("onevox.inject"):
            assert _reaches(graph, module, "onevox.hotkey") == [], module
