"""Tab moves through every control of a window once, and out of its tables: a keyboard walk
found Tab going cell by cell through the merge window's tables (the buttons only reachable by
their Alt letters) and held inside the audit trail's and the incomplete records' tables."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from test_merge_wizard import open_wizard
from ui_helpers import menu_action, pick_pair

from desktop.merge import Step


def tab_stops(qtbot, window: QWidget, start: QWidget, count: int) -> list[str]:
    """The accessible names (else texts) of the widgets Tab reaches from ``start``."""
    window.activateWindow()
    start.setFocus()
    stops = []
    for _ in range(count):
        qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
        widget = window.focusWidget()
        name = widget.accessibleName() or getattr(widget, "text", lambda: "")()
        stops.append(name.replace("&", ""))
    return stops


def test_tab_in_the_merge_window_reaches_each_choice_and_the_buttons(qtbot, desk):
    window = desk.open()
    pick_pair(window)
    wizard = open_wizard(qtbot, window)
    compare = tab_stops(qtbot, wizard, wizard.stack.currentWidget().findChild(QWidget), 4)
    assert "Same person — continue" in compare, compare

    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.CHOOSE_SURVIVOR  # the keyboard starts on the record checked
    page = wizard.survivor_page
    assert wizard.focusWidget() is page.buttons[wizard.flow.suggested_survivor()]
    qtbot.mouseClick(wizard.primary, Qt.MouseButton.LeftButton)
    assert wizard.step is Step.RECONCILE
    page = wizard.pages[Step.RECONCILE]
    assert wizard.focusWidget() is next(iter(page.combos.values()))  # on the first choice
    stops = tab_stops(qtbot, wizard, page.table, len(page.combos) + 4)
    choices = [combo.accessibleName() for combo in page.combos.values()]
    assert stops[: len(choices)] == choices, stops
    assert "Next" in stops[len(choices) :], stops
    wizard.reject()


def test_tab_leaves_the_incomplete_records_and_audit_trail_tables(qtbot, desk):
    window = desk.open()
    menu_action(window, "&Watch", "Incomplete records").trigger()
    dialog = window.watch_desk.incomplete_dialog
    qtbot.waitUntil(lambda: dialog.model.row_total() > 0, timeout=10_000)
    assert "Close" in tab_stops(qtbot, dialog, dialog.table, 2)
    dialog.reject()

    menu_action(window, "&Reports", "Audit trail").trigger()
    audit = window.audit_dialog
    qtbot.waitUntil(lambda: audit.view is not None, timeout=10_000)
    stops = tab_stops(qtbot, audit, audit.table, 5)
    assert "Export CSV…" in stops and "Show" in stops, stops
    audit.reject()
