"""The audit trail screen, opened from the Reports menu, with its real buttons."""

from __future__ import annotations

import csv
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog


def open_audit(desk, qtbot):
    window = desk.open()
    [action] = [a for m in window.menuBar().actions() for a in m.menu().actions()
                if a.text() == "&Audit trail…"]  # fmt: skip
    action.trigger()
    dialog = window.audit_dialog
    qtbot.waitUntil(lambda: dialog.view is not None, timeout=10_000)
    return dialog


def test_the_screen_shows_the_status_the_entries_and_exports_them(
    desk, qtbot, tmp_path, monkeypatch
):
    dialog = open_audit(desk, qtbot)
    count = desk.cache.db.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    assert dialog.status.text().startswith(f"Audit trail intact: {count:,} entries verified.")
    assert dialog.table.rowCount() == count  # the sync was today: inside the last 30 days
    assert dialog.table.item(0, 2).text() == "GET"
    assert f"Audit trail: {count:,} entries" in dialog.head.text()
    # The Cliniko user reads as a name, its id after it ("1 Alex Administrator" looked like
    # a count of one).
    users = {dialog.table.item(r, 5).text() for r in range(count)} - {""}
    assert users and all(u.endswith(")") and " (id " in u for u in users)

    target = tmp_path / "audit.csv"
    offered: list[str] = []

    def save_as(parent, caption, suggested, filters):
        offered.append(suggested)
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_as)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    # Offered in the person's own folder (it was a bare name: the folder the app started in).
    assert Path(offered[0]).is_absolute() and Path(offered[0]).is_relative_to(Path.home())
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == count and rows[0]["seq"] == "1"
    assert any(r["cliniko_user"][:1].isdigit() for r in rows)  # the file keeps what was stored
    assert f"Wrote {count:,} entries" in dialog.note.text()

    # a range before anything happened shows nothing
    dialog.date_to.setDate(dialog.date_to.date().addDays(-60))
    dialog.date_from.setDate(dialog.date_to.date().addDays(-10))
    dialog.view = None
    qtbot.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.view is not None, timeout=10_000)
    assert dialog.table.rowCount() == 0
    assert dialog.note.text().startswith("0 entries from")


def test_a_deleted_entry_shows_in_red_at_the_top(desk, qtbot):
    dialog = open_audit(desk, qtbot)
    desk.cache.conn.execute("DROP TRIGGER audit_log_no_delete")
    desk.cache.conn.execute("DELETE FROM audit_log WHERE seq = 2")
    dialog.view = None
    qtbot.mouseClick(dialog.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.view is not None, timeout=10_000)
    assert dialog.status.text() == (
        "The audit trail has been changed: entry 2 deleted (found at entry 2)."
    )
    assert "b71c1c" in dialog.status.styleSheet()
