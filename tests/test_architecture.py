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
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[package])
        for path in python_files(package)
        if imported_roots(path) & FORBIDDEN[package]
    }
    assert offenders == {}


def test_console_bench_may_not_reach_into_pages() -> None:
    assert all("pages" not in imported_roots(p) for p in python_files("console"))
