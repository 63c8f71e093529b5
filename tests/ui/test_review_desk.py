"""The review desk by keyboard and mouse: focus, undo, buttons, context menu, Help menu."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

from desktop.store.queue import load_decisions


def _decision(window, key):
    return load_decisions(window.ctx.open_reader().db).get(key)


def _events(window) -> list[str]:
    db = window.ctx.open_reader().db
    return [p for (p,) in db.execute("SELECT path FROM audit_log WHERE method = 'EVENT'")]


def _key(qtbot, key) -> None:
    """Press a key where the keyboard focus is (as a person would)."""
    qtbot.keyClick(QApplication.focusWidget(), key)


def test_after_a_sync_the_letter_keys_act_on_the_queue_and_never_type(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    view.search.setFocus()  # where the old window left the keyboard after a sync
    qtbot.waitUntil(view.search.hasFocus)
    with qtbot.waitSignal(window.queue_loaded, timeout=60_000):
        qtbot.mouseClick(window.sync_panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.sync_panel.sync_button.isEnabled(), timeout=30_000)
    assert view.table.hasFocus()
    first = view.current()
    _key(qtbot, Qt.Key.Key_J)
    second = view.current()
    assert second.key != first.key
    _key(qtbot, Qt.Key.Key_K)
    assert view.current().key == first.key
    _key(qtbot, Qt.Key.Key_N)
    assert _decision(window, first.key)[0] == "not_same"
    _key(qtbot, Qt.Key.Key_L)
    assert window.queue_model.find(second.key).status == "later"
    _key(qtbot, Qt.Key.Key_S)
    assert window.wizard is not None
    window.wizard.reject()
    qtbot.waitUntil(lambda: window.wizard is None)
    assert view.search.text() == ""
    assert view.table.hasFocus()


def test_escape_clears_the_search_and_returns_to_the_queue(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    qtbot.keyClick(view.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.search.hasFocus()
    total = view.proxy.rowCount()
    name = view.current().name_a.split()[-1]
    qtbot.keyClicks(view.search, name)  # typing in the search box on purpose is allowed
    assert view.search.text() == name
    assert view.proxy.rowCount() < total
    qtbot.keyClick(view.search, Qt.Key.Key_Escape)
    assert view.search.text() == ""
    assert view.proxy.rowCount() == total
    assert view.table.hasFocus()


def test_undo_of_not_the_same_by_ctrl_z_and_by_the_button(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    shown = view.proxy.rowCount()
    first = view.current()
    qtbot.keyClick(view.table, Qt.Key.Key_N)
    assert view.proxy.rowCount() == shown - 1
    assert window.undo_bar.isVisible() and "Not the same person" in window.undo_bar.label.text()

    qtbot.keyClick(view.table, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert view.proxy.rowCount() == shown
    assert view.current().key == first.key
    assert window.queue_model.find(first.key).status == "new"
    assert _decision(window, first.key) is None
    assert _events(window)[-2:] == [
        f"decided not_same: patients {first.id_a} {first.id_b}",
        f"undid not_same: patients {first.id_a} {first.id_b}",
    ]

    qtbot.keyClick(view.table, Qt.Key.Key_N)
    assert view.proxy.rowCount() == shown - 1
    qtbot.mouseClick(window.undo_bar.button, Qt.MouseButton.LeftButton)
    assert view.proxy.rowCount() == shown
    assert window.queue_model.find(first.key).status == "new"
    assert _events(window)[-1] == f"undid not_same: patients {first.id_a} {first.id_b}"
    assert view.table.hasFocus()
    assert not window.undo_action.isEnabled()


def test_the_compare_view_buttons_decide(qtbot, desk):
    window = desk.open()
    view, compare = window.queue_view, window.compare_view
    first = view.current()
    assert compare.row == first
    qtbot.mouseClick(compare.buttons["later"], Qt.MouseButton.LeftButton)
    assert window.queue_model.find(first.key).status == "later"
    second = view.current()
    assert second.key != first.key and compare.row == second
    qtbot.mouseClick(compare.buttons["not_same"], Qt.MouseButton.LeftButton)
    assert _decision(window, second.key)[0] == "not_same"
    assert view.table.hasFocus()
    qtbot.mouseClick(compare.buttons["same"], Qt.MouseButton.LeftButton)
    assert window.wizard is not None
    window.wizard.reject()
    qtbot.waitUntil(lambda: window.wizard is None)


def test_the_queue_context_menu_acts_on_the_pair_under_the_mouse(qtbot, desk):
    window = desk.open()
    view = window.queue_view
    target = view.model.row_at(2)
    rect = view.table.visualRect(view.proxy.index(2, 2))
    view.table.customContextMenuRequested.emit(rect.center())
    menu = view.context_menu
    qtbot.waitExposed(menu)
    assert view.current().key == target.key
    action = view.actions_by_name["not_same"]
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(action).center())
    assert _decision(window, target.key)[0] == "not_same"
    view.table.customContextMenuRequested.emit(QPoint(5, 5))
    qtbot.waitExposed(menu)
    undo = window.undo_action
    qtbot.mouseClick(menu, Qt.MouseButton.LeftButton, pos=menu.actionGeometry(undo).center())
    assert _decision(window, target.key) is None


def test_the_help_menu_opens_shortcuts_data_folder_and_about(qtbot, desk):
    from desktop import __version__

    window = desk.open()
    help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
    texts = [a.text() for a in help_menu.actions()]
    assert texts == ["&Keyboard shortcuts", "&Where your data is…", "&About MergeDesk"]
    window.help_actions["shortcuts"].trigger()
    qtbot.waitExposed(window.help_dialog)
    assert "Not the same person" in window.help_dialog.text.text()
    window.help_dialog.reject()
    window.help_actions["data"].trigger()
    qtbot.waitExposed(window.help_dialog)
    assert str(desk.data_dir) in window.help_dialog.text.text()
    qtbot.mouseClick(window.help_dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == str(desk.data_dir)
    window.help_dialog.reject()
    window.help_actions["about"].trigger()
    qtbot.waitExposed(window.help_dialog)
    assert __version__ in window.help_dialog.text.text()
    window.help_dialog.reject()
    assert window.queue_view.table.hasFocus()


def test_the_title_names_the_clinic_and_a_long_error_wraps(qtbot, desk):
    window = desk.open()
    assert "Your clinic" not in window.windowTitle()
    assert window.ctx.title in window.windowTitle() and window.ctx.title
    screen = window.screen().availableGeometry().width()
    window.sync_panel.on_failed("Cliniko said no. " * 80, RuntimeError("x"))
    assert window.minimumSizeHint().width() < screen
    assert window.sync_panel.online_label.text() != "● Online"
