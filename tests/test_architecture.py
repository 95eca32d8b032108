"""Dependencies point one way (STYLE.md §1): pages → console → mcp_bridge → libraries; servers stand alone."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package → top-level imports it must never make
FORBIDDEN = {
    "servers": {"console", "mcp_bridge", "pages", "app", "streamlit"},
    "mcp_bridge": {"console", "pages", "app", "streamlit", "servers"},
    "console": {"pages", "app", "streamlit"},
}
# Modules allowed one of those imports, and why.
EXCEPTIONS = {"console/cli/serve.py": {"streamlit"}}  # the launcher (`python -m console serve`) starts Streamlit


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def python_files(package: str) -> list[Path]:
    return sorted(p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts or p.name == "env.py")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_point_one_way(package: str) -> None:
    offenders = {}
    for path in python_files(package):
        name = str(path.relative_to(ROOT))
        if forbidden := imported_roots(path) & (FORBIDDEN[package] - EXCEPTIONS.get(name, set())):
            offenders[name] = sorted(forbidden)
    assert offenders == {}


def test_console_bench_may_not_reach_into_pages() -> None:
    assert all("pages" not in imported_roots(p) for p in python_files("console"))


PACKAGES = ("console", "mcp_bridge", "servers")
MAX_MODULE_LINES = 400
# Modules allowed past the limit, and why. Migrations are data, not design, and are not counted.
LONG_MODULES: dict[str, str] = {}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(p): p for package in PACKAGES for p in python_files(package) if "migrations" not in p.parts}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports at its top level or inside functions (a lazy import is still a tie)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            # Importing a.b.c runs a/__init__ and a/b/__init__ first: those are ties too.
            while target:
                if target in known and target != name and not name.startswith(target + "."):
                    found.add(target)
                target = target.rpartition(".")[0]
    return found


def import_cycles() -> list[list[str]]:
    """Every strongly connected group of two or more modules (Tarjan), each sorted."""
    modules = project_modules()
    graph = {name: imports_of(path, set(modules)) for name, path in modules.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(cycles)


def test_no_import_circles() -> None:
    assert import_cycles() == []


def test_modules_stay_small() -> None:
    too_long = {name: len(path.read_text().splitlines()) for name, path in project_modules().items()
                if len(path.read_text().splitlines()) > MAX_MODULE_LINES and name not in LONG_MODULES}
    assert too_long == {}
