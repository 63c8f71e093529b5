"""The connect dialog: a good key is checked, shown and kept; a bad key is explained."""

from __future__ import annotations

from PySide6.QtCore import Qt

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


def test_a_malformed_key_is_refused_without_sending(qtbot, sim):
    dialog = ConnectDialog(base_url=sim.base_url)
    qtbot.addWidget(dialog)
    dialog.key_edit.setText("not a key")
    dialog.check()
    qtbot.waitUntil(lambda: dialog.check_button.isEnabled(), timeout=15_000)
    assert "look like a Cliniko API key" in dialog.status_label.text()


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
