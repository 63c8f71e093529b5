"""The watch's settings in the settings dialog, and the tray icon that keeps it going after the
window is closed (or, where the desktop has no tray, plain words instead of the option).

Offscreen (and under Xvfb) there is no tray: the tests that need one say the desktop has one
through :func:`desktop.ui.tray.tray_available`; the icon, its menu and its signals are Qt's own.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from ui_helpers import open_settings_page

from desktop.config import load_settings
from desktop.store.queue import ordered
from desktop.ui import tray
from tests.ui.test_watch_desk import _action, _interval, _known, _phone_copy

# Offscreen Qt has no tray window to follow: its one complaint when an icon is made anyway.
NO_TRAY_WINDOW = r"No such signal QPlatformNativeInterface::systemTrayWindowChanged"


@pytest.fixture
def with_tray(monkeypatch):
    """A desktop that shows tray icons."""
    monkeypatch.setattr(tray, "tray_available", lambda: True)


def _settings_dialog(qtbot, window):
    _action(window, "Settings…").trigger()
    dialog = window.settings_dialog
    qtbot.waitExposed(dialog)
    return dialog


def _save(qtbot, dialog) -> None:
    save = dialog.findChild(QDialogButtonBox).button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)


def _type_into(qtbot, box, text: str) -> None:
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), text)


@pytest.mark.qt_log_ignore(NO_TRAY_WINDOW)
def test_the_watch_settings_are_saved_and_used(qtbot, desk, sim, with_tray) -> None:
    window = desk.open()
    dialog = _settings_dialog(qtbot, window)
    assert dialog.watch_every.value() == 15 and not dialog.watch_in_tray.isChecked()
    assert dialog.intake_threshold.value() == 3.0 and dialog.intake_minimum.value() == 50
    open_settings_page(qtbot, dialog, dialog.watch_every)
    _type_into(qtbot, dialog.watch_every, "5")
    qtbot.mouseClick(dialog.watch_in_tray, Qt.MouseButton.LeftButton)
    _type_into(qtbot, dialog.intake_minimum, "1")
    _save(qtbot, dialog)

    saved = load_settings(desk.data_dir)
    assert saved.watch_every_minutes == 5 and saved.watch_in_tray
    assert saved.intake_alarm_minimum == 1 and saved.intake_alarm_threshold == 0.03
    desk_watch = window.watch_desk
    assert desk_watch.tray_action.isChecked(), "the Watch menu shows the same choice"

    _interval(qtbot, window)  # the baseline
    _phone_copy(sim, _known(sim))
    report = _interval(qtbot, window)
    assert report.next_in == 5 * 60 and desk_watch.timer.interval() == 5 * 60_000
    # One new patient, arrived as a duplicate: from a minimum of 1 that is an alarm.
    assert report.intake.alarm and report.intake.minimum == 1
    assert desk_watch.intake_label.text().endswith("arrived as duplicates — alarm")
    qtbot.waitUntil(lambda: not window.ctx.workers.is_running("queue"))
    desk_watch.quit()


def test_too_few_new_patients_are_not_shown_as_a_rate(qtbot, desk, sim) -> None:
    window = desk.open()
    _interval(qtbot, window)
    _phone_copy(sim, _known(sim))
    _interval(qtbot, window)
    label = window.watch_desk.intake_label.text()
    assert label == "Intake, 30 days: 1 new patient, too few to judge"
    assert "(judged from 50 new patients on)" in window.watch_desk.intake_label.toolTip()


@pytest.mark.qt_log_ignore(NO_TRAY_WINDOW)
def test_closed_to_the_tray_the_watch_goes_on_and_the_tray_menu_works(
    qtbot, desk, sim, with_tray
) -> None:
    window = desk.open()
    desk_watch = window.watch_desk
    _action(window, "Keep watching from the tray after closing").trigger()
    assert load_settings(desk.data_dir).watch_in_tray
    _interval(qtbot, window)  # the baseline

    window.close()
    assert not window.isVisible() and desk_watch.tray is not None
    assert desk_watch.timer.isActive(), "the next interval is still due"
    assert not QApplication.quitOnLastWindowClosed()
    known = _known(sim, 2)
    made = _phone_copy(sim, known)
    report = _interval(qtbot, window)  # as the timer starts it
    assert any(p.new_id == made["id"] for p in report.new_pairs)
    icon = desk_watch.tray.icon
    assert icon.isVisible() and icon.toolTip().startswith("1 new likely duplicate")

    key = ordered(made["id"], known["id"])
    qtbot.waitUntil(lambda: window.queue_model.find(key) is not None)
    icon.messageClicked.emit()  # the person clicks the notification
    assert window.isVisible()
    shown = {window.queue_model.row_at(i).key for i in range(window.queue_model.row_total())}
    assert key in shown and len(shown) == len(report.new_pairs)

    window.close()
    assert not window.isVisible()
    desk_watch.tray.open_action.trigger()
    assert window.isVisible()
    window.close()
    desk_watch.tray.quit_action.trigger()
    assert not window.isVisible() and not desk_watch.timer.isActive()
    assert not icon.isVisible() and QApplication.quitOnLastWindowClosed()
    assert not window.ctx.workers.is_running("watch")


def test_with_the_choice_off_closing_the_window_quits(qtbot, desk, with_tray) -> None:
    window = desk.open()
    assert not window.watch_desk.tray_action.isChecked()
    window.close()
    assert not window.isVisible() and not window.watch_desk.timer.isActive()
    assert window.watch_desk.tray is None and QApplication.quitOnLastWindowClosed()


def test_without_a_tray_the_choice_is_not_offered_and_says_why(qtbot, desk) -> None:
    assert not tray.tray_available(), "offscreen Qt has no tray"
    window = desk.open()
    action = window.watch_desk.tray_action
    assert not action.isEnabled() and "no system tray" in action.toolTip()
    assert action.text().endswith("(no tray here)")
    dialog = _settings_dialog(qtbot, window)
    open_settings_page(qtbot, dialog, dialog.watch_in_tray)
    assert not dialog.watch_in_tray.isEnabled() and dialog.no_tray.isVisible()
    assert "no system tray" in dialog.no_tray.text()
    dialog.reject()
    window.close()
    assert not window.isVisible() and window.watch_desk.tray is None


def test_a_new_intake_minimum_is_judged_at_once_and_an_alarm_fits_the_status_bar(
    qtbot, desk, sim
) -> None:
    """A walk lowered the alarm's minimum to 2: the rate still said "(the rate counts from
    50)" until the watch's next look, and the alarm's message then ran under the red rate,
    cut off mid-word."""
    window = desk.open()
    desk_watch = window.watch_desk
    _interval(qtbot, window)  # the baseline
    _phone_copy(sim, _known(sim))
    _interval(qtbot, window)
    assert desk_watch.intake_label.text() == "Intake, 30 days: 1 new patient, too few to judge"
    dialog = _settings_dialog(qtbot, window)
    open_settings_page(qtbot, dialog, dialog.intake_minimum)
    _type_into(qtbot, dialog.intake_minimum, "1")
    _save(qtbot, dialog)
    assert desk_watch.intake_label.text().endswith("arrived as duplicates — alarm")
    _interval(qtbot, window)  # the watch's next look sounds the alarm
    said = window.statusBar().currentMessage()
    assert said == (
        "Checked now: no new duplicates. Intake alarm: see the red rate (or Watch > Today's "
        "digest)."
    ), said
    window.resize(1280, 800)  # the window's size in that walk
    qtbot.waitUntil(lambda: window.width() == 1280)
    bar = window.statusBar()
    room = bar.width() - desk_watch.intake_label.width() - 16
    assert bar.fontMetrics().horizontalAdvance(said) <= room
    desk_watch.quit()
