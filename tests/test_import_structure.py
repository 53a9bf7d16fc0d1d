"""The package's shape: no import cycle between any two modules (TYPE_CHECKING imports
included), and every sub-package placed on a floor of the import-linter contract.

`lint-imports` (run by `make lint`) checks the floors themselves; it has no contract for cycles
inside a floor, hence the strongly connected components here (grimp's graph, Tarjan's algorithm).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "pymafx_ros"
# Folders that are not Python sub-packages (package data).
DATA_FOLDERS = {"data", "__pycache__"}


def import_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports directly, TYPE_CHECKING imports included."""
    graph = grimp.build_graph(PACKAGE, exclude_type_checking_imports=False)
    return {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph.get(succ, ())))))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycle_in_the_package():
    found = cycles(import_graph())
    assert not found, "import cycles (break them by moving the shared part down a floor):\n" + (
        "\n".join(" <-> ".join(c) for c in found)
    )


def test_cycle_finder_finds_a_cycle_and_nothing_else():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_subpackage_sits_on_a_floor_of_the_layers_contract():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    layers = next(c["layers"] for c in contracts if c["type"] == "layers")
    placed = {name.strip() for floor in layers for name in floor.split("|")}
    package_dir = ROOT / PACKAGE
    rooms = {
        f"{PACKAGE}.{p.stem}"
        for p in package_dir.iterdir()
        if (p.is_dir() and p.name not in DATA_FOLDERS and (p / "__init__.py").is_file())
        or (p.suffix == ".py" and p.name != "__init__.py")
    }
    assert rooms - placed == set(), "place these in pyproject's [tool.importlinter] layers"
