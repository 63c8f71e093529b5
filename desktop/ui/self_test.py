"""The Qt half of ``mergedesk self-test``: Qt itself, the main window offscreen, a PDF.

Uses the offscreen platform unless ``QT_QPA_PLATFORM`` is already set (CI sets ``xcb`` under
Xvfb to prove a real window works too). Everything happens in the self-test's temporary folder
over a cache whose key is held only in memory; the window talks to no server (its base URL is a
closed loopback port, and no sync is started).
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from collections.abc import Callable
from pathlib import Path

from desktop.selftest import Check, Report, process_age

WINDOW_TIMEOUT_S = 30.0
UNREACHABLE_URL = "http://127.0.0.1:9/api/v1"  # the discard port: nothing answers there


def _wait_until(predicate: Callable[[], bool], timeout: float) -> bool:
    from PySide6.QtCore import QEventLoop
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return True


def _application():
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication

    from desktop import APP_NAME, __version__
    from desktop.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setOrganizationName(APP_NAME)
    apply_theme(app)  # type: ignore[arg-type]
    return app


def check_qt() -> Check:
    """Qt starts on this machine's platform plugin and finds fonts."""
    from PySide6 import __version__ as pyside_version
    from PySide6.QtGui import QFontDatabase, QGuiApplication

    app = _application()
    families = QFontDatabase.families()
    detail = (
        f"PySide6 {pyside_version}, platform {QGuiApplication.platformName()}, "
        f"{len(families)} font families, style {app.style().name()}"
    )
    if not families:
        return Check("qt", False, f"{detail}: no fonts (install fontconfig and a font)")
    return Check("qt", True, detail)


def check_main_window(folder: Path, report: Report) -> Check:
    """Open the main window over a new encrypted cache; report when it was shown."""
    from desktop.config import load_settings
    from desktop.store.cache import Cache
    from desktop.ui.context import DeskContext
    from desktop.ui.main_window import MainWindow
    from desktop.ui.workers import stop_every_job

    _application()
    data_dir = folder / "window"
    data_dir.mkdir()
    key = secrets.token_hex(32)
    cache = Cache.open(data_dir / "cache.db", key)
    window = None
    try:
        ctx = DeskContext(
            data_dir, cache, key, "self-test", UNREACHABLE_URL, load_settings(data_dir),
            title="Self-test",
        )  # fmt: skip
        window = MainWindow(ctx)
        window.show()

        def exposed() -> bool:
            handle = window.windowHandle()
            return window.isVisible() and handle is not None and handle.isExposed()

        if not _wait_until(exposed, WINDOW_TIMEOUT_S):
            return Check("main window", False, f"not shown within {WINDOW_TIMEOUT_S:.0f} s")
        shown, since = process_age()
        report.line(f"TIME main window shown {shown:.2f} s after {since}")
        ready = _wait_until(lambda: bool(getattr(window, "queue_ready", True)), WINDOW_TIMEOUT_S)
        ready_at, _ = process_age()
        pixmap = window.grab()
        if pixmap.isNull() or pixmap.width() < 100:
            return Check("main window", False, "the window rendered an empty image")
        detail = (
            f"{type(window).__name__} {pixmap.width()}x{pixmap.height()} shown after {shown:.2f} s"
        )
        if not ready:
            return Check("main window", False, f"{detail}, queue not loaded in time")
        return Check("main window", True, f"{detail}, queue loaded after {ready_at:.2f} s")
    finally:
        if window is not None:
            window.close()
            _wait_until(lambda: not window.isVisible(), 5)
        stop_every_job()
        cache.close()


def check_pdf(folder: Path) -> Check:
    """Render a one-page report to PDF with QPdfWriter and check the file."""
    from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

    _application()
    path = folder / "self-test.pdf"
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    writer.setTitle("MergeDesk self-test")
    document = QTextDocument()
    document.setHtml(
        "<h1>MergeDesk self-test</h1><p>Duplicate patients: 2 pairs reviewed, 1 merged.</p>"
        "<table border='1' cellpadding='4'><tr><th>Patient</th><th>Decision</th></tr>"
        "<tr><td>Katherine Smith</td><td>Same person</td></tr>"
        "<tr><td>Catherine Smyth</td><td>Different people</td></tr></table>"
    )
    document.print_(writer)
    del writer  # the file is complete once the writer is gone
    data = path.read_bytes() if path.exists() else b""
    if not data.startswith(b"%PDF") or b"%%EOF" not in data[-1024:]:
        return Check("pdf", False, f"{path.name} is not a complete PDF ({len(data)} bytes)")
    if b"/FontFile" not in data:
        return Check("pdf", False, f"{len(data):,} bytes without embedded fonts: no text shows")
    return Check("pdf", True, f"{path.name}, {len(data):,} bytes with embedded fonts")


def run_gui_checks(report: Report, folder: Path) -> None:
    """Run every Qt check into ``report``."""
    report.run("qt", check_qt)
    report.run("main window", lambda: check_main_window(folder, report))
    report.run("pdf", lambda: check_pdf(folder))
