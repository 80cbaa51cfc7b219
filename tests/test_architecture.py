"""The shape of the package (style.md, "Arrows point one way"), read from the source
with ``ast``: every ``import`` counts, those inside functions too.

Nodes are the top-level subpackages and modules of ``cpi`` (``cpi/surveys``,
``cpi/db.py``...). ``from cpi import x`` is an import of ``cpi.x`` when that is a
module, and of ``cpi/__init__.py`` otherwise; ``cpi/__init__.py`` itself is the app
factory that wires everything together, so it is not a node.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

CPI = Path(__file__).resolve().parent.parent / "cpi"
# Packages that are libraries or infrastructure, not features.
NOT_FEATURES = {"jobs", "scoring", "rules", "i18n"}

Graph = dict[str, dict[str, list[str]]]  # package -> imported package -> where


def _nodes() -> set[str]:
    return {
        path.stem if path.is_file() else path.name
        for path in CPI.iterdir()
        if (path.suffix == ".py" and path.stem != "__init__") or (path / "__init__.py").is_file()
    }


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(CPI.parent).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _imported_modules(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((target, node.lineno))
            # ``from cpi import surveys`` / ``from cpi.surveys import views``: the names
            # may be modules themselves.
            found += [(f"{target}.{alias.name}", node.lineno) for alias in node.names]
    return found


def _node_of(dotted: str, nodes: set[str]) -> str | None:
    parts = dotted.split(".")
    if parts[0] != "cpi" or len(parts) < 2 or parts[1] not in nodes:
        return None
    return parts[1]


def build_graph(root: Path = CPI) -> Graph:
    nodes = _nodes()
    graph: Graph = defaultdict(lambda: defaultdict(list))
    for path in sorted(root.rglob("*.py")):
        module, is_package = _module_name(path)
        source = _node_of(module, nodes)
        if source is None:
            continue  # cpi/__init__.py: the app factory
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for dotted, line in _imported_modules(tree, module, is_package):
            target = _node_of(dotted, nodes)
            if target is not None and target != source:
                graph[source][target].append(f"{path.relative_to(root.parent)}:{line}")
    return graph


def cycles(graph: Graph, leave_out: frozenset[str] = frozenset()) -> list[list[str]]:
    """The strongly connected components with more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, {}):
            if target in leave_out:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
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

    for node in sorted(graph):
        if node not in index and node not in leave_out:
            visit(node)
    return found


def _explain(graph: Graph, component: list[str]) -> str:
    return "\n".join(
        f"  {source} -> {target}: {', '.join(graph[source][target][:3])}"
        for source in component
        for target in component
        if target in graph.get(source, {})
    )


GRAPH = build_graph()


def test_the_graph_sees_imports_inside_functions_and_from_cpi() -> None:
    # Checks on the checker: known edges (module level, in a function, `from cpi import`).
    assert "mail" in GRAPH["surveys"]  # module level
    assert "migrate" in GRAPH["core_cli"]  # inside a function
    assert "logs" in GRAPH["web"]  # `from cpi import logs`, inside a function
    assert cycles({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}) == [
        ["a", "b", "c"]
    ]


def test_no_cycle_between_packages() -> None:
    found = cycles(GRAPH)
    assert not found, "import cycles:\n" + "\n".join(_explain(GRAPH, c) for c in found)


def test_jobs_imports_no_feature() -> None:
    features = {
        path.name for path in CPI.iterdir() if (path / "__init__.py").is_file()
    } - NOT_FEATURES
    imported = {target: where for target, where in GRAPH["jobs"].items() if target in features}
    assert not imported, f"cpi/jobs imports features: {imported}"


def test_no_view_imports_another_features_views() -> None:
    offending: set[str] = set()
    for path in CPI.glob("*/views.py"):
        module, _ = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for dotted, line in _imported_modules(tree, module, False):
            parts = dotted.split(".")
            other_views = parts[:1] == ["cpi"] and parts[2:3] == ["views"]
            if other_views and parts[1] != path.parent.name:
                offending.add(f"{path.relative_to(CPI.parent)}:{line} imports cpi.{parts[1]}.views")
    assert not offending, "\n".join(sorted(offending))
