"""Architecture rules a reviewer would otherwise have to check by hand."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# On-demand scripts that measure the GUI itself; they are not part of the test suite.
QT_SCRIPTS = {"tests/benchmarks/gui_heartbeat.py", "tests/benchmarks/watch_bench.py"}


DESKTOP = ROOT / "desktop"


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


def _is_type_checking_block(node: ast.AST) -> bool:
    """True for `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`): imports for annotations only."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(path: Path, *, type_hints_too: bool = False) -> set[str]:
    """Modules a file imports when it runs, inside functions too, but not under TYPE_CHECKING
    (unless ``type_hints_too``).

    `from desktop.x import y` yields both `desktop.x` and `desktop.x.y` (y may be a module).
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        for node in ast.iter_child_nodes(pending.pop()):
            if not type_hints_too and _is_type_checking_block(node):
                pending.extend(node.orelse)  # an `else:` branch does run
                continue
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            pending.append(node)
    return names


def _top_level_part(module: str) -> str | None:
    """The part of desktop a module name belongs to: a sub-package or a top-level module."""
    parts = module.split(".")
    if parts[0] != "desktop" or len(parts) < 2:
        return None
    name = parts[1]
    if (DESKTOP / name / "__init__.py").is_file() or (DESKTOP / f"{name}.py").is_file():
        return name
    return None  # a name defined in desktop/__init__.py, such as APP_NAME


def _import_graph(*, type_hints_too: bool = False) -> dict[str, dict[str, set[str]]]:
    """part -> imported part -> the files that import it (desktop/__init__.py left out)."""
    graph: dict[str, dict[str, set[str]]] = {}
    for path in _python_files("desktop"):
        relative = path.relative_to(DESKTOP)
        if relative.as_posix() == "__init__.py":
            continue
        source = relative.parts[0] if len(relative.parts) > 1 else path.stem
        graph.setdefault(source, {})
        for name in _runtime_imports(path, type_hints_too=type_hints_too):
            target = _top_level_part(name)
            if target is not None and target != source:
                graph[source].setdefault(target, set()).add(path.relative_to(ROOT).as_posix())
    return graph


def _reachable(graph: dict[str, dict[str, set[str]]], start: str) -> set[str]:
    seen: set[str] = set()
    pending = [start]
    while pending:
        for target in graph.get(pending.pop(), {}):
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return seen


def _loop_groups(graph: dict[str, dict[str, set[str]]]) -> list[frozenset[str]]:
    """The sets of parts that all reach each other (each set is one or more loops)."""
    reach = {part: _reachable(graph, part) for part in graph}
    groups = {
        frozenset(other for other in reach[part] if part in reach.get(other, set()))
        for part in graph
        if part in reach[part]
    }
    return sorted(groups, key=sorted)


def import_loops(graph: dict[str, dict[str, set[str]]]) -> list[list[str]]:
    """Each loop as the edges between parts that import each other, with the files behind them."""
    return [
        [
            f"{source} -> {target} ({', '.join(sorted(files))})"
            for source in sorted(group)
            for target, files in sorted(graph[source].items())
            if target in group
        ]
        for group in _loop_groups(graph)
    ]


def test_no_import_loop_between_the_parts_of_desktop():
    """Sub-packages and top-level modules of desktop/ form no loop (imports in functions count)."""
    assert import_loops(_import_graph()) == []


# Issue 14 untangled these parts: no loop joins two of them, not even through imports for type
# hints only (merge names a timer protocol, StepTimer, not desktop.labor).
UNTANGLED = frozenset({"labor", "merge", "session"})


def tangled(graph: dict[str, dict[str, set[str]]], parts: frozenset[str]) -> list[list[str]]:
    """The loops (as :func:`import_loops` names them) that join two or more of ``parts``."""
    loops = zip(_loop_groups(graph), import_loops(graph), strict=True)
    return [loop for group, loop in loops if len(group & parts) > 1]


def test_labor_merge_and_session_do_not_import_each_other_even_for_type_hints():
    assert tangled(_import_graph(type_hints_too=True), UNTANGLED) == []


def test_a_loop_through_a_type_hint_import_joins_the_parts_it_links():
    graph = {
        "session": {"intents": {"desktop/session.py"}},
        "intents": {"labor": {"desktop/intents.py"}},
        "labor": {"session": {"desktop/labor/timelog.py"}},
        "store": {},
    }
    assert tangled(graph, frozenset({"labor", "session"})) == [
        [
            "intents -> labor (desktop/intents.py)",
            "labor -> session (desktop/labor/timelog.py)",
            "session -> intents (desktop/session.py)",
        ]
    ]
    assert tangled(graph, frozenset({"labor", "store"})) == []


def test_an_import_loop_is_found_and_named():
    graph = {
        "session": {"labor": {"desktop/session.py"}, "store": {"desktop/session.py"}},
        "labor": {"session": {"desktop/labor/timelog.py"}},
        "store": {},
    }
    assert import_loops(graph) == [
        [
            "labor -> session (desktop/labor/timelog.py)",
            "session -> labor (desktop/session.py)",
        ]
    ]


def test_imports_inside_functions_count_and_type_checking_imports_do_not(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from desktop.session import Session\n"
        "def late():\n"
        "    from desktop.labor import timelog\n",
        encoding="utf-8",
    )
    names = _runtime_imports(module)
    assert "desktop.labor.timelog" in names
    assert "desktop.session" not in names
    assert "desktop.session" in _runtime_imports(module, type_hints_too=True)


# ----------------------------------------------------------------------------- SQL in store/

SQL_CALLS = frozenset({"execute", "executemany", "executescript"})


def sql_calls(path: Path) -> list[int]:
    """Lines of ``<anything>.execute(...)``, ``.executemany(...)``, ``.executescript(...)``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in SQL_CALLS
    )


def _found_outside(
    home: Callable[[str], bool], lines_of: Callable[[Path], list[int]]
) -> dict[str, list[int]]:
    """Per module of desktop/ that is not ``home`` (by its path): the lines ``lines_of`` finds."""
    found = {}
    for path in _python_files("desktop"):
        relative = path.relative_to(ROOT).as_posix()
        if not home(relative) and (lines := lines_of(path)):
            found[relative] = lines
    return found


def test_only_the_store_package_runs_sql():
    """SQL lives in desktop/store/ (one module per kind of data); callers use its functions."""
    found = _found_outside(lambda path: path.startswith("desktop/store/"), sql_calls)
    assert found == {}, f"SQL outside desktop/store/ (file: lines): {found}"


def test_every_way_of_running_sql_is_found(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "def f(cache, conn, db):\n"
        "    cache.db.execute('SELECT 1')\n"
        "    conn.executemany('INSERT INTO t VALUES (?)', [(1,)])\n"
        "    db.conn.executescript('DELETE FROM t')\n"
        "    execute_plan()\n",
        encoding="utf-8",
    )
    assert sql_calls(module) == [2, 3, 4]


STAMP = "%Y-%m-%dT%H:%M:%SZ"


def time_handling(path: Path) -> list[int]:
    """Lines that write Cliniko's stamp format or parse a date-time (``datetime.fromisoformat``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return sorted(node.lineno for node in ast.walk(tree) if _writes_or_parses_a_stamp(node))


def _writes_or_parses_a_stamp(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant):
        return node.value == STAMP
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "fromisoformat"
        and getattr(node.value, "attr", getattr(node.value, "id", "")) == "datetime"
    )


def test_times_are_written_and_parsed_in_one_place():
    """desktop/timestamps.py writes and reads the cache's time stamps; the simulator plays
    Cliniko and keeps its own."""
    found = _found_outside(
        lambda path: path == "desktop/timestamps.py" or path.startswith("desktop/simulator/"),
        time_handling,
    )
    assert found == {}, f"time stamps handled outside desktop/timestamps.py: {found}"


def test_every_way_of_handling_a_stamp_is_found(tmp_path):
    module = tmp_path / "m.py"
    module.write_text(
        "import datetime as dt\n"
        "from datetime import datetime\n"
        "a = dt.datetime.fromisoformat('2026-01-01T00:00:00')\n"
        "b = datetime.fromisoformat('2026-01-01T00:00:00')\n"
        "c = dt.date.fromisoformat('2026-01-01')\n"
        "d = b.strftime('%Y-%m-%dT%H:%M:%SZ')\n",
        encoding="utf-8",
    )
    assert time_handling(module) == [3, 4, 6]
