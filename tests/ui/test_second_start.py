"""MergeDesk started while it is already open: the open window comes forward.

The first MergeDesk runs in this process (the real sample clinic, or the real welcome dialog);
the second is a real start in another process, with the keychain's entries of the first,
talking over a real local socket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from ui_helpers import watch_main_windows

# The second start: ``run_demo`` or ``run_app`` on the same data folder, with a keychain holding
# what the first one's holds (the tests' keychain lives in memory, so it is handed over as JSON).
SECOND_START = """
import json, os, sys
from pathlib import Path
import keyring
sys.path.insert(0, "tests")
from conftest import MemoryKeyring

handed = MemoryKeyring()
for service, username, password in json.loads(os.environ["HANDED_SECRETS"]):
    handed.set_password(service, username, password)
keyring.set_keyring(handed)
from desktop.ui import app
sys.exit(getattr(app, sys.argv[2])(Path(sys.argv[1])))
"""


def _second_start(data_dir: Path, runs: str = "run_demo") -> subprocess.Popen[bytes]:
    secrets = keyring.get_keyring().secrets  # type: ignore[attr-defined]
    handed = json.dumps([[s, u, p] for (s, u), p in secrets.items()])
    env = {**os.environ, "HANDED_SECRETS": handed}
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", SECOND_START, str(data_dir), runs],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize(
    ("started", "away"),
    [
        ("run_demo", "in the tray"),
        ("run_demo", "minimised"),
        # The app started from its icon, the sample clinic chosen in its welcome dialog: the
        # second start showed the welcome dialog again.
        ("run_app", "in the tray"),
    ],
)
def test_a_second_start_brings_the_open_window_forward(qtbot, data_dir, monkeypatch, started, away):
    """The icon double-clicked while MergeDesk was open (kept watching in the tray, or
    minimised): the second start said "MergeDesk is already open on this computer ... Close the
    other MergeDesk window" in a box, and the window it meant stayed out of sight."""
    from functools import partial

    from desktop.ui import app as app_module
    from desktop.ui.connect_dialog import ConnectDialog

    seen = watch_main_windows(monkeypatch)

    def first_mergedesk(_app: QApplication) -> int:
        window = seen["window"]
        qtbot.waitUntil(lambda: seen.get("rows", 0) > 0, timeout=60_000)
        qtbot.waitUntil(lambda: not window.sync_panel.is_busy(), timeout=60_000)
        window.showMaximized()
        if away == "in the tray":
            window.hide()
        else:
            window.showMinimized()
        qtbot.waitUntil(lambda: not window.isVisible() or window.isMinimized())
        second = _second_start(data_dir, started)
        try:
            # This process's event loop runs meanwhile and answers the second start.
            qtbot.waitUntil(lambda: second.poll() is not None, timeout=60_000)
        finally:
            if second.poll() is None:
                second.kill()
            seen["second"] = (second.wait(), second.stderr.read().decode() if second.stderr else "")
        seen["visible"] = window.isVisible()
        seen["minimised"] = window.isMinimized()
        seen["maximised"] = window.isMaximized()
        window.close()
        return 0

    def try_the_sample_clinic() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, ConnectDialog):  # else the test fails: no window to bring forward
            qtbot.mouseClick(dialog.demo_button, Qt.MouseButton.LeftButton)

    monkeypatch.setattr(QApplication, "exec", first_mergedesk)
    monkeypatch.setattr(app_module, "run_demo", partial(app_module.run_demo, patients=300))
    if started == "run_app":
        QTimer.singleShot(0, try_the_sample_clinic)
    assert getattr(app_module, started)(data_dir) == 0
    code, errors = seen["second"]
    assert code == 0, errors  # ended without a box (its box waits for OK: it would not end)
    assert seen["visible"] and not seen["minimised"]
    assert seen["maximised"]  # as it was, not made small


def test_a_second_start_at_the_welcome_dialog_brings_that_dialog_forward(qtbot, data_dir):
    """The icon double-clicked twice on the first day (nothing seemed to happen, so again): two
    welcome dialogs, one exactly on the other, each asking for the API key. Now the second start
    brings the first one's dialog forward (here from minimised) and ends."""
    from desktop.ui import app as app_module
    from desktop.ui.connect_dialog import ConnectDialog

    seen: dict = {}

    def start_again_then_quit() -> None:
        dialog = QApplication.activeModalWidget()
        if not isinstance(dialog, ConnectDialog):
            seen["second"] = (None, f"no welcome dialog, but {dialog!r}")
            return  # the test fails on what it saw; the dialog is closed below
        dialog.showMinimized()
        qtbot.waitUntil(dialog.isMinimized)
        second = _second_start(data_dir, "run_app")
        try:
            # The dialog's event loop runs meanwhile and answers the second start.
            qtbot.waitUntil(lambda: second.poll() is not None, timeout=30_000)
        except qtbot.TimeoutError:
            second.kill()  # it opened a welcome dialog of its own, which waits for a key
        seen["second"] = (second.wait(), second.stderr.read().decode() if second.stderr else "")
        seen["shown"] = dialog.isVisible() and not dialog.isMinimized()
        qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)

    QTimer.singleShot(0, start_again_then_quit)
    # Whatever went wrong, the test ends. Stopped with the test: left running, it closed the
    # merge window of a GUI test 45 s later (a CI run failed on it).
    guard = QTimer()
    guard.setSingleShot(True)
    guard.timeout.connect(_close_every_dialog)
    guard.start(45_000)
    try:
        assert app_module.run_app(data_dir) == 1  # the first one's Quit
    finally:
        guard.stop()
    code, errors = seen["second"]
    assert code == 0, errors
    assert seen["shown"]


def _close_every_dialog() -> None:
    for _ in range(5):  # a crash window over the welcome dialog, say
        dialog = QApplication.activeModalWidget()
        if dialog is None:
            return
        dialog.close()


def test_listening_ends_quietly_when_the_window_it_was_handed_to_is_gone(qapp, data_dir):
    """The listener is handed to the main window and deleted with it: ending the start (after
    the window's event loop) must not fail on the listener already gone."""
    import shiboken6
    from PySide6.QtCore import QObject

    from desktop.ui.single_instance import (
        answering_later_starts,
        ask_open_window_to_show,
        instance_name,
    )

    with answering_later_starts(data_dir) as requests:
        assert requests is not None
        window = QObject()
        requests.setParent(window)
        shiboken6.delete(window)
    assert not ask_open_window_to_show(instance_name(data_dir), within_ms=500)
