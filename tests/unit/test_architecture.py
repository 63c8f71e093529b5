"""Architecture rules a reviewer would otherwise have to check by hand."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# On-demand scripts that measure the GUI itself; they are not part of the test suite.
QT_SCRIPTS = {"tests/benchmarks/gui_heartbeat.py", "tests/benchmarks/watch_bench.py"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def test_only_the_ui_package_imports_qt():
    offenders = []
    for path in _python_files("desktop", "tests"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(("desktop/ui/", "tests/ui/")) or relative in QT_SCRIPTS:
            continue
        roots = {name.split(".")[0] for name in _imports(path)}
        if roots & {"PySide6", "shiboken6", "pytestqt"}:
            offenders.append(relative)
    assert offenders == [], f"Qt imported outside desktop/ui and tests/ui: {offenders}"


def test_the_core_does_not_import_the_ui():
    offenders = [
        path.relative_to(ROOT).as_posix()
        for path in _python_files("desktop")
        if "desktop/ui/" not in path.as_posix()
        and any(name.startswith("desktop.ui") for name in _imports(path))
        and path.name not in {"cli_commands.py"}
    ]
    assert offenders == []
