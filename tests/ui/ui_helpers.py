"""Helpers shared by the Qt tests."""

from __future__ import annotations

from pathlib import Path

from desktop.simulator import Simulator


def closed_port_url() -> str:
    """A loopback base URL nothing listens on (connections are refused at once)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def prepare_cache(sim: Simulator, path: Path, key: str, *, scan: bool = True) -> None:
    """Sync the simulator's clinic into a new cache and scan it (outside Qt)."""
    from desktop.scan import run_scan
    from desktop.session import Session
    from desktop.store.cache import Cache
    from desktop.sync import run_sync

    with Cache.open(path, key) as cache:
        with Session(cache, sim.api_key, base_url=sim.base_url) as session:
            session.identify_user()
            run_sync(session)
        if scan:
            run_scan(cache)


def desk_cache(desk):
    """A writing connection to the desk's cache (close it before the window opens)."""
    from desktop.store.cache import Cache

    return Cache.open(desk.path, desk.key)


def unconfirmed_twins_plan(cache):
    """A pair flagged as twins planned up to READY without the look-alike confirmation (a
    pair flagged after its plan was saved); its flow."""
    from desktop.merge import MergeFlow, Step
    from desktop.store.queue import queue_pairs

    pairs = queue_pairs(cache.db, statuses=("new",), bands=("likely", "possible"))
    twins = next(p for p in pairs if "twins" in p["flags"] and p["cluster_id"] is None)
    flow = MergeFlow.start(cache, [twins["id_a"], twins["id_b"]])
    for _ in range(4):
        flow.advance()
    assert flow.step is Step.READY and not flow.lookalike_confirmed
    return flow


def ready_plans(cache, count: int, sim=None) -> list:
    """Plan ``count`` plain pairs (no look-alike, not in a group) up to READY; return their
    flows (pairs whose plan would change nothing are skipped).

    Without ``sim`` they are planned offline: the record that stays is chosen without its
    history (Apply all then reads it, and leaves a plan whose other record has more). With it,
    each record's history is read from ``sim`` first, as a person planning online sees it.
    """
    from desktop.merge import MergeFlow
    from desktop.store.history_counts import save_counts
    from desktop.store.queue import queue_pairs
    from desktop.store.transaction import transaction
    from desktop.timestamps import utc_stamp

    flows = []
    for pair in queue_pairs(cache.db, statuses=("new",), bands=("likely",)):
        if pair["flags"] or pair["cluster_id"] is not None:
            continue
        if sim is not None:
            ids = (pair["id_a"], pair["id_b"])
            with transaction(cache) as db:
                save_counts(db, {pid: sim.history_counts(pid) for pid in ids}, utc_stamp())
        flow = MergeFlow.start(cache, [pair["id_a"], pair["id_b"]])
        flow.advance()
        flow.advance(survivor_id=flow.suggested_survivor())
        flow.advance()
        flow.advance()
        if not flow.changes():
            flow.cancel("skipped")
            continue
        flows.append(flow)
        if len(flows) == count:
            return flows
    raise AssertionError("not enough plain pairs in the sample clinic")


def pick_pair(window, *, lone: bool = True, group: bool = False):
    """Select the best pair that is not part of a larger group (``lone``), or that is
    (``group``); return its queue row."""
    model = window.queue_model
    for i in range(model.rowCount()):
        row = model.row_at(i)
        grouped = row.cluster_id is not None
        if (
            row.status == "new"
            and not (lone and grouped)
            and (grouped or not group)
            and not row.lookalike
        ):
            assert window.queue_view.select_key(row.key)
            return row
    raise AssertionError("no suitable pair in the queue")


def clipped_labels(widget) -> list[str]:
    """Texts of the widget's visible word-wrapped labels shorter than their text needs."""
    from PySide6.QtWidgets import QLabel

    return [
        label.text()[:40]
        for label in widget.findChildren(QLabel)
        if label.isVisible()
        and label.wordWrap()
        and label.text()
        and label.height() < label.heightForWidth(label.width())
    ]


def open_wizard(qtbot, window):
    """Press S on the selected pair and return the merge wizard."""
    from PySide6.QtCore import Qt

    window.queue_view.table.setFocus()
    qtbot.keyClick(window.queue_view.table, Qt.Key.Key_S)
    assert window.wizard is not None
    return window.wizard


def change_a_field(wizard):
    """On the reconcile page, pick the other record's value for one text field."""
    page = wizard.pages[wizard.step]
    for field, combo in page.combos.items():
        if field != "patient_phone_numbers" and combo.count() >= 2:
            index = 1 if combo.currentIndex() == 0 else 0
            value = combo.itemData(index)
            if value in (None, ""):
                continue
            combo.setCurrentIndex(index)
            return field, value
    return None, None


def drive_to_ready(qtbot, wizard, *, change: bool = True):
    """Click through compare, survivor, reconcile (changing a field) and review to READY."""
    from PySide6.QtCore import Qt

    from desktop.merge import Step

    chosen = (None, None)
    for expected in (Step.COMPARE, Step.CHOOSE_SURVIVOR, Step.RECONCILE, Step.REVIEW):
        assert wizard.step is expected, wizard.status.text()
        if expected is Step.RECONCILE and change:
            chosen = change_a_field(wizard)
        qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.READY, wizard.status.text()
    return chosen


def watch_main_windows(monkeypatch) -> dict:
    """Make the app's main window note itself in the returned dict (``"window"``) and, each
    time its queue loads, how many rows it holds (``"rows"``)."""
    from desktop.ui import app as app_module

    seen: dict = {}
    original = app_module.MainWindow

    class Watched(original):  # type: ignore[misc, valid-type]
        def __init__(self, ctx):
            super().__init__(ctx)
            seen["window"] = self
            self.queue_loaded.connect(self._note)

        def _note(self) -> None:
            seen["rows"] = self.queue_model.total()

    monkeypatch.setattr(app_module, "MainWindow", Watched)
    return seen


def run_until_closed(qtbot, seen: dict) -> int:
    """In place of the app's event loop: wait for the watched window's queue and sync, note
    its title (``"title"``), close it."""
    window = seen["window"]
    qtbot.waitUntil(lambda: seen.get("rows", 0) > 0, timeout=60_000)
    qtbot.waitUntil(lambda: not window.sync_panel.is_busy(), timeout=60_000)
    seen["title"] = window.windowTitle()
    window.close()
    return 0


def open_settings_page(qtbot, dialog, widget) -> None:
    """Click the Settings dialog's tab whose page holds ``widget``, as the person would."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QTabWidget

    pages = dialog.findChild(QTabWidget)
    index = next(i for i in range(pages.count()) if pages.widget(i).isAncestorOf(widget))
    bar = pages.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(index).center())
    qtbot.waitUntil(widget.isVisible)


def assert_status_fits_beside_intake(qtbot, window, said: str) -> None:
    """In a window 1280 pixels wide, beside a clinic's first new patients' intake rate, the
    status bar's ``said`` shows whole (a long message ran past the rate, cut off)."""
    from desktop.intake import IntakeCounts, IntakeReport

    window.resize(1280, 800)
    window.watch_desk.show_intake(IntakeReport(IntakeCounts(2, 0), (), {}, 0.03, 50))
    qtbot.waitUntil(lambda: window.width() == 1280)
    bar, rate = window.statusBar(), window.watch_desk.intake_label
    qtbot.waitUntil(lambda: rate.width() >= rate.sizeHint().width())
    room = bar.width() - rate.width() - 16  # the status bar's own margins
    assert bar.fontMetrics().horizontalAdvance(said) <= room, (rate.text(), bar.width())


def label_reads(label) -> str:
    """What a person reads in a QLabel: its text as Qt renders it (rich text as plain words,
    so "&gt;" reads as ">" there and stays "&gt;" in a plain-text label)."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import Qt as GuiQt  # Qt::mightBeRichText lives in QtGui
    from PySide6.QtGui import QTextDocumentFragment

    text, form = label.text(), label.textFormat()
    rich = form == Qt.TextFormat.RichText or (
        form == Qt.TextFormat.AutoText and GuiQt.mightBeRichText(text)
    )
    return QTextDocumentFragment.fromHtml(text).toPlainText() if rich else text


def clashing_keys(window) -> list[tuple[str, list[str]]]:
    """Alt+letter keys that more than one shown, enabled control of ``window`` underlines:
    buttons and boxes, labels that name a field, and tabs. Qt then only moves the focus
    between them, and the person's key does nothing."""
    import re
    from collections import defaultdict

    from PySide6.QtWidgets import QAbstractButton, QLabel, QTabBar

    texts = [
        w.text() for w in window.findChildren(QAbstractButton) if w.isVisible() and w.isEnabled()
    ]
    texts += [
        w.text() for w in window.findChildren(QLabel) if w.isVisible() and w.buddy() is not None
    ]
    for bar in window.findChildren(QTabBar):
        if bar.isVisible():
            texts += [bar.tabText(i) for i in range(bar.count()) if bar.isTabEnabled(i)]
    by_key: dict[str, list[str]] = defaultdict(list)
    for text in texts:
        if match := re.search(r"&([^&])", text):
            by_key[match.group(1).lower()].append(text)
    return [(key, found) for key, found in by_key.items() if len(found) > 1]


def menu_action(window, menu: str, words: str):
    """The action of the main window's ``menu`` whose text holds ``words``."""
    found = next(a for a in window.menuBar().actions() if a.text() == menu)
    return next(a for a in found.menu().actions() if words in a.text())


def open_apply_all(qtbot, window):
    """Queue > Apply all ready plans…, as the person picks it; the dialog, shown."""
    menu_action(window, "&Queue", "Apply all").trigger()
    dialog = window.apply_all_dialog
    qtbot.waitExposed(dialog)
    return dialog


def apply_all_one_update_dropped(qtbot, desk, sim, plans: int = 2):
    """Plan ``plans`` merges, then Queue > Apply all ready plans…, the second plan's update
    not sticking (Cliniko answers 200 and changes nothing): the first waits for its merge in
    Cliniko, a second stays to apply. Returns the window and the Apply all dialog, done."""
    from PySide6.QtCore import Qt

    with desk_cache(desk) as cache:
        ready_plans(cache, plans, sim)
    patches = iter(range(100))
    sim._api.silent_write_drop = lambda: next(patches) == 1
    window = desk.open()
    dialog = open_apply_all(qtbot, window)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.walk_button.isEnabled(), timeout=30_000)
    return window, dialog
