"""Take screenshots of the running app: welcome, queue, compare view, Help, undo, merge wizard.

Starts the simulator with a sample clinic, syncs and scans it into a temporary encrypted
cache, opens the main window and grabs it (offscreen rendering works without a display).
Each picture shows something a person would check: the welcome dialog with its sample clinic
(welcome.png), the queue holding the keyboard after a search was cleared (queue.png), the
compare view of look-alike twins with plain values and its decision buttons (compare.png),
the Help menu and the shortcuts (help-menu.png, shortcuts.png), the Undo bar after N
(undo.png), the right-click menu (context-menu.png) and the merge wizard.

    uv run python build/screenshots.py [--out docs/screenshots] [--dark]
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QPoint, Qt  # noqa: E402
from PySide6.QtGui import QPainter, QPixmap  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu, QWidget  # noqa: E402

from desktop.config import Settings  # noqa: E402
from desktop.merge import Step  # noqa: E402
from desktop.scan import run_scan  # noqa: E402
from desktop.session import Session  # noqa: E402
from desktop.simulator import Simulator  # noqa: E402
from desktop.store.cache import Cache  # noqa: E402
from desktop.sync import run_sync  # noqa: E402
from desktop.ui.connect_dialog import ConnectDialog  # noqa: E402
from desktop.ui.context import DeskContext  # noqa: E402
from desktop.ui.main_window import MainWindow  # noqa: E402
from desktop.ui.theme import apply_theme, build_palette  # noqa: E402
from desktop.ui.workers import stop_every_job  # noqa: E402


def settle(app: QApplication, until=None, timeout_s: float = 30.0) -> None:
    """Process events for a moment (or until ``until()`` holds)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout_s:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
        if until is None and time.monotonic() - start >= 0.5:
            return
        if until is not None and until():
            app.processEvents()
            return
    raise TimeoutError("the app did not get there in time")


def grab(widget: QWidget, path: Path, *popups: QWidget) -> None:
    """Save a widget's rendering (at the screen's device pixel ratio), with open popups (a
    menu is a window of its own) painted where they are on screen."""
    picture: QPixmap = widget.grab()
    if popups:
        painter = QPainter(picture)
        for popup in popups:
            painter.drawPixmap(widget.mapFromGlobal(popup.pos()), popup.grab())
        painter.end()
    picture.save(str(path))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def welcome(app: QApplication, out: Path, suffix: str) -> None:
    """The first start: what the app does, the key's server, and the sample clinic."""
    dialog = ConnectDialog(base_url=None)
    dialog.show()
    QTest.keyClicks(dialog.key_edit, "MS0xLWV4YW1wbGUta2V5-au2")  # a made-up key, never sent
    settle(app)
    dialog.adjustSize()
    settle(app)
    grab(dialog, out / f"welcome{suffix}.png")
    dialog.reject()


def popup_menu(app: QApplication, menu: QMenu, where: QPoint) -> None:
    """Open a menu (without blocking) and let it draw."""
    menu.popup(where)
    settle(app, menu.isVisible)
    settle(app)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--patients", type=int, default=800)
    parser.add_argument("--dark", action="store_true", help="use the dark palette")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_theme(app)
    if args.dark:
        app.setPalette(build_palette(True))
    suffix = "-dark" if args.dark else ""
    data_dir = Path(tempfile.mkdtemp(prefix="mergedesk-shots-"))
    key = secrets.token_hex(32)
    welcome(app, args.out, suffix)
    with (
        Simulator(size=args.patients, seed=11) as sim,
        Cache.open(data_dir / "cache.db", key) as cache,
    ):
        if True:
            with Session(cache, sim.api_key, base_url=sim.base_url) as session:
                session.identify_user()
                run_sync(session)
            run_scan(cache)
            ctx = DeskContext(
                data_dir, cache, key, sim.api_key, sim.base_url, Settings(),
                title="Demo clinic (sample data)",
            )  # fmt: skip
            window = MainWindow(ctx)
            window.resize(1360, 820)
            window.show()
            settle(app, lambda: window.queue_ready)
            window.sync_panel.refresh_status()
            ctx.connectivity.set_online(True)

            def history_known() -> bool:
                view = window.compare_view
                return all(isinstance(view.model.history_of(i), dict) for i in view.ids)

            # the queue holds the keyboard: a search typed, Esc clears it, J moves on
            view = window.queue_view
            window.activateWindow()
            view.select_row(0)
            QTest.mouseClick(view.search, Qt.MouseButton.LeftButton)
            QTest.keyClicks(view.search, "walker")
            QTest.keyClick(view.search, Qt.Key.Key_Escape)
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_K)
            settle(app, history_known)
            assert view.table.hasFocus() and not view.search.text()
            grab(window, args.out / f"queue{suffix}.png")

            # N, and the Undo bar (Ctrl+Z) in the status bar
            QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_N)
            settle(app, history_known)
            grab(window, args.out / f"undo{suffix}.png")
            QTest.keyClick(
                QApplication.focusWidget(), Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
            )

            # right-click on a pair
            index = view.proxy.index(3, 2)
            spot = view.table.visualRect(index).center()
            view.select_row(3)
            popup_menu(app, view.context_menu, view.table.viewport().mapToGlobal(spot))
            grab(window, args.out / f"context-menu{suffix}.png", view.context_menu)
            view.context_menu.close()

            # the Help menu, and its keyboard shortcuts
            help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
            bar = window.menuBar()
            corner = bar.actionGeometry(help_menu.menuAction()).bottomLeft()
            popup_menu(app, help_menu, bar.mapToGlobal(corner))
            grab(window, args.out / f"help-menu{suffix}.png", help_menu)
            help_menu.close()
            window.help_actions["shortcuts"].trigger()
            settle(app)
            grab(window.help_dialog, args.out / f"shortcuts{suffix}.png")
            window.help_dialog.reject()
            settle(app)

            # the compare view on a look-alike pair (twins, parent and child...), if any
            model = window.queue_model
            rows = [model.row_at(i) for i in range(model.rowCount())]
            lookalike = next((r for r in rows if "twins" in r.flags), None) or next(
                (r for r in rows if r.lookalike), None
            )
            if lookalike is not None:
                window.queue_view.select_key(lookalike.key)
            settle(app, history_known)
            grab(window.compare_view, args.out / f"compare{suffix}.png")
            grab(window, args.out / f"desk{suffix}.png")

            # the merge wizard at the field reconciliation step
            lone = next(
                model.row_at(i)
                for i in range(model.rowCount())
                if model.row_at(i).cluster_id is None and not model.row_at(i).lookalike
            )
            window.queue_view.select_key(lone.key)
            settle(app)
            window.open_merge(lone)
            wizard = window.wizard
            assert wizard is not None
            for _ in range(2):
                wizard.go_next()
            settle(app)
            assert wizard.step is Step.RECONCILE
            grab(wizard, args.out / f"merge-wizard{suffix}.png")
            wizard.go_next()
            wizard.go_next()
            wizard.apply()
            settle(app, lambda: wizard.shown_step is Step.MERGE_IN_CLINIKO)
            grab(wizard, args.out / f"merge-in-cliniko{suffix}.png")
            wizard.reject()
            window.close()
            settle(app)
            stop_every_job()
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # skip interpreter teardown of Qt wrappers
