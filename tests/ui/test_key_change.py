"""A key Cliniko no longer accepts (revoked, or replaced by a new one) is changed in the app:
File > Change Cliniko API key…, checked with Cliniko, and only a key of the cache's clinic."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from ui_helpers import (
    apply_all_one_update_dropped,
    assert_status_fits_beside_intake,
    desk_cache,
    label_reads,
    menu_action,
    ready_plans,
)

from desktop import secrets as keychain
from desktop.simulator import Simulator, demo_api_key

REVOKED = demo_api_key(99)  # well formed; the simulator refuses it as Cliniko refuses a revoked key


def _refused_then_key_dialog(qtbot, window):
    """Sync by its button until Cliniko refuses the key, then open the key dialog from the
    File menu; the dialog, shown."""
    panel = window.sync_panel
    qtbot.mouseClick(panel.sync_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "did not accept" in panel.rate_label.text(), timeout=30_000)
    qtbot.waitUntil(panel.sync_button.isEnabled, timeout=30_000)
    assert panel.online_label.text() == "● Problem"
    menu_action(window, "&File", "Change Cliniko API").trigger()
    dialog = window.key_dialog
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def test_a_refused_key_is_replaced_from_the_file_menu_and_syncing_goes_on(qtbot, desk, sim):
    keychain.store_api_key(REVOKED, desk.data_dir)
    desk.api_key = REVOKED
    window = desk.open()
    panel = window.sync_panel
    dialog = _refused_then_key_dialog(qtbot, window)
    dialog.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is dialog)
    # The words that said the key was refused named where a new one goes.
    assert "File > Change Cliniko API key…" in panel.rate_label.text()
    assert dialog.windowTitle() == "Change the Cliniko API key"
    assert f"A new Cliniko API key for {window.ctx.title}" in label_reads(dialog.welcome_label)
    assert not dialog.demo_button.isVisible()  # no sample clinic in place of this one
    assert dialog.cancel_button.text() == "Cancel"

    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    with qtbot.waitSignal(dialog.connected, timeout=15_000):
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Return)
    assert window.ctx.api_key == sim.api_key  # checked and saved: in use at once
    assert not dialog.cancel_button.isVisible()  # the old key is no longer there to keep
    with qtbot.waitSignal(panel.sync_finished, timeout=30_000):  # Return again: Use this key
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
        said = f"Syncing with {window.ctx.title} using the new key…"
        assert window.statusBar().currentMessage() == said
    assert not dialog.isVisible()
    qtbot.waitUntil(panel.sync_button.isEnabled, timeout=30_000)
    assert window.statusBar().currentMessage() != said  # the work is done: not "Syncing"
    assert panel.online_label.text() == "● Online"
    assert "did not accept" not in panel.rate_label.text()
    assert keychain.get_api_key(desk.data_dir) == sim.api_key  # kept for the next start


def test_a_plan_ready_to_apply_waits_for_a_new_key_while_cliniko_refuses_the_old_one(
    qtbot, desk, sim
):
    """The status bar read "Online. 1 planned merge ready to apply (Queue > Apply all ready
    plans)" beside a refused key, where Apply all could only stop at the first plan."""
    with desk_cache(desk) as cache:
        ready_plans(cache, 1, sim)
    keychain.store_api_key(REVOKED, desk.data_dir)
    desk.api_key = REVOKED
    window = desk.open()
    dialog = _refused_then_key_dialog(qtbot, window)
    assert window.statusBar().currentMessage() == (
        "Cliniko does not accept the API key. 1 planned merge ready to apply once a new key is "
        "in (File > Change Cliniko API key…)."
    )
    qtbot.keyClicks(dialog.key_edit, sim.api_key)
    with qtbot.waitSignal(dialog.connected, timeout=15_000):
        qtbot.mouseClick(dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    said = "Online. 1 planned merge ready to apply (Queue > Apply all ready plans)."
    qtbot.waitUntil(lambda: window.statusBar().currentMessage() == said, timeout=30_000)


@pytest.mark.parametrize(
    ("plans", "refused", "online"),
    [
        (
            2,
            "1 planned merge ready to apply; 1 waits for its merge in Cliniko (both wait for a "
            "new key)",
            "1 planned merge ready to apply; 1 waits for its merge in Cliniko (both in the Queue "
            "menu)",
        ),
        (
            1,
            "1 waits for its merge in Cliniko, checked once a new key is in (File > Change "
            "Cliniko API key…)",
            "1 waits for its merge in Cliniko (Queue > Show merges waiting in Cliniko)",
        ),
    ],
)
def test_merges_waiting_in_cliniko_wait_for_a_new_key_too(qtbot, desk, sim, plans, refused, online):
    """With a merge waiting in Cliniko (and a plan to apply), a refused key read "... (both in
    the Queue menu)" or "(Queue > Show merges waiting in Cliniko)", where checking Cliniko for
    the merge needs a key it accepts."""
    _, dialog = apply_all_one_update_dropped(qtbot, desk, sim, plans)
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    desk.close()
    keychain.store_api_key(REVOKED, desk.data_dir)  # the key is revoked before the next start
    desk.api_key = REVOKED
    window = desk.open()
    key_dialog = _refused_then_key_dialog(qtbot, window)
    said = f"Cliniko does not accept the API key. {refused}."
    assert window.statusBar().currentMessage() == said
    assert_status_fits_beside_intake(qtbot, window, said)
    qtbot.keyClicks(key_dialog.key_edit, sim.api_key)
    with qtbot.waitSignal(key_dialog.connected, timeout=15_000):
        qtbot.mouseClick(key_dialog.check_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(key_dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.statusBar().currentMessage() == f"Online. {online}.", timeout=30_000
    )


def test_a_key_of_another_clinic_is_refused_and_the_old_key_kept(qtbot, desk, sim):
    keychain.store_api_key(sim.api_key, desk.data_dir)
    with Simulator(size=40, seed=8, clinic_name="Harbourside Podiatry") as other:
        # This desk talks to the other clinic's server: Cliniko refuses the cache's key there.
        window = desk.open(base_url=other.base_url)
        dialog = _refused_then_key_dialog(qtbot, window)
        qtbot.keyClicks(dialog.key_edit, other.api_key)
        qtbot.keyClick(dialog.key_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(dialog.check_button.isEnabled, timeout=15_000)
    said = label_reads(dialog.status_label)
    assert f"This cache belongs to the clinic '{window.ctx.title}'" in said
    assert "The key you gave belongs to 'Harbourside Podiatry'" in said
    assert "Paste a key of the first clinic; the key MergeDesk has is kept." in said
    assert not dialog.ok_button.isEnabled()
    assert keychain.get_api_key(desk.data_dir) == sim.api_key
    dialog.reject()


def test_the_sample_clinic_has_no_key_to_change(qtbot, desk):
    window = desk.open(sample=True)
    file_menu = next(a for a in window.menuBar().actions() if a.text() == "&File").menu()
    assert [a.text() for a in file_menu.actions() if "Cliniko API" in a.text()] == []
