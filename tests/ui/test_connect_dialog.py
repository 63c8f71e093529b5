"""The connect dialog: a good key is checked, shown and kept; a bad key is explained."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from ui_helpers import run_until_closed, watch_main_windows

from desktop import secrets as keychain
from desktop.ui.connect_dialog import ConnectDialog


def test_connecting_with_a_good_key_shows_clinic_and_user_and_stores_it(qtbot, sim):
    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    with qtbot.waitSignal(dialog.connected, timeout=15_000) as blocker:
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    info = blocker.args[0]
    assert info.account_name == "Midland Osteopathy" or info.account_name
    assert info.user_name == "Alex Administrator"
    assert info.account_name in dialog.status_label.text()
    assert dialog.ok_button.isEnabled()
    assert keychain.get_api_key() == sim.api_key


def test_alt_letters_continue_once_the_key_is_checked_and_quit(qtbot, sim):
    """A keyboard walk: Continue and Quit had no Alt letter (only Return and Escape reached
    them), while every other control of the dialog had one."""
    from PySide6.QtWidgets import QApplication, QDialog

    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    with qtbot.waitSignal(dialog.connected, timeout=15_000):
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(dialog.ok_button.isEnabled)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert dialog.result() == QDialog.DialogCode.Accepted

    again = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(again)
    again.open()
    again.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is again)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Q, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: not again.isVisible())
    assert again.result() == QDialog.DialogCode.Rejected


def test_a_rejected_key_is_explained_and_not_stored(qtbot, sim):
    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.open()
    wrong = "MS0xLWRlbW8tc2ltdWxhdG9yWRONG-au1"
    dialog.key_edit.setText(wrong)
    dialog.check()
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=15_000)
    assert "did not accept this API key" in dialog.status_label.text()
    assert not dialog.ok_button.isEnabled()
    assert keychain.api_key_status().state is keychain.KeyringState.NOT_FOUND


def test_a_malformed_key_is_refused_without_sending_and_said_once_in_plain_words(qtbot, sim):
    from ui_helpers import label_reads

    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.keyClicks(dialog.key_edit, "not-a-real-key")
    # As it is typed, the line under the key says so, with ">" (not "&gt;").
    assert "(My info > Manage API keys)" in label_reads(dialog.shard_label)
    qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=15_000)
    status = label_reads(dialog.status_label)
    assert "look like a Cliniko API key" in status
    assert "(My info > Manage API keys)" in status and "&gt;" not in status
    # Said once: the line under the key no longer repeats it.
    assert "look like" not in label_reads(dialog.shard_label)
    assert not dialog.ok_button.isEnabled()
    # Pasting another key: the old key's problem goes; the line under the key speaks again.
    dialog.key_edit.clear()
    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    assert label_reads(dialog.status_label) == ""
    assert "Australia" in label_reads(dialog.shard_label)


def test_a_refused_key_leaves_every_line_of_the_welcome_in_sight(qtbot, sim):
    """The five lines saying a key was refused made the window squeeze its welcome: "…the
    key is kept in your" was its last line, "system keychain. Nothing is sent…" gone."""
    from desktop.simulator import demo_api_key

    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClicks(dialog.key_edit, demo_api_key(2))  # well formed, another clinic's
    qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "did not accept" in dialog.status_label.text(), timeout=15_000)
    for label in (dialog.welcome_label, dialog.intro_label, dialog.status_label):
        assert label.height() >= label.heightForWidth(label.width()), label.accessibleName()


def test_an_unavailable_keychain_is_named_in_plain_words(qtbot, sim, monkeypatch):
    import keyring
    import keyring.backends.fail

    monkeypatch.setattr(keyring, "get_keyring", lambda: keyring.backends.fail.Keyring())
    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    assert "No system keychain was found" in dialog.keychain_label.text()
    dialog.key_edit.setText(sim.api_key)
    dialog.check()
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=15_000)
    assert "could not be saved" in dialog.status_label.text()
    assert not dialog.ok_button.isEnabled()


def test_no_connection_is_explained(qtbot):
    from ui_helpers import closed_port_url

    from desktop.simulator import demo_api_key

    dialog = ConnectDialog(base_url=closed_port_url())
    qtbot.addWidget(dialog)
    dialog.key_edit.setText(demo_api_key(1))
    dialog.check()
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=30_000)
    assert "Can't reach Cliniko" in dialog.status_label.text()
    # Nothing has been saved yet: no promise of work kept or carried on offline.
    assert "offline" not in dialog.status_label.text()


def test_the_welcome_says_what_is_read_and_changed_and_names_the_keys_server(qtbot):
    from desktop.ui.connect_dialog import WRONG_KEY_HELP

    dialog = ConnectDialog(base_url=None)
    qtbot.addWidget(dialog)
    dialog.open()
    words = dialog.welcome_label.text()
    assert "reads your patients" in words and "stays on this computer" in words
    # "My info > Manage API keys" reads as ">", not as a literal "&gt;"
    assert dialog.intro_label.textFormat() == Qt.TextFormat.RichText
    qtbot.keyClicks(dialog.key_edit, "MS0xLWFiY2RlZg-uk2")
    assert "United Kingdom (uk2)" in dialog.shard_label.text()
    dialog.key_edit.setText("abc-def-ghi")
    assert "look like a Cliniko API key" in dialog.shard_label.text()
    assert "the whole key" in WRONG_KEY_HELP
    assert dialog.cancel_button.text() == "&Quit"


def test_a_server_set_in_settings_is_named_instead_of_clinikos(qtbot, sim):
    """With a server in settings.json (the simulator), the dialog names it: it is the one
    the key is checked with, not api.au1.cliniko.com."""
    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    words = dialog.shard_label.text()
    assert sim.base_url in words and "cliniko.com" not in words


def test_a_wrong_key_says_to_copy_the_whole_key(qtbot, sim):
    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.open()
    dialog.key_edit.setText("MS0xLWRlbW8tc2ltdWxhdG9yWRONG-au1")
    qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=15_000)
    assert "including its end" in dialog.status_label.text()


def test_the_sample_clinic_button_opens_the_demo_apart_from_real_data(qtbot, data_dir, monkeypatch):
    from functools import partial

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.paths import cache_path
    from desktop.ui import app as app_module

    seen = watch_main_windows(monkeypatch)

    def press_sample_clinic() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, ConnectDialog)
        seen["dialog"] = dialog.windowTitle()
        qtbot.mouseClick(dialog.demo_button, Qt.MouseButton.LeftButton)

    monkeypatch.setattr(app_module, "run_demo", partial(app_module.run_demo, patients=200))
    monkeypatch.setattr(QApplication, "exec", lambda _app: run_until_closed(qtbot, seen))
    QTimer.singleShot(0, press_sample_clinic)
    assert app_module.run_app(data_dir) == 0
    assert seen["dialog"] == "Welcome to MergeDesk"
    assert seen["rows"] > 0
    assert "(sample data)" in seen["title"] and "Your clinic" not in seen["title"]
    assert cache_path(data_dir / "demo").exists()
    assert not cache_path(data_dir).exists()
    assert keychain.api_key_status(data_dir).state is keychain.KeyringState.NOT_FOUND


def _cache_this_computer_cannot_open(data_dir, sim) -> None:
    """A synced cache whose key the keychain has lost (a reset keychain), and the clinic's API
    key and server saved again, as after connecting anew."""
    import json

    from desktop.store import open_cache

    (data_dir / "settings.json").write_text(json.dumps({"base_url": sim.base_url}))
    open_cache(data_dir).close()
    keychain.delete_cache_key(data_dir)
    keychain.store_api_key(sim.api_key, data_dir)


def _press_in_the_problem_box(qtbot, seen: dict, label: str) -> None:
    from PySide6.QtWidgets import QApplication, QMessageBox

    box = QApplication.activeModalWidget()
    if not isinstance(box, QMessageBox):
        # No box: the test fails on what it saw. An exception here would reach the app's own
        # crash window, which waits for a press that never comes.
        seen["problem"] = f"no message box, but {box!r}"
        return
    seen["problem"] = box.text()
    seen["buttons"] = [b.text() for b in box.buttons()]
    button = next((b for b in box.buttons() if b.text() == label), None)
    if button is None:
        box.done(0)  # the test then fails on the buttons it saw, rather than waiting for ever
        return
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


@pytest.mark.parametrize("demo", [True, False], ids=["sample clinic", "clinic"])
def test_a_second_mergedesk_says_in_a_window_that_one_is_already_open(
    qtbot, data_dir, sim, monkeypatch, demo
):
    """MergeDesk started while a MergeDesk without a window has its cache (a sync from the
    command line): the sample clinic's start printed "already open" on a console the windowed
    app does not have, and ended without a word. (With a window open, that window comes
    forward instead: test_second_start.py.)"""
    import json

    from PySide6.QtCore import QTimer

    from desktop.store import open_cache
    from desktop.ui import app as app_module

    held = data_dir / "demo" if demo else data_dir
    held.mkdir(exist_ok=True)
    (data_dir / "settings.json").write_text(json.dumps({"base_url": sim.base_url}))
    keychain.store_api_key(sim.api_key, data_dir)
    seen: dict = {}
    with open_cache(held):  # the first MergeDesk
        QTimer.singleShot(0, lambda: _press_in_the_problem_box(qtbot, seen, "OK"))
        run = app_module.run_demo if demo else app_module.run_app
        assert run(data_dir) == 2
    assert seen["problem"].startswith("MergeDesk is already open on this computer"), seen


def test_a_cache_this_computer_cannot_open_is_set_aside_for_a_fresh_one(
    qtbot, data_dir, sim, monkeypatch
):
    """The box offers what it says: "Start a fresh cache" keeps the old file aside, makes a
    new cache (synced from Cliniko) whose audit trail begins with the fresh start."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from desktop.audit import verify
    from desktop.store import open_cache
    from desktop.store.audit_log import entry_at
    from desktop.ui import app as app_module

    _cache_this_computer_cannot_open(data_dir, sim)
    seen = watch_main_windows(monkeypatch)
    monkeypatch.setattr(QApplication, "exec", lambda _app: run_until_closed(qtbot, seen))
    QTimer.singleShot(0, lambda: _press_in_the_problem_box(qtbot, seen, "Start a fresh cache"))
    code = app_module.run_app(data_dir)
    assert seen["buttons"] == ["Start a fresh cache", "Quit"]
    assert code == 0
    assert "could not be unlocked" in seen["problem"] or "key is missing" in seen["problem"]
    assert seen["rows"] > 0  # a fresh cache, synced and scanned
    kept = sorted(data_dir.glob("cache.db.unreadable-*"))
    assert [p.name for p in kept if not p.name.endswith(("-wal", "-shm"))]
    with open_cache(data_dir, readonly=True) as cache:
        assert verify(cache.db, cache.audit_seal).ok
        first = entry_at(cache.db.conn, 1)
        assert first is not None and "started a fresh cache" in first["path"]


def test_quitting_at_an_unopenable_cache_leaves_it_where_it_is(qtbot, data_dir, sim, monkeypatch):
    from PySide6.QtCore import QTimer

    from desktop.ui import app as app_module

    _cache_this_computer_cannot_open(data_dir, sim)
    seen: dict = {}
    QTimer.singleShot(0, lambda: _press_in_the_problem_box(qtbot, seen, "Quit"))
    assert app_module.run_app(data_dir) == 2
    assert seen["buttons"] == ["Start a fresh cache", "Quit"]
    assert (data_dir / "cache.db").exists()
    assert not list(data_dir.glob("cache.db.unreadable-*"))
