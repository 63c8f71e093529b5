"""MergeDesk started while it is already open: the open window comes forward.

The first MergeDesk is the real sample clinic in this process; the second is a real start in
another process, with the keychain's entries of the first, talking over a real local socket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import keyring
import pytest
from PySide6.QtWidgets import QApplication
from ui_helpers import watch_main_windows

# The second start: ``run_demo`` on the same data folder, with a keychain holding what the
# first one's holds (the tests' keychain lives in memory, so it is handed over as JSON).
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
from desktop.ui.app import run_demo
sys.exit(run_demo(Path(sys.argv[1])))
"""


def _second_start(data_dir: Path) -> subprocess.Popen[bytes]:
    secrets = keyring.get_keyring().secrets  # type: ignore[attr-defined]
    handed = json.dumps([[s, u, p] for (s, u), p in secrets.items()])
    env = {**os.environ, "HANDED_SECRETS": handed}
    root = Path(__file__).resolve().parents[2]
    return subprocess.Popen(
        [sys.executable, "-c", SECOND_START, str(data_dir)],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


@pytest.mark.parametrize("away", ["in the tray", "minimised"])
def test_a_second_start_brings_the_open_window_forward(qtbot, data_dir, monkeypatch, away):
    """The icon double-clicked while MergeDesk was open (kept watching in the tray, or
    minimised): the second start said "MergeDesk is already open on this computer ... Close the
    other MergeDesk window" in a box, and the window it meant stayed out of sight."""
    from desktop.ui import app as app_module

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
        second = _second_start(data_dir)
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

    monkeypatch.setattr(QApplication, "exec", first_mergedesk)
    assert app_module.run_demo(data_dir, patients=300) == 0
    code, errors = seen["second"]
    assert code == 0, errors  # ended without a box (its box waits for OK: it would not end)
    assert seen["visible"] and not seen["minimised"]
    assert seen["maximised"]  # as it was, not made small
