"""Settings are saved; the app's entry points start, show the desk and stop cleanly."""

from __future__ import annotations

from PySide6.QtCore import Qt
from ui_helpers import clipped_labels, menu_action, run_until_closed, watch_main_windows

from desktop.config import load_settings
from desktop.ui.settings_dialog import SettingsDialog


def test_settings_default_to_28_an_hour_and_are_saved(qtbot, data_dir):
    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    assert dialog.rate.value() == 28.00
    assert dialog.rate.text() == "$28.00 per hour"  # its unit said (it read a bare "28.00")
    dialog.rate.setValue(31.5)
    dialog.idle.setValue(90)
    dialog.likely.setValue(0.9)
    dialog.possible.setValue(0.4)
    dialog.accept()
    saved = load_settings(data_dir)
    assert (saved.hourly_rate, saved.idle_threshold_seconds) == (31.5, 90)
    assert (saved.likely_threshold, saved.possible_threshold) == (0.9, 0.4)


def test_the_hourly_rate_is_in_the_clinics_currency(qtbot, data_dir, cache_key):
    """A clinic in the UK read its rate as "28.00 per hour" where its labor summary said £."""
    from conftest import Desk
    from ui_helpers import prepare_cache

    from desktop.simulator import Simulator

    with Simulator(size=30, seed=3, country="GB") as sim:
        prepare_cache(sim, data_dir / "cache.db", cache_key)
        desk = Desk(qtbot, data_dir, cache_key, sim.base_url, sim.api_key)
        try:
            window = desk.open()
            menu_action(window, "&File", "Settings").trigger()
            dialog = window.settings_dialog
            qtbot.waitExposed(dialog)
            assert dialog.rate.text() == "£28.00 per hour"
            dialog.reject()
        finally:
            desk.close()


def test_band_thresholds_must_be_in_order(qtbot, data_dir):
    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.likely.setValue(0.3)
    dialog.possible.setValue(0.5)
    dialog.accept()
    assert "below" in dialog.problem.text()
    assert load_settings(data_dir).likely_threshold == 0.95


def test_the_demo_opens_syncs_scans_and_quits_by_itself(qtbot, data_dir, monkeypatch):
    """A large sample clinic (here: from 150 patients) is built behind a window saying so."""
    from PySide6.QtWidgets import QApplication

    from desktop.ui import app as app_module
    from desktop.ui.busy import BusyDialog

    seen = watch_main_windows(monkeypatch)
    monkeypatch.setattr(QApplication, "exec", lambda self: run_until_closed(qtbot, seen))
    monkeypatch.setattr(app_module, "DEMO_BUSY_FROM", 150)
    busy: list[tuple[str, bool]] = []
    show = BusyDialog.show

    def noted_show(dialog: BusyDialog) -> None:
        show(dialog)
        busy.append((dialog.labelText(), dialog.isVisible()))

    monkeypatch.setattr(BusyDialog, "show", noted_show)
    assert app_module.run_demo(data_dir, patients=200, seed=2, quit_after=None) == 0
    assert seen.get("rows", 0) > 0
    text = "Preparing the sample clinic: 200 patients. This takes a few seconds."
    assert busy == [(text, True)]


def test_the_demo_starts_afresh_when_the_keychain_lost_its_key(qtbot, data_dir, monkeypatch):
    """A reset keychain: the demo's cache (the sample clinic only) could no longer be opened,
    and the demo ended on "could not be unlocked ... MergeDesk can start a fresh cache", with
    no way to do so. It now sets the old file aside and starts afresh."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from desktop import secrets as keychain
    from desktop.store import open_cache
    from desktop.ui import app as app_module

    demo_dir = data_dir / "demo"
    demo_dir.mkdir()
    open_cache(demo_dir).close()
    keychain.delete_cache_key(demo_dir)
    seen = watch_main_windows(monkeypatch)
    monkeypatch.setattr(QApplication, "exec", lambda self: run_until_closed(qtbot, seen))
    boxes: list[str] = []

    def close_a_problem_box() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            boxes.append(box.text())
            box.done(0)

    QTimer.singleShot(0, close_a_problem_box)
    code = app_module.run_demo(data_dir, patients=120, seed=2, quit_after=None)
    assert boxes == [] and code == 0, boxes
    assert seen.get("rows", 0) > 0
    assert len(list(demo_dir.glob("cache.db.unreadable-*"))) == 1


def test_the_reports_menu_opens_the_labor_cost_summary(qtbot, desk):
    window = desk.open()
    report_action = next(
        action
        for menu in window.menuBar().actions()
        if menu.text() == "&Reports"
        for action in menu.menu().actions()
    )
    assert report_action.shortcut().toString() == "Ctrl+P"
    report_action.trigger()
    dialog = window.report_dialog
    qtbot.waitExposed(dialog)
    assert dialog.windowTitle() == "Labor-cost summary"
    assert dialog.screen_widget.isVisible()
    dialog.reject()


def test_report_settings_are_saved_and_an_empty_automation_field_stays_empty(qtbot, data_dir):
    from desktop.config import load_settings
    from desktop.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    assert dialog.automation.text() == "Not set"
    dialog.on_cost.setValue(12.5)
    dialog.manual.setValue(20)
    dialog.wall_time.setChecked(True)
    dialog.accept()
    saved = load_settings(data_dir)
    assert saved.on_cost_percent == 12.5
    assert saved.manual_minutes_per_merge == 20
    assert saved.use_wall_time is True
    assert saved.automation_hours_saved_per_month is None


def test_no_text_in_the_settings_dialog_is_cut_off(qtbot, data_dir):
    """The explanations under the integration fields and the tray choice show every line on
    every page, at the size the dialog opens with and when the person makes it narrower."""
    from PySide6.QtWidgets import QTabWidget

    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    pages = dialog.findChild(QTabWidget)
    for narrow in (False, True):
        if narrow:
            dialog.resize(dialog.minimumSizeHint())
        for index in range(pages.count()):
            qtbot.mouseClick(pages.tabBar(), Qt.MouseButton.LeftButton,
                             pos=pages.tabBar().tabRect(index).center())  # fmt: skip
            qtbot.waitUntil(lambda i=index: pages.currentIndex() == i)
            assert clipped_labels(dialog) == [], pages.tabText(index)


def test_every_settings_page_has_keys_of_its_own(qtbot, data_dir):
    """On each page, Alt and a letter reaches one field: no two fields, tabs or buttons shown
    together underline the same letter (two fields of the labor page both took M)."""
    from PySide6.QtWidgets import QTabWidget
    from ui_helpers import clashing_keys

    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    pages = dialog.findChild(QTabWidget)
    for index in range(pages.count()):
        qtbot.mouseClick(pages.tabBar(), Qt.MouseButton.LeftButton,
                         pos=pages.tabBar().tabRect(index).center())  # fmt: skip
        qtbot.waitUntil(lambda i=index: pages.currentIndex() == i)
        assert clashing_keys(dialog) == [], pages.tabText(index)


def test_alt_s_saves_the_settings(qtbot, data_dir):
    """A keyboard walk pressed Alt+S in Settings: nothing happened (Save had no letter)."""
    from PySide6.QtWidgets import QApplication

    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    dialog.rate.setValue(33.25)
    qtbot.keyClick(
        QApplication.focusWidget() or dialog, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier
    )
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert load_settings(data_dir).hourly_rate == 33.25


def test_the_window_opens_as_it_was_left(qtbot, desk) -> None:
    """Size, split and queue column widths come back at the next start (the window opened
    at its default size every time, the queue's columns with it)."""
    window = desk.open()
    window.resize(780, 560)  # within the laptop screen the tests run on, which a restore fits
    qtbot.waitUntil(lambda: window.width() == 780)
    window.splitter.setSizes([500, 270])
    window.queue_view.table.setColumnWidth(0, 120)
    split = window.splitter.sizes()
    desk.close()
    assert (desk.data_dir / "window.ini").exists()

    again = desk.open()
    assert (again.width(), again.height()) == (780, 560)
    assert again.splitter.sizes() == split
    assert again.queue_view.table.columnWidth(0) == 120


def test_the_window_first_opens_within_a_laptop_screen(qtbot, desk) -> None:
    """On a 1366×768 laptop the window opened 800 pixels tall, and the status bar with its
    buttons ("Show them", "Dismiss") was off the foot of the screen."""
    window = desk.open()
    area = window.screen().availableGeometry()
    assert area.height() < 800  # the tests' screen is a laptop's (tests/support)
    assert area.contains(window.frameGeometry()), (window.frameGeometry(), area)
    status = window.statusBar()
    foot = status.mapToGlobal(status.rect().bottomRight())
    assert area.contains(foot)


def test_the_sync_menu_names_ctrl_r_and_ctrl_r_syncs(qtbot, desk) -> None:
    """Sync > Sync now shows its shortcut, as the other menus do, and the key still works."""
    window = desk.open()
    assert menu_action(window, "S&ync", "Sync now").text().endswith("\tCtrl+R")
    with qtbot.waitSignal(window.sync_panel.sync_finished, timeout=60_000):
        qtbot.keyClick(window.queue_view.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
